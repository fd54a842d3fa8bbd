using System.Globalization;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// Alibaba openb (FGD, ATC'23) pod list → one job per pod. Assumptions, all repeated in
/// <see cref="Trace.Notes"/>:
/// <list type="bullet">
/// <item>submit = <c>creation_time</c> s after the epoch; run time = <c>deletion_time − scheduled_time</c>
/// (the trace's own queueing is not replayed: the replay decides it).</item>
/// <item>Pods without <c>scheduled_time</c> (Pending, 897 in the default file) have no run time: excluded.</item>
/// <item>Resources: <see cref="ResourceRequest.FromTrace"/>(num_gpu, gpu_milli, cpu_milli/1000, memory_mib/1024).</item>
/// <item>No users or labs in the trace: lab = <c>"openb-" + qos</c>, user = lab (one synthetic user per
/// QoS class). QosClass = qos.</item>
/// <item>Priority from QoS: LS 2 &gt; Guaranteed, Burstable 1 &gt; BE 0 (others 0).</item>
/// <item>LS (latency-sensitive) pods are <see cref="JobKind.Service"/>s: the trace's long-lived LS pods are
/// inference servers (SOURCE.md, FGD ATC'23), which lose no work on preemption; every other QoS class is batch,
/// restarting from zero (the trace says nothing of checkpoints).</item>
/// <item>gpu_spec (empty in the default file) becomes the allowed models, canonicalised; reference GPU V100.</item>
/// <item>Fleet: <c>openb_node_list_all_node.csv</c>; G1/G2/G3 (undisclosed) count as V100, RawModel keeps the code.</item>
/// </list>
/// </summary>
internal static class OpenbImporter
{
    public const string NodeListFileName = "openb_node_list_all_node.csv";

    private static readonly string[] Required =
        ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "qos", "creation_time", "deletion_time", "scheduled_time"];

    private static readonly string[] NodeRequired = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];

    /// <summary>Priority of each openb QoS class.</summary>
    public static int PriorityOf(string qos) => qos switch
    {
        "LS" => 2,
        "Guaranteed" or "Burstable" => 1,
        _ => 0,
    };

    public static ImportResult Load(string path, TraceLoadOptions options, BadRowLog log)
    {
        const string Fix = "Fix the value (openb times are whole seconds, resources non-negative integers) or pass --skip-bad-rows.";
        var jobs = new List<JobSpec>(8192);
        var pool = new StringPool();
        var specCache = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var pending = 0;
        var minCreation = long.MaxValue;
        var maxCreation = long.MinValue;
        var minDeletion = long.MaxValue;
        var unknownQos = 0;
        using (var t = CsvTable.Open(path, Required, "openb pod list"))
        {
            int name = t.Index("name"), cpu = t.Index("cpu_milli"), mem = t.Index("memory_mib"), ngpu = t.Index("num_gpu"),
                milli = t.Index("gpu_milli"), qosI = t.Index("qos"), cre = t.Index("creation_time"),
                del = t.Index("deletion_time"), sch = t.Index("scheduled_time"), spec = t.Index("gpu_spec");
            while (t.Reader.Read())
            {
                try
                {
                    t.CheckWidth();
                    var id = t.Raw(name).ToString();
                    if (id.Length == 0) throw t.Error("name", "The pod name is empty.", Fix);
                    var scheduled = t.OptionalSecondsTicks(sch, Fix);
                    var creation = t.SecondsTicks(cre, Fix);
                    if (scheduled is null)
                    {
                        pending++;
                        continue;
                    }

                    var deletion = t.SecondsTicks(del, Fix);
                    if (deletion < scheduled)
                    {
                        throw t.Error("deletion_time", $"deletion_time {t.Raw(del)} is before scheduled_time {t.Raw(sch)}.",
                            "Correct the times: a pod cannot end before it was scheduled.");
                    }

                    var gpus = t.Int(ngpu, Fix);
                    var gpuMilli = t.OptionalInt(milli, Fix) ?? 0;
                    if (gpus < 0) throw t.Error("num_gpu", $"num_gpu {gpus} is negative.", Fix);
                    if (gpuMilli is < 0 or > 1000) throw t.Error("gpu_milli", $"gpu_milli {gpuMilli} is outside 0..1000.", Fix);
                    var cpus = t.Double(cpu, Fix) / 1000.0;
                    var memGiB = t.Double(mem, Fix) / 1024.0;
                    if (cpus < 0) throw t.Error("cpu_milli", "cpu_milli is negative.", Fix);
                    if (memGiB < 0) throw t.Error("memory_mib", "memory_mib is negative.", Fix);
                    var qos = t.String(qosI, pool, "Give the QoS class (LS, BE, Burstable or Guaranteed).");
                    if (qos is not ("LS" or "BE" or "Burstable" or "Guaranteed")) unknownQos++;
                    IReadOnlyList<string> models = [];
                    if (spec >= 0 && !t.Raw(spec).IsEmpty)
                    {
                        var raw = pool.Get(t.Raw(spec));
                        if (!specCache.TryGetValue(raw, out models!))
                        {
                            models = raw.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                .Select(GpuModels.Canonical).Distinct().ToArray();
                            specCache[raw] = models;
                        }
                    }

                    var lab = pool.Get("openb-" + qos);
                    jobs.Add(new JobSpec
                    {
                        Id = id,
                        User = lab,
                        Lab = lab,
                        SubmitTime = options.Epoch.AddTicks(creation),
                        Duration = TimeSpan.FromTicks(deletion - scheduled.Value),
                        Resources = ResourceRequest.FromTrace(gpus, gpuMilli, cpus, memGiB),
                        GpuModels = models,
                        Priority = PriorityOf(qos),
                        QosClass = qos,
                        Kind = qos == "LS" ? JobKind.Service : JobKind.Batch,
                    });
                    minCreation = Math.Min(minCreation, creation);
                    maxCreation = Math.Max(maxCreation, creation);
                    minDeletion = Math.Min(minDeletion, deletion);
                }
                catch (TraceFormatException e) when (log.Skip)
                {
                    log.Add(e);
                }
            }
        }

        var notes = new List<string>
        {
            $"openb: one job per pod; submit = creation_time seconds after the epoch {options.Epoch:yyyy-MM-dd'T'HH:mm'Z'} (the trace's origin is undisclosed); run time = deletion_time − scheduled_time; the trace's own queueing (scheduled − creation) is not replayed.",
            $"{pending} pods never scheduled in the trace (no scheduled_time) have no run time: excluded.",
            "The trace has no users or labs: lab = \"openb-<qos>\" and user = lab (one synthetic user per QoS class).",
            "Priority from QoS class: LS 2 > Guaranteed, Burstable 1 > BE 0.",
            "LS (latency-sensitive) pods are taken as services (inference servers: a preemption loses no served time, only the downtime until a replacement serves); BE, Burstable and Guaranteed pods as batch jobs that restart from zero (the trace has no checkpoint data). This is an assumption from the QoS class: the trace does not label inference and training.",
            $"No per-pod GPU model: run times are taken as measured on {GpuModels.DefaultReference} (the default reference GPU).",
        };
        if (unknownQos > 0) notes.Add($"{unknownQos} jobs have a QoS class other than LS/BE/Burstable/Guaranteed: priority 0.");
        if (jobs.Count > 0)
        {
            var early = jobs.Count(j => (j.SubmitTime - options.Epoch).Ticks < minDeletion);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Submissions span {minCreation / TimeSpan.TicksPerSecond:N0}..{maxCreation / TimeSpan.TicksPerSecond:N0} s, but the pod list is a snapshot of pods alive near its end: {early} jobs were submitted before the first deletion ({minDeletion / TimeSpan.TicksPerSecond:N0} s), so early hours are sparse; replaying by creation_time differs from the FGD paper, which does not replay timestamps."));
        }

        var nodePath = options.NodeListPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", NodeListFileName);
        IReadOnlyList<TraceNode> fleet = [];
        if (File.Exists(nodePath))
        {
            fleet = LoadNodes(nodePath, log, notes);
        }
        else if (options.NodeListPath is not null)
        {
            throw new FileNotFoundException($"Node list not found: {nodePath}", nodePath);
        }
        else
        {
            notes.Add($"No {NodeListFileName} beside the pod list: fleet empty.");
        }

        return new ImportResult(jobs, notes, fleet);
    }

    private static List<TraceNode> LoadNodes(string path, BadRowLog log, List<string> notes)
    {
        const string Fix = "Fix the value (node resources are non-negative integers) or pass --skip-bad-rows.";
        var nodes = new List<TraceNode>(2048);
        var pool = new StringPool();
        var undisclosedNodes = 0;
        var undisclosedGpus = 0;
        using (var t = CsvTable.Open(path, NodeRequired, "openb node list"))
        {
            int sn = t.Index("sn"), cpu = t.Index("cpu_milli"), mem = t.Index("memory_mib"), gpu = t.Index("gpu"), model = t.Index("model");
            while (t.Reader.Read())
            {
                try
                {
                    t.CheckWidth();
                    var id = t.Raw(sn).ToString();
                    if (id.Length == 0) throw t.Error("sn", "The node id is empty.", Fix);
                    var gpus = t.Int(gpu, Fix);
                    if (gpus < 0) throw t.Error("gpu", $"gpu {gpus} is negative.", Fix);
                    var cpus = t.Double(cpu, Fix) / 1000.0;
                    var memGiB = t.Double(mem, Fix) / 1024.0;
                    if (cpus < 0 || memGiB < 0) throw t.Error(cpus < 0 ? "cpu_milli" : "memory_mib", "The value is negative.", Fix);
                    var raw = t.Raw(model).IsEmpty ? null : pool.Get(t.Raw(model));
                    var canonical = raw is null ? null : pool.Get(GpuModels.Canonical(raw));
                    if (raw is "G1" or "G2" or "G3")
                    {
                        undisclosedNodes++;
                        undisclosedGpus += gpus;
                    }

                    nodes.Add(new TraceNode(id, canonical, raw, gpus, cpus, memGiB));
                }
                catch (TraceFormatException e) when (log.Skip)
                {
                    log.Add(e);
                }
            }
        }

        notes.Add($"Fleet: {nodes.Count} nodes, {nodes.Sum(n => n.Gpus)} GPUs from {Path.GetFileName(path)}.");
        if (undisclosedNodes > 0)
        {
            notes.Add($"GPU models G1/G2/G3 are undisclosed internal codes ({undisclosedNodes} nodes, {undisclosedGpus} GPUs): treated as V100; RawModel keeps the code.");
        }

        return nodes;
    }
}
