using System.Globalization;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// Alibaba GPU trace v2025 (Prism, NSDI'25) DLRM serving instances → one job per instance.
/// Assumptions, all repeated in <see cref="Trace.Notes"/>:
/// <list type="bullet">
/// <item>NaN/empty <c>creation_time</c> (created before the trace) → submitted at second 0 (left-censored).</item>
/// <item>NaN <c>deletion_time</c> (alive at the end) → runs until the last timestamp in the trace (right-censored).</item>
/// <item>Run time = deletion − scheduled; − creation when scheduled is NaN; from second 0 when both are.</item>
/// <item>Every instance is a <see cref="JobKind.Service"/>: an inference replica whose run time is its
/// lifetime, so a preemption loses no work, only the downtime until a replacement serves.</item>
/// <item>lab = user = <c>app_name</c>; QosClass = <c>role</c> (CN/HN); GPUs = <c>gpu_request</c>;
/// CPUs = <c>cpu_request</c>; memory = <c>memory_request</c> GiB; priority 0; reference GPU V100.</item>
/// <item>rdma, disk and max_instance_per_node are not carried; no fleet.</item>
/// </list>
/// </summary>
internal static class DlrmImporter
{
    private static readonly string[] Required =
        ["instance_sn", "role", "app_name", "cpu_request", "gpu_request", "memory_request", "creation_time", "scheduled_time", "deletion_time"];

    private readonly record struct Row(string Id, string App, string Role, long Submit, long Start, long? End, ResourceRequest Resources, bool LeftCensored);

    public static ImportResult Load(string path, TraceLoadOptions options, BadRowLog log)
    {
        const string Fix = "Fix the value (times are seconds from trace start or empty/NaN; requests non-negative numbers) or pass --skip-bad-rows.";
        var rows = new List<Row>(24_000);
        var pool = new StringPool();
        long lastTimestamp = 0;
        int leftCensored = 0, rightCensored = 0, unscheduled = 0;
        using (var t = CsvTable.Open(path, Required, "DLRM trace"))
        {
            int sn = t.Index("instance_sn"), role = t.Index("role"), app = t.Index("app_name"), cpu = t.Index("cpu_request"),
                gpu = t.Index("gpu_request"), mem = t.Index("memory_request"), cre = t.Index("creation_time"),
                sch = t.Index("scheduled_time"), del = t.Index("deletion_time");
            while (t.Reader.Read())
            {
                try
                {
                    t.CheckWidth();
                    var id = t.Raw(sn).ToString();
                    if (id.Length == 0) throw t.Error("instance_sn", "The instance id is empty.", Fix);
                    var creation = t.OptionalSecondsTicks(cre, Fix);
                    var scheduled = t.OptionalSecondsTicks(sch, Fix);
                    var deletion = t.OptionalSecondsTicks(del, Fix);
                    foreach (var (v, col) in new[] { (creation, "creation_time"), (scheduled, "scheduled_time"), (deletion, "deletion_time") })
                    {
                        if (v < 0) throw t.Error(col, "The time is negative.", Fix);
                    }

                    var submit = creation ?? 0;
                    var start = scheduled ?? submit;
                    if (deletion < start)
                    {
                        throw t.Error("deletion_time", $"deletion_time {t.Raw(del)} is before the instance started ({start / (double)TimeSpan.TicksPerSecond:0.###} s).",
                            "Correct the times: an instance cannot end before it started.");
                    }

                    var gpus = t.Int(gpu, Fix);
                    var cpus = t.Double(cpu, Fix);
                    var memGiB = t.Double(mem, Fix);
                    if (gpus < 0) throw t.Error("gpu_request", "gpu_request is negative.", Fix);
                    if (cpus < 0) throw t.Error("cpu_request", "cpu_request is negative.", Fix);
                    if (memGiB < 0) throw t.Error("memory_request", "memory_request is negative.", Fix);
                    var appName = t.String(app, pool, "Give the app_name.");
                    var roleName = t.String(role, pool, "Give the role (CN or HN).");
                    rows.Add(new Row(id, appName, roleName, submit, start, deletion, ResourceRequest.FromTrace(gpus, 0, cpus, memGiB), creation is null));
                    if (creation is null) leftCensored++;
                    if (deletion is null) rightCensored++;
                    if (scheduled is null && creation is not null) unscheduled++;
                    lastTimestamp = Math.Max(lastTimestamp, Math.Max(creation ?? 0, Math.Max(scheduled ?? 0, deletion ?? 0)));
                }
                catch (TraceFormatException e) when (log.Skip)
                {
                    log.Add(e);
                }
            }
        }

        var jobs = new List<JobSpec>(rows.Count);
        var censored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (r.End is null || r.LeftCensored) censored.Add(r.Id);
            jobs.Add(new JobSpec
            {
                Id = r.Id,
                User = r.App,
                Lab = r.App,
                SubmitTime = options.Epoch.AddTicks(r.Submit),
                Duration = TimeSpan.FromTicks((r.End ?? lastTimestamp) - r.Start),
                Resources = r.Resources,
                QosClass = r.Role,
                Kind = JobKind.Service,
            });
        }

        var last = string.Create(CultureInfo.InvariantCulture, $"{lastTimestamp / (double)TimeSpan.TicksPerSecond:0.###}");
        var notes = new List<string>
        {
            "DLRM: inference serving instances (long-running), not training jobs: use for placement and packing, not for JCT.",
            "Every instance is a service (kind service): a preemption loses no served time; a replacement serves on after the restart overhead, and the instance's end moves by its downtime.",
            $"{leftCensored} instances created before the trace started (creation_time NaN) are submitted at second 0 (left-censored).",
            $"{rightCensored} instances still alive at trace end (deletion_time NaN) run until the last timestamp in the trace, {last} s (right-censored).",
            "Run time = deletion − scheduled (− creation when scheduled is NaN, from second 0 when both are).",
            "No users: lab = user = app_name; QosClass = role (CN/HN); priority 0.",
            $"No GPU model and no node inventory: run times taken as on {GpuModels.DefaultReference}; fleet empty (assume the paper's cluster shape).",
            "rdma_request, disk_request and max_instance_per_node (anti-affinity) are not carried by JobSpec: ignored.",
        };
        if (unscheduled > 0) notes.Add($"{unscheduled} instances have a creation_time but no scheduled_time: taken to start at creation.");
        return new ImportResult(jobs, notes, [], censored);
    }
}
