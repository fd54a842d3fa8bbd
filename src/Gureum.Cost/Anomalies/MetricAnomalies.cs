using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;
using Gureum.Prediction.Anomaly;

namespace Gureum.Cost.Anomalies;

/// <summary>What an hourly anomaly series measures.</summary>
public enum AnomalyMetric
{
    /// <summary>Allocated USD per hour of a lab / project / user (<see cref="SpendAnomalies.Hourly"/>).</summary>
    Spend,
    /// <summary>GPU-hours held per hour (the number of GPUs held on average) by a lab / project / user.</summary>
    GpuHours,
    /// <summary>vCPU-hours held per hour by a lab / project / user.</summary>
    CpuHours,
    /// <summary>Node-hours billed per hour (nodes up on average) in a pool (offer and market).</summary>
    NodeHours,
    /// <summary>GPU-hours a pool billed in the hour that no job held: paid-for, unused GPUs.</summary>
    IdleGpuHours,
}

/// <summary>Whether a metric's series are per tenant (lab, project, user) or per pool of nodes.</summary>
public enum AnomalySubject
{
    /// <summary>Keys are labs, lab/project or lab/user.</summary>
    Tenant,
    /// <summary>Keys are pools: <c>offer/market</c>.</summary>
    Pool,
}

/// <summary>One hour of one key's series.</summary>
/// <param name="Hour">Start of the UTC hour.</param>
/// <param name="Value">The metric's value in that hour (see <see cref="MetricAnomalies.Unit"/>).</param>
public readonly record struct MetricPoint(DateTimeOffset Hour, double Value);

/// <summary>An hour the detector flagged.</summary>
/// <param name="Metric">What the series measures.</param>
/// <param name="Key">Lab (lab/project, lab/user) or pool (offer/market).</param>
/// <param name="Hour">Start of the UTC hour.</param>
/// <param name="Value">The value in that hour.</param>
/// <param name="Score">Detector score in [0, 1]; flagged at ≥ the threshold.</param>
/// <param name="Median">Median value of the 24 hours before (0 for the first hour), for context.</param>
public sealed record MetricAnomaly(AnomalyMetric Metric, string Key, DateTimeOffset Hour, double Value, double Score, double Median);

/// <summary>A node's billed span, enough for the pool metrics.</summary>
/// <param name="NodeId">Node id (matches <see cref="UsageRecord.NodeId"/>).</param>
/// <param name="Pool">Pool key: <c>offer/market</c> (<see cref="MetricAnomalies.PoolOf"/>).</param>
/// <param name="GpuCount">GPUs of the node.</param>
/// <param name="Start">Billing start.</param>
/// <param name="End">Billing end (start + billed seconds, billing minimum included).</param>
public sealed record NodeSpan(string NodeId, string Pool, int GpuCount, DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>The span of a metered node bill.</summary>
    public static NodeSpan Of(BilledNode b) => new(b.NodeId, MetricAnomalies.PoolOf(b.Offer.Id, b.Market), b.Offer.GpuCount, b.Start, b.BilledEnd);
}

/// <summary>
/// Streaming anomaly detection on hourly series of spend, usage and node metrics — one code path
/// for all: a series is built per key (zero-filled, one value per UTC hour), scored one hour at a
/// time by the detector used for NAB (<see cref="RobustEnsembleDetector"/> with its default
/// settings, a fresh instance per series, the same for every metric), and hours scoring at least
/// the threshold (<see cref="SpendAnomalies.DefaultThreshold"/> unless given) are flagged. An hour's
/// score depends only on it and the hours before (no look-ahead).
/// </summary>
public static class MetricAnomalies
{
    /// <summary>Every metric, in the order shown to users.</summary>
    public static IReadOnlyList<AnomalyMetric> All { get; } = Enum.GetValues<AnomalyMetric>();

    /// <summary>The metric's name on the command line and in the API: spend, gpu-hours, cpu-hours, node-hours, idle-gpu-hours.</summary>
    public static string Name(AnomalyMetric metric) => metric switch
    {
        AnomalyMetric.Spend => "spend",
        AnomalyMetric.GpuHours => "gpu-hours",
        AnomalyMetric.CpuHours => "cpu-hours",
        AnomalyMetric.NodeHours => "node-hours",
        _ => "idle-gpu-hours",
    };

    /// <summary>The metric named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static AnomalyMetric? Parse(string? name) =>
        All.Cast<AnomalyMetric?>().FirstOrDefault(m => string.Equals(Name(m!.Value), name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The names of every metric, comma-separated (for messages).</summary>
    public static string Names => string.Join(", ", All.Select(Name));

    /// <summary>Unit of one hour's value.</summary>
    public static string Unit(AnomalyMetric metric) => metric switch
    {
        AnomalyMetric.Spend => "USD",
        AnomalyMetric.GpuHours => "GPU-hours",
        AnomalyMetric.CpuHours => "vCPU-hours",
        AnomalyMetric.NodeHours => "node-hours",
        _ => "idle GPU-hours",
    };

    /// <summary>Whether the metric's keys are tenants or pools.</summary>
    public static AnomalySubject SubjectOf(AnomalyMetric metric) => metric is AnomalyMetric.NodeHours or AnomalyMetric.IdleGpuHours ? AnomalySubject.Pool : AnomalySubject.Tenant;

    /// <summary>Pool key of an offer and market: <c>offer/market</c>, e.g. <c>aws:us-east-1:use1-az1:g4dn.xlarge/spot</c>.</summary>
    public static string PoolOf(string offerId, Market market) => $"{offerId}/{(market == Market.Spot ? "spot" : "on-demand")}";

    /// <summary>
    /// The tenant key of a usage record for a grouping (<c>lab</c>, <c>project</c>, <c>user</c>), the
    /// same keys as the spend series (<see cref="TenantKeyOfLine"/>); null for another grouping.
    /// </summary>
    public static Func<UsageRecord, string>? TenantKeyOfUsage(string grouping) =>
        TenantKey(grouping) is { } key ? u => key(u.Lab, u.Project, u.User) : null;

    /// <summary>The tenant key of a cost line for a grouping (<c>lab</c>, <c>project</c>, <c>user</c>); null for another grouping.</summary>
    public static Func<CostLine, string>? TenantKeyOfLine(string grouping) =>
        TenantKey(grouping) is { } key ? l => key(l.Lab, l.Project, l.User) : null;

    /// <summary>Key from (lab, project, user) for a tenant grouping: <c>lab</c>, <c>lab/project</c> or <c>lab/user</c>.</summary>
    private static Func<string, string, string, string>? TenantKey(string grouping) => grouping.ToLowerInvariant() switch
    {
        "lab" => (lab, _, _) => lab,
        "project" => (lab, project, _) => $"{lab}/{project}",
        "user" => (lab, _, user) => $"{lab}/{user}",
        _ => null,
    };

    /// <summary>
    /// The hourly series of <paramref name="metric"/> over [<paramref name="from"/>, <paramref name="to"/>)
    /// (from rounded down to its hour), one per key, zero-filled. Tenant metrics are keyed by
    /// <paramref name="grouping"/> (lab, project, user; spend from <paramref name="lines"/>, usage
    /// metrics from <paramref name="usage"/>); pool metrics by pool (<see cref="PoolOf"/>) from
    /// <paramref name="nodes"/> and, for the idle GPU share, the GPUs <paramref name="usage"/> held on
    /// them. Throws <see cref="ArgumentException"/> for a grouping the metric does not have.
    /// </summary>
    public static IReadOnlyDictionary<string, MetricPoint[]> Hourly(AnomalyMetric metric, string grouping, IEnumerable<CostLine> lines,
        IReadOnlyList<UsageRecord> usage, IReadOnlyList<NodeSpan> nodes, DateTimeOffset from, DateTimeOffset to)
    {
        if (SubjectOf(metric) == AnomalySubject.Tenant && TenantKeyOfUsage(grouping) is null)
            throw new ArgumentException($"'{grouping}' is not a grouping of {Name(metric)}: use lab, project or user.", nameof(grouping));
        if (SubjectOf(metric) == AnomalySubject.Pool && !string.Equals(grouping, "pool", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{grouping}' is not a grouping of {Name(metric)}: its series are per pool (offer/market).", nameof(grouping));
        switch (metric)
        {
            case AnomalyMetric.Spend:
                return SpendAnomalies.Hourly(lines, usage, TenantKeyOfLine(grouping)!, from, to)
                    .ToDictionary(kv => kv.Key, kv => kv.Value.Select(p => new MetricPoint(p.Hour, (double)p.Usd)).ToArray(), StringComparer.Ordinal);
            case AnomalyMetric.GpuHours or AnomalyMetric.CpuHours:
            {
                var key = TenantKeyOfUsage(grouping)!;
                var gpu = metric == AnomalyMetric.GpuHours;
                var sums = new HourGrid(from, to);
                foreach (var u in usage)
                {
                    var per = gpu ? u.MilliGpus / 1000.0 : u.Cpus;
                    if (per > 0) sums.Spread(key(u), u.Start, u.End, per / 3600);
                }
                return sums.Series();
            }
            case AnomalyMetric.NodeHours:
            {
                var sums = new HourGrid(from, to);
                foreach (var n in nodes) sums.Spread(n.Pool, n.Start, n.End, 1.0 / 3600);
                return sums.Series();
            }
            default:
            {
                // GPU-seconds billed and held per pool and hour; idle = billed − held, held capped at
                // billed (a record outside its node's bill is not counted).
                var billed = new HourGrid(from, to);
                var held = new HourGrid(from, to);
                var byId = new Dictionary<string, NodeSpan>(StringComparer.Ordinal);
                foreach (var n in nodes.Where(n => n.GpuCount > 0))
                {
                    byId[n.NodeId] = n;
                    billed.Spread(n.Pool, n.Start, n.End, n.GpuCount / 3600.0);
                }
                foreach (var u in usage)
                {
                    if (u.MilliGpus <= 0 || !byId.TryGetValue(u.NodeId, out var n)) continue;
                    var a = u.Start > n.Start ? u.Start : n.Start;
                    var b = u.End < n.End ? u.End : n.End;
                    held.Spread(n.Pool, a, b, u.MilliGpus / 1000.0 / 3600);
                }
                return billed.Minus(held);
            }
        }
    }

    /// <summary>
    /// Scores a series one hour at a time with a fresh detector (no look-ahead: an hour's score
    /// depends only on it and the hours before). Returns every hour's score, in order. The one place
    /// the anomaly detector is run on Gureum's own series.
    /// </summary>
    public static double[] Score(IReadOnlyList<MetricPoint> series, AnomalyDetectorFactory? detector = null)
    {
        var d = (detector ?? (() => new RobustEnsembleDetector()))();
        var scores = new double[series.Count];
        for (var i = 0; i < series.Count; i++) scores[i] = d.Score(series[i].Hour, series[i].Value);
        return scores;
    }

    /// <summary>The flagged hours of one key's series (score ≥ <paramref name="threshold"/>), in time order.</summary>
    public static IReadOnlyList<MetricAnomaly> Detect(AnomalyMetric metric, string key, IReadOnlyList<MetricPoint> series,
        double threshold = SpendAnomalies.DefaultThreshold, AnomalyDetectorFactory? detector = null)
    {
        var scores = Score(series, detector);
        var found = new List<MetricAnomaly>();
        for (var i = 0; i < series.Count; i++)
        {
            if (scores[i] < threshold) continue;
            var before = new List<double>(24);
            for (var k = Math.Max(0, i - 24); k < i; k++) before.Add(series[k].Value);
            before.Sort();
            var median = before.Count == 0 ? 0 : before[before.Count / 2];
            found.Add(new MetricAnomaly(metric, key, series[i].Hour, Math.Round(series[i].Value, 6), Math.Round(scores[i], 4), Math.Round(median, 6)));
        }
        return found;
    }

    /// <summary><see cref="Detect"/> over every key, flagged hours ordered by time then key.</summary>
    public static IReadOnlyList<MetricAnomaly> DetectAll(AnomalyMetric metric, IReadOnlyDictionary<string, MetricPoint[]> series, double threshold = SpendAnomalies.DefaultThreshold) =>
        series.SelectMany(kv => Detect(metric, kv.Key, kv.Value, threshold)).OrderBy(a => a.Hour).ThenBy(a => a.Key, StringComparer.Ordinal).ToList();

    /// <summary>A value of <paramref name="metric"/> as text with its unit, e.g. <c>$12.40</c>, <c>3.50 GPU-hours</c>.</summary>
    public static string Format(AnomalyMetric metric, double value) => metric switch
    {
        AnomalyMetric.Spend => "$" + value.ToString("F2", CultureInfo.InvariantCulture),
        _ => value.ToString("F2", CultureInfo.InvariantCulture) + " " + Unit(metric),
    };

    /// <summary>Per-key hourly sums over a fixed hour range.</summary>
    private sealed class HourGrid(DateTimeOffset from, DateTimeOffset to)
    {
        private readonly DateTimeOffset _start = SpendAnomalies.Floor(from);
        private readonly int _hours = Math.Max(0, (int)Math.Ceiling((to - SpendAnomalies.Floor(from)).TotalHours));
        private readonly Dictionary<string, double[]> _sums = new(StringComparer.Ordinal);

        /// <summary>Adds <paramref name="perSecond"/> × the seconds of [a, b) falling in each hour to <paramref name="key"/>'s hours.</summary>
        public void Spread(string key, DateTimeOffset a, DateTimeOffset b, double perSecond)
        {
            if (_hours == 0) return;
            if (!_sums.TryGetValue(key, out var s)) _sums[key] = s = new double[_hours];
            var end = _start.AddHours(_hours);
            if (a < _start) a = _start;
            if (b > end) b = end;
            for (var h = SpendAnomalies.Floor(a); h < b; h = h.AddHours(1))
            {
                var lo = a > h ? a : h;
                var hi = b < h.AddHours(1) ? b : h.AddHours(1);
                if (hi > lo) s[(int)Math.Round((h - _start).TotalHours)] += (hi - lo).TotalSeconds * perSecond;
            }
        }

        public IReadOnlyDictionary<string, MetricPoint[]> Series() =>
            _sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => new MetricPoint(_start.AddHours(i), v)).ToArray(), StringComparer.Ordinal);

        /// <summary>Per key and hour, this − part, with part capped at this (so never below 0).</summary>
        public IReadOnlyDictionary<string, MetricPoint[]> Minus(HourGrid part) =>
            _sums.ToDictionary(kv => kv.Key, kv =>
            {
                var p = part._sums.GetValueOrDefault(kv.Key);
                return kv.Value.Select((v, i) => new MetricPoint(_start.AddHours(i), v - Math.Min(v, p?[i] ?? 0))).ToArray();
            }, StringComparer.Ordinal);
    }
}
