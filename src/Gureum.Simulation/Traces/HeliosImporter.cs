using System.Globalization;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// SenseTime Helios per-VC per-minute demand → 1-GPU "demand slice" jobs, for autoscaler and
/// demand-level replay (the sequences have no per-job rows, so no JCT can come from them).
/// <para>
/// Demand at minute t is <c>running_gpu_num + pending_gpu_num</c>. When it rises by k, k slices are
/// submitted at t; when it falls by k, the k most recently started open slices end at t (LIFO),
/// which gives each slice its duration; slices still open after the last row end one minute after
/// it (the last row covers its minute). Demand in the first row is submitted at second 0 although
/// it began earlier (left-censored).
/// </para>
/// <para>
/// <c>time</c> is cluster local time without a zone: read as UTC and taken as offsets from the
/// earliest first row over all files (so several VCs stay aligned), placed on the epoch.
/// One lab per VC: lab = user = VC id (the file-name prefix before <c>_cluster_sequence_vc.csv</c>).
/// Slices ask for 1 GPU, 0 CPUs, 0 GiB. No node inventory: fleet empty; VC capacities are in the notes.
/// </para>
/// </summary>
internal static class HeliosImporter
{
    public const string FileSuffix = "cluster_sequence_vc.csv";
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(1);
    private static readonly string[] Required = ["time", "running_gpu_num", "pending_gpu_num"];

    private readonly record struct Point(DateTime Time, int Demand);

    private sealed record Series(string Vc, List<Point> Points, int Capacity);

    public static ImportResult Load(string path, TraceLoadOptions options, BadRowLog log)
    {
        string[] files;
        if (Directory.Exists(path))
        {
            files = Directory.GetFiles(path, "*" + FileSuffix).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
            {
                throw new TraceFormatException(path, 0, null, $"The directory has no *_{FileSuffix} files.",
                    "Point --trace at a Helios *_cluster_sequence_vc.csv file or a folder holding them.");
            }
        }
        else
        {
            files = [path];
        }

        var series = files.Select(f => Read(f, log)).Where(s => s.Points.Count > 0).ToList();
        var notes = new List<string>
        {
            "Helios: per-minute VC demand (running_gpu_num + pending_gpu_num), not jobs. Each GPU of demand is a 1-GPU \"demand slice\" job: a rise of k at minute t submits k slices at t; a fall of k ends the k most recently started slices (LIFO); slices open after the last row end one minute after it. Slice durations are an artefact of LIFO, not job run times: no JCT comparisons.",
            "Slices ask for 1 GPU, 0 CPUs and 0 GiB (the series has no CPU or memory); run times taken as on " + GpuModels.DefaultReference + " (the series names no model).",
        };
        var jobs = new List<JobSpec>();
        if (series.Count == 0) return new ImportResult(jobs, notes, []);

        var origin = series.Min(s => s.Points[0].Time);
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"time is cluster local time (China) without a zone: read as UTC; second 0 = the first row, {origin:yyyy-MM-dd HH:mm}, placed on the epoch {options.Epoch:yyyy-MM-dd'T'HH:mm'Z'}."));
        notes.Add("One lab per VC (lab = user = VC id): " + string.Join(", ", series.Select(s => s.Vc)) + ".");
        notes.Add("No node inventory: fleet empty. VC capacity (max total_gpu_num): " +
                  string.Join(", ", series.Select(s => $"{s.Vc} {s.Capacity} GPUs")) + ".");
        foreach (var s in series)
        {
            var initial = s.Points[0].Demand;
            Convert(s, origin, options.Epoch, jobs);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s.Vc}: {s.Points.Count} minutes; {initial} GPUs of demand at the first minute are submitted at second 0 (left-censored)."));
        }

        return new ImportResult(jobs, notes, []);
    }

    /// <summary>The LIFO conversion of one VC's series into slices.</summary>
    internal static void Convert(string vc, IReadOnlyList<(DateTime Time, int Demand)> points, DateTime origin, DateTimeOffset epoch, List<JobSpec> into) =>
        Convert(new Series(vc, points.Select(p => new Point(p.Time, p.Demand)).ToList(), 0), origin, epoch, into);

    private static void Convert(Series s, DateTime origin, DateTimeOffset epoch, List<JobSpec> into)
    {
        var open = new Stack<(string Id, DateTime Start)>();
        var seq = 0;
        void Close(DateTime end)
        {
            var (id, start) = open.Pop();
            into.Add(new JobSpec
            {
                Id = id,
                User = s.Vc,
                Lab = s.Vc,
                SubmitTime = epoch + (start - origin),
                Duration = end - start,
                Resources = new ResourceRequest(1, 0, 0, 0),
            });
        }

        foreach (var p in s.Points)
        {
            while (open.Count < p.Demand) open.Push(($"{s.Vc}-{seq++:D7}", p.Time));
            while (open.Count > p.Demand) Close(p.Time);
        }

        var endOfSeries = s.Points[^1].Time + Step;
        while (open.Count > 0) Close(endOfSeries);
    }

    private static Series Read(string file, BadRowLog log)
    {
        const string Fix = "Fix the row (time as yyyy-MM-dd HH:mm:ss, increasing; GPU counts non-negative integers) or pass --skip-bad-rows.";
        var name = Path.GetFileName(file);
        var vc = name.EndsWith(FileSuffix, StringComparison.Ordinal) ? name[..^FileSuffix.Length].TrimEnd('_') : Path.GetFileNameWithoutExtension(name);
        if (vc.Length == 0) vc = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) ?? "vc";
        var points = new List<Point>(44_640);
        var capacity = 0;
        using var t = CsvTable.Open(file, Required, "Helios cluster_sequence_vc");
        int time = t.Index("time"), run = t.Index("running_gpu_num"), pend = t.Index("pending_gpu_num"), total = t.Index("total_gpu_num");
        while (t.Reader.Read())
        {
            try
            {
                t.CheckWidth();
                var raw = t.Raw(time);
                if (!DateTime.TryParseExact(raw, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
                    && !DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out at))
                {
                    throw t.Error("time", $"'{raw}' is not a date and time.", Fix);
                }

                if (points.Count > 0 && at <= points[^1].Time)
                {
                    throw t.Error("time", $"{at:yyyy-MM-dd HH:mm:ss} does not come after the previous row ({points[^1].Time:yyyy-MM-dd HH:mm:ss}).", Fix);
                }

                var running = t.Int(run, Fix);
                var pending = t.Int(pend, Fix);
                if (running < 0 || pending < 0) throw t.Error(running < 0 ? "running_gpu_num" : "pending_gpu_num", "The GPU count is negative.", Fix);
                if (total >= 0) capacity = Math.Max(capacity, t.OptionalInt(total, Fix) ?? 0);
                points.Add(new Point(at, running + pending));
            }
            catch (TraceFormatException e) when (log.Skip)
            {
                log.Add(e);
            }
        }

        return new Series(vc, points, capacity);
    }
}
