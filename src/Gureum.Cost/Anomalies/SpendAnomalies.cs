using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Prediction.Anomaly;

namespace Gureum.Cost.Anomalies;

/// <summary>One hour of one key's (lab's, project's, user's) allocated spend.</summary>
/// <param name="Hour">Start of the UTC hour.</param>
/// <param name="Usd">Allocated USD in that hour.</param>
public readonly record struct SpendPoint(DateTimeOffset Hour, decimal Usd);

/// <summary>An hour of spend the detector flagged.</summary>
/// <param name="Key">Lab (or lab/project, lab/user).</param>
/// <param name="Hour">Start of the UTC hour.</param>
/// <param name="Usd">Spend in that hour.</param>
/// <param name="Score">Detector score in [0, 1]; flagged at ≥ the threshold.</param>
/// <param name="MedianUsd">Median hourly spend of the day before (0 during the first day), for context.</param>
public sealed record SpendAnomaly(string Key, DateTimeOffset Hour, decimal Usd, double Score, decimal MedianUsd);

/// <summary>
/// Spend anomaly detection: each key's allocated cost as an hourly series (gaps are hours with no
/// spend, 0), scored one hour at a time by the streaming detector used for NAB
/// (<see cref="RobustEnsembleDetector"/> with its default settings, the same for every series), and
/// flagged when the score reaches <see cref="DefaultThreshold"/>.
/// </summary>
/// <remarks>
/// Pipeline: cost lines (node, UTC day, job) → each line's USD spread over the hours its job held
/// that node that day, in proportion to the seconds held (so Σ hourly = Σ allocated, exactly up to
/// rounding) → zero-filled hourly series per key → detector → hours with score ≥ threshold. Idle
/// cost belongs to the pool, not a lab, and is left out.
/// </remarks>
public static class SpendAnomalies
{
    /// <summary>
    /// Score from which an hour is flagged: 0.1866, the corpus-optimal threshold the NAB protocol
    /// picks for this detector on realAWSCloudwatch (the same in all three profiles; measured with
    /// <c>gureum anomaly nab --data DIR --labels combined_windows_realAWSCloudwatch.json</c>). Taken as
    /// is, not tuned on spend.
    /// </summary>
    public const double DefaultThreshold = 0.1866;

    /// <summary>
    /// Hourly allocated spend per key over [<paramref name="from"/>, <paramref name="to"/>), zero-filled,
    /// in cents: each usage line's USD is spread over the hours its job held the line's node on the
    /// line's day, then the hours are apportioned to cents (Σ hours = Σ allocated, rounded to the cent).
    /// A line whose job has no usage record that day (should not happen) goes to the day's first hour.
    /// </summary>
    public static IReadOnlyDictionary<string, SpendPoint[]> Hourly(IEnumerable<CostLine> lines, IEnumerable<UsageRecord> usage,
        Func<CostLine, string> key, DateTimeOffset from, DateTimeOffset to)
    {
        var start = Floor(from);
        var hours = (int)Math.Ceiling((to - start).TotalHours);
        if (hours <= 0) return new Dictionary<string, SpendPoint[]>(StringComparer.Ordinal);
        var byRun = usage.GroupBy(u => (u.JobId, u.NodeId)).ToDictionary(g => g.Key, g => g.ToList());
        var sums = new Dictionary<string, decimal[]>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (line.Kind != CostKind.Usage || line.AmountUsd == 0) continue;
            var k = key(line);
            if (!sums.TryGetValue(k, out var series)) sums[k] = series = new decimal[hours];
            var dayStart = new DateTimeOffset(line.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var dayEnd = dayStart.AddDays(1);
            var pieces = new List<(int Hour, double Seconds)>();
            double total = 0;
            if (line.JobId is { } job && byRun.TryGetValue((job, line.NodeId), out var runs))
            {
                foreach (var u in runs)
                {
                    var a = u.Start > dayStart ? u.Start : dayStart;
                    var b = u.End < dayEnd ? u.End : dayEnd;
                    for (var h = Floor(a); h < b; h = h.AddHours(1))
                    {
                        var s = ((b < h.AddHours(1) ? b : h.AddHours(1)) - (a > h ? a : h)).TotalSeconds;
                        if (s <= 0) continue;
                        pieces.Add((HourIndex(start, h), s));
                        total += s;
                    }
                }
            }
            if (total <= 0)
            {
                Add(series, HourIndex(start, dayStart), line.AmountUsd);
                continue;
            }
            foreach (var (h, s) in pieces) Add(series, h, line.AmountUsd * (decimal)(s / total));
        }
        // In cents, apportioned as report rows are (largest remainder, so Σ hours = Σ allocated to the
        // cent): a steady job's hours are then equal, not equal but for sub-cent leftovers of the
        // per-day split, which a detector sees as a new maximum of a flat line.
        return sums.ToDictionary(kv => kv.Key, kv =>
        {
            var cents = Reports.CostReport.Apportion(kv.Value.Select(v => v * 100).ToArray(), (long)Math.Round(kv.Value.Sum() * 100, MidpointRounding.AwayFromZero));
            return cents.Select((c, i) => new SpendPoint(start.AddHours(i), c / 100m)).ToArray();
        }, StringComparer.Ordinal);
    }

    private static void Add(decimal[] series, int hour, decimal usd)
    {
        if (hour >= 0 && hour < series.Length) series[hour] += usd;
    }

    private static int HourIndex(DateTimeOffset start, DateTimeOffset hour) => (int)Math.Floor((hour - start).TotalHours);

    /// <summary>Start of the UTC hour of <paramref name="t"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        return new DateTimeOffset(u.Year, u.Month, u.Day, u.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>
    /// Scores a series one hour at a time with a fresh detector (no look-ahead: an hour's score
    /// depends only on it and the hours before): <see cref="MetricAnomalies.Score"/>, the one path
    /// for every metric. Returns every hour's score, in order.
    /// </summary>
    public static double[] Score(IReadOnlyList<SpendPoint> series, AnomalyDetectorFactory? detector = null) =>
        MetricAnomalies.Score(AsMetric(series), detector);

    /// <summary>The flagged hours of one key's series (score ≥ <paramref name="threshold"/>), in time order (<see cref="MetricAnomalies.Detect"/>).</summary>
    public static IReadOnlyList<SpendAnomaly> Detect(string key, IReadOnlyList<SpendPoint> series, double threshold = DefaultThreshold, AnomalyDetectorFactory? detector = null) =>
        MetricAnomalies.Detect(AnomalyMetric.Spend, key, AsMetric(series), threshold, detector).Select(FromMetric).ToList();

    /// <summary>A flagged spend hour in the spend terms of <see cref="SpendAnomaly"/>.</summary>
    public static SpendAnomaly FromMetric(MetricAnomaly a) => new(a.Key, a.Hour, Math.Round((decimal)a.Value, 6), a.Score, Math.Round((decimal)a.Median, 6));

    private static MetricPoint[] AsMetric(IReadOnlyList<SpendPoint> series) => series.Select(p => new MetricPoint(p.Hour, (double)p.Usd)).ToArray();

    /// <summary><see cref="Detect"/> over every key, flagged hours ordered by time then key.</summary>
    public static IReadOnlyList<SpendAnomaly> DetectAll(IReadOnlyDictionary<string, SpendPoint[]> series, double threshold = DefaultThreshold) =>
        series.SelectMany(kv => Detect(kv.Key, kv.Value, threshold)).OrderBy(a => a.Hour).ThenBy(a => a.Key, StringComparer.Ordinal).ToList();
}
