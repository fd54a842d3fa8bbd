using System.Globalization;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// Gureum's own trace CSV: one job per row, a header row, columns in any order.
/// <list type="table">
/// <listheader><term>column</term><description>meaning</description></listheader>
/// <item><term>job_id</term><description>required, unique</description></item>
/// <item><term>submit_time</term><description>required: seconds from the epoch (≥ 0), or ISO 8601 (UTC unless an offset is given)</description></item>
/// <item><term>duration_s</term><description>required: run time on the reference GPU, seconds ≥ 0</description></item>
/// <item><term>gpus</term><description>required: whole GPUs per node ≥ 0 (0 with gpu_milli for a fraction)</description></item>
/// <item><term>gpu_milli</term><description>optional: 1..999 milli-GPU share for gpus 0 or 1; 1000 or empty = whole</description></item>
/// <item><term>gpu_model</term><description>optional: allowed models, separated by <c>|</c>; each must be a <see cref="GpuModels.Speed"/> model</description></item>
/// <item><term>cpus, mem_gib</term><description>required: vCPUs and GiB per node, ≥ 0</description></item>
/// <item><term>user, lab</term><description>required</description></item>
/// <item><term>priority</term><description>optional integer, default 0</description></item>
/// <item><term>checkpoint_interval_s, time_limit_s</term><description>optional seconds</description></item>
/// <item><term>project, nodes, spot, deadline_s, name, reference_gpu, qos_class, kind</term><description>optional extra
/// columns: project (default "default"), nodes (≥ 1, default 1), spot (auto|always|never), deadline_s (seconds from
/// the epoch or ISO 8601), name, reference_gpu (default V100), qos_class, kind (batch|service, default batch;
/// see <see cref="JobKind"/>)</description></item>
/// </list>
/// Only the required columns must be present in the header; the optional ones may be absent or empty.
/// An unknown column is an error (it is usually a typo). Live-only fields (zones, image, command) are not part of it.
/// </summary>
public static class GureumCsv
{
    /// <summary>Columns that must be in the header.</summary>
    public static IReadOnlyList<string> RequiredColumns { get; } =
        ["job_id", "submit_time", "duration_s", "gpus", "cpus", "mem_gib", "user", "lab"];

    /// <summary>Every column, in the order <see cref="Write(TextWriter, IEnumerable{JobSpec}, DateTimeOffset)"/> writes them.</summary>
    public static IReadOnlyList<string> AllColumns { get; } =
    [
        "job_id", "submit_time", "duration_s", "gpus", "gpu_milli", "gpu_model", "cpus", "mem_gib", "user", "lab",
        "priority", "checkpoint_interval_s", "time_limit_s", "project", "nodes", "spot", "deadline_s", "name",
        "reference_gpu", "qos_class", "kind",
    ];

    /// <summary>
    /// Writes <paramref name="jobs"/> (streamed; a million rows hold nothing in memory) with times as
    /// seconds from <paramref name="epoch"/>, exact to the tick, so <see cref="TraceLoader.Load"/> with the
    /// same epoch reads back equal jobs. Returns the number of rows written.
    /// </summary>
    /// <exception cref="ArgumentException">A job has no <see cref="JobSpec.Duration"/>.</exception>
    public static long Write(TextWriter writer, IEnumerable<JobSpec> jobs, DateTimeOffset epoch) =>
        Write(writer, jobs, epoch, null);

    /// <summary>As <see cref="Write(TextWriter, IEnumerable{JobSpec}, DateTimeOffset)"/>, calling <paramref name="progress"/> after every 100,000 rows.</summary>
    public static long Write(TextWriter writer, IEnumerable<JobSpec> jobs, DateTimeOffset epoch, Action<long>? progress)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(jobs);
        writer.Write(string.Join(',', AllColumns));
        writer.Write('\n');
        long n = 0;
        var inv = CultureInfo.InvariantCulture;
        foreach (var j in jobs)
        {
            var duration = j.Duration ?? throw new ArgumentException($"Job '{j.Id}' has no duration; a trace row needs one.", nameof(jobs));
            var r = j.Resources;
            CsvWriter.WriteField(writer, j.Id);
            writer.Write(',');
            writer.Write(Time(j.SubmitTime, epoch));
            writer.Write(',');
            writer.Write(CsvWriter.Seconds(duration.Ticks));
            writer.Write(',');
            writer.Write(r.Gpus.ToString(inv));
            writer.Write(',');
            if (r.GpuMilli > 0) writer.Write(r.GpuMilli.ToString(inv));
            writer.Write(',');
            CsvWriter.WriteField(writer, j.GpuModels.Count == 0 ? null : string.Join('|', j.GpuModels));
            writer.Write(',');
            writer.Write(r.Cpus.ToString(inv));
            writer.Write(',');
            writer.Write(r.MemoryGiB.ToString(inv));
            writer.Write(',');
            CsvWriter.WriteField(writer, j.User);
            writer.Write(',');
            CsvWriter.WriteField(writer, j.Lab);
            writer.Write(',');
            writer.Write(j.Priority.ToString(inv));
            writer.Write(',');
            if (j.CheckpointInterval is { } c) writer.Write(CsvWriter.Seconds(c.Ticks));
            writer.Write(',');
            if (j.TimeLimit is { } tl) writer.Write(CsvWriter.Seconds(tl.Ticks));
            writer.Write(',');
            CsvWriter.WriteField(writer, j.Project);
            writer.Write(',');
            writer.Write(r.Nodes.ToString(inv));
            writer.Write(',');
            writer.Write(j.Spot switch { SpotPreference.Always => "always", SpotPreference.Never => "never", _ => "auto" });
            writer.Write(',');
            if (j.Deadline is { } d) writer.Write(Time(d, epoch));
            writer.Write(',');
            CsvWriter.WriteField(writer, j.Name);
            writer.Write(',');
            CsvWriter.WriteField(writer, j.ReferenceGpu);
            writer.Write(',');
            CsvWriter.WriteField(writer, j.QosClass);
            writer.Write(',');
            writer.Write(j.Kind == JobKind.Service ? "service" : "batch");
            writer.Write('\n');
            n++;
            if (progress is not null && n % 100_000 == 0) progress(n);
        }

        return n;
    }

    /// <summary>Seconds from the epoch when not before it; otherwise an ISO 8601 UTC time (the reader refuses negative seconds).</summary>
    private static string Time(DateTimeOffset t, DateTimeOffset epoch)
    {
        var ticks = (t - epoch).Ticks;
        return ticks >= 0 ? CsvWriter.Seconds(ticks) : t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
    }

    internal static ImportResult Load(string path, TraceLoadOptions options, BadRowLog log)
    {
        var jobs = new List<JobSpec>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var pool = new StringPool();
        var models = new ModelResolver(pool);
        var epoch = options.Epoch;
        using (var t = CsvTable.Open(path, RequiredColumns, "Gureum CSV"))
        {
            CheckHeader(t);
            int C(string name) => t.Index(name);
            int id = C("job_id"), submit = C("submit_time"), dur = C("duration_s"), gpus = C("gpus"), milli = C("gpu_milli"),
                model = C("gpu_model"), cpus = C("cpus"), mem = C("mem_gib"), user = C("user"), lab = C("lab"),
                prio = C("priority"), ckpt = C("checkpoint_interval_s"), limit = C("time_limit_s"), project = C("project"),
                nodes = C("nodes"), spot = C("spot"), deadline = C("deadline_s"), name = C("name"), refGpu = C("reference_gpu"),
                qos = C("qos_class"), kind = C("kind");
            while (t.Reader.Read())
            {
                try
                {
                    t.CheckWidth();
                    var jobId = t.Raw(id).ToString();
                    if (jobId.Length == 0) throw t.Error("job_id", "The job id is empty.", "Give every job a unique id.");
                    if (ids.TryGetValue(jobId, out var firstLine))
                    {
                        throw t.Error("job_id", $"Duplicate job id '{jobId}' (first on line {firstLine}).", "Give every job a unique id.");
                    }

                    var submitAt = ReadTime(t, submit, epoch) ?? throw t.Error("submit_time", "The value is empty.", TimeFix);
                    var duration = NonNegativeSeconds(t, dur) ?? throw t.Error("duration_s", "The value is empty.", "Give the run time in seconds.");
                    var g = t.Int(gpus, "Give whole GPUs per node (0 for CPU-only or a fractional share).");
                    if (g < 0) throw t.Error("gpus", $"gpus {g} is negative.", "Give 0 or more GPUs.");
                    var m = milli >= 0 ? t.OptionalInt(milli, MilliFix) ?? 0 : 0;
                    if (m is < 0 or > 1000) throw t.Error("gpu_milli", $"gpu_milli {m} is outside 0..1000.", MilliFix);
                    if (g > 1 && m is > 0 and < 1000) throw t.Error("gpu_milli", $"gpu_milli {m} with gpus {g}: a share applies only to one GPU.", MilliFix);
                    var c = t.Double(cpus, "Give vCPUs per node.");
                    if (c < 0) throw t.Error("cpus", "cpus is negative.", "Give 0 or more vCPUs.");
                    var memGiB = t.Double(mem, "Give memory per node in GiB.");
                    if (memGiB < 0) throw t.Error("mem_gib", "mem_gib is negative.", "Give 0 or more GiB.");
                    var n = nodes >= 0 ? t.OptionalInt(nodes, "Give the node count (1 or more).") ?? 1 : 1;
                    if (n < 1) throw t.Error("nodes", $"nodes {n} is less than 1.", "Give the node count (1 or more).");
                    var job = new JobSpec
                    {
                        Id = jobId,
                        User = t.String(user, pool, "Give the submitting user."),
                        Lab = t.String(lab, pool, "Give the user's lab."),
                        SubmitTime = submitAt,
                        Duration = duration,
                        Resources = ResourceRequest.FromTrace(g, m, c, memGiB, n),
                        GpuModels = model >= 0 ? models.List(t, model) : [],
                        Priority = prio >= 0 ? t.OptionalInt(prio, "Give an integer priority or leave it empty (0).") ?? 0 : 0,
                        CheckpointInterval = ckpt >= 0 ? NonNegativeSeconds(t, ckpt) : null,
                        TimeLimit = limit >= 0 ? NonNegativeSeconds(t, limit) : null,
                        Project = project >= 0 && !t.Raw(project).IsEmpty ? pool.Get(t.Raw(project)) : "default",
                        Spot = spot >= 0 ? Spot(t, spot) : SpotPreference.Auto,
                        Deadline = deadline >= 0 ? ReadTime(t, deadline, epoch) : null,
                        Name = name >= 0 && !t.Raw(name).IsEmpty ? t.Raw(name).ToString() : null,
                        ReferenceGpu = refGpu >= 0 && !t.Raw(refGpu).IsEmpty ? models.One(t, refGpu, t.Raw(refGpu)) : GpuModels.DefaultReference,
                        QosClass = qos >= 0 && !t.Raw(qos).IsEmpty ? pool.Get(t.Raw(qos)) : null,
                        Kind = kind >= 0 ? ReadKind(t, kind) : JobKind.Batch,
                    };
                    ids[jobId] = t.Reader.Line;
                    jobs.Add(job);
                }
                catch (TraceFormatException e) when (log.Skip)
                {
                    log.Add(e);
                }
            }
        }

        var notes = new List<string>
        {
            $"Gureum CSV: relative times are seconds from the epoch {epoch:yyyy-MM-dd'T'HH:mm'Z'}.",
        };
        return new ImportResult(jobs, notes, []);
    }

    private const string TimeFix = "Give seconds from the trace start (≥ 0), e.g. 3600, or an ISO 8601 UTC time, e.g. 2020-01-01T01:00:00Z.";
    private const string MilliFix = "Give gpu_milli within 1..999 for a share of one GPU (with gpus 0 or 1), 1000 or empty for whole GPUs.";

    private static void CheckHeader(CsvTable t)
    {
        var unknown = t.Header.Where(h => !AllColumns.Contains(h)).ToList();
        if (unknown.Count > 0)
        {
            throw new TraceFormatException(t.FileName, 1, unknown[0], $"Unknown column(s): {string.Join(", ", unknown)}.",
                $"Rename or remove them; known columns: {string.Join(", ", AllColumns)}.");
        }

        var duplicate = t.Header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new TraceFormatException(t.FileName, 1, duplicate.Key, $"Column '{duplicate.Key}' appears more than once.", "Keep one copy of each column.");
        }
    }

    private static DateTimeOffset? ReadTime(CsvTable t, int i, DateTimeOffset epoch)
    {
        var s = t.Raw(i);
        if (s.IsEmpty) return null;
        if (s.Contains('T') || s.Contains(':') || s.LastIndexOf('-') > 0)
        {
            if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return at;
            }

            throw t.Error(t.Header[i], $"'{s}' is not an ISO 8601 time.", TimeFix);
        }

        var ticks = t.OptionalSecondsTicks(i, TimeFix) ?? throw t.Error(t.Header[i], $"'{s}' is not a time.", TimeFix);
        if (ticks < 0) throw t.Error(t.Header[i], $"{s} s is before the trace start.", TimeFix);
        return epoch.AddTicks(ticks);
    }

    private static TimeSpan? NonNegativeSeconds(CsvTable t, int i)
    {
        var fix = t.Header[i] == "duration_s" ? "Give duration_s as seconds ≥ 0." : "Give seconds ≥ 0, or leave it empty.";
        var ticks = t.OptionalSecondsTicks(i, fix);
        if (ticks is null) return null;
        if (ticks < 0) throw t.Error(t.Header[i], $"{t.Raw(i)} is negative.", fix);
        return TimeSpan.FromTicks(ticks.Value);
    }

    private static SpotPreference Spot(CsvTable t, int i)
    {
        var s = t.Raw(i);
        if (s.IsEmpty || s.Equals("auto", StringComparison.OrdinalIgnoreCase)) return SpotPreference.Auto;
        if (s.Equals("always", StringComparison.OrdinalIgnoreCase)) return SpotPreference.Always;
        if (s.Equals("never", StringComparison.OrdinalIgnoreCase)) return SpotPreference.Never;
        throw t.Error("spot", $"'{s}' is not a spot preference.", "Give auto, always or never (or leave it empty for auto).");
    }

    private static JobKind ReadKind(CsvTable t, int i)
    {
        var s = t.Raw(i);
        if (s.IsEmpty || s.Equals("batch", StringComparison.OrdinalIgnoreCase)) return JobKind.Batch;
        if (s.Equals("service", StringComparison.OrdinalIgnoreCase)) return JobKind.Service;
        throw t.Error("kind", $"'{s}' is not a job kind.", "Give batch (runs to completion) or service (serves until deleted; a preemption loses no work), or leave it empty for batch.");
    }

    /// <summary>Validates and canonicalises GPU model names, remembering each spelling (Canonical() allocates).</summary>
    private sealed class ModelResolver(StringPool pool)
    {
        private readonly Dictionary<string, string> _canonical = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyList<string>> _lists = new(StringComparer.Ordinal);

        public IReadOnlyList<string> List(CsvTable t, int i)
        {
            var raw = t.Raw(i);
            if (raw.IsEmpty) return [];
            var key = pool.Get(raw);
            if (_lists.TryGetValue(key, out var models)) return models;
            var list = new List<string>();
            foreach (var part in key.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var canonical = One(t, i, part);
                if (!list.Contains(canonical)) list.Add(canonical);
            }

            models = list.ToArray();
            _lists[key] = models;
            return models;
        }

        public string One(CsvTable t, int i, ReadOnlySpan<char> raw)
        {
            var key = pool.Get(raw);
            if (_canonical.TryGetValue(key, out var known)) return known;
            var canonical = GpuModels.Canonical(key);
            if (!GpuModels.Speed.ContainsKey(canonical))
            {
                throw t.Error(t.Header[i], $"Unknown GPU model '{key}'.",
                    $"Use one of: {string.Join(", ", GpuModels.Speed.Keys.Order(StringComparer.Ordinal))} (separate several with |).");
            }

            canonical = pool.Get(canonical);
            _canonical[key] = canonical;
            return canonical;
        }
    }
}
