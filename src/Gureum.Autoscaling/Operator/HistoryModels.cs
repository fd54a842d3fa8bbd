using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Prediction;

namespace Gureum.Autoscaling.Operator;

/// <summary>
/// Job run time from the past only: the running median of finished jobs with the same lab and
/// GPU request (then the same lab, then all jobs), with the 10th–90th percentiles of that group as
/// the interval. Prior with no history: 1 h (0.1–10 h). The <c>gureum</c> policy's predictor before
/// the learned one (<see cref="Gureum.Prediction.Duration.GbmDurationPredictor"/>, now its default);
/// kept as the simple reference it is compared with. Observations are only ever the runs the
/// policy saw end, so nothing from the future leaks in.
/// </summary>
public sealed class HistoryDurationPredictor : IDurationPredictor
{
    private const int MinGroup = 5;
    private readonly Dictionary<string, List<double>> _groups = new(StringComparer.Ordinal);
    private readonly List<double> _all = [];

    /// <inheritdoc />
    public string Name => "duration-history-median";

    /// <inheritdoc />
    public string Version => "1";

    /// <summary>Jobs observed so far.</summary>
    public int Observations => _all.Count;

    /// <inheritdoc />
    public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt)
    {
        var s = Math.Max(1, actual.TotalSeconds);
        Insert(_all, s);
        Insert(Group(LabKey(spec)), s);
        Insert(Group(ShapeKey(spec)), s);
    }

    /// <inheritdoc />
    public Interval PredictSeconds(JobSpec spec, DateTimeOffset now)
    {
        foreach (var key in (ReadOnlySpan<string>)[ShapeKey(spec), LabKey(spec)])
            if (_groups.TryGetValue(key, out var g) && g.Count >= MinGroup) return Of(g);
        return _all.Count >= MinGroup ? Of(_all) : new Interval(3600, 360, 36_000);
    }

    private static string LabKey(JobSpec s) => "lab|" + s.Lab;
    private static string ShapeKey(JobSpec s) => $"shape|{s.Lab}|{s.User}|{s.Resources.MilliGpusPerNode}|{s.Resources.Nodes}|{s.QosClass}";

    private List<double> Group(string key)
    {
        if (!_groups.TryGetValue(key, out var g)) _groups[key] = g = [];
        return g;
    }

    private static void Insert(List<double> sorted, double v)
    {
        var i = sorted.BinarySearch(v);
        sorted.Insert(i < 0 ? ~i : i, v);
    }

    private static Interval Of(List<double> sorted) =>
        new(Quantile(sorted, 0.5), Quantile(sorted, 0.1), Quantile(sorted, 0.9));

    private static double Quantile(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>
/// Spot loss hazard per (zone, GPU model) learned from what the control plane saw: node-hours of
/// spot exposure and the reclaims and failed requests among them, with a Gamma prior of one loss
/// per <see cref="PriorHours"/> node-hours at the pooled rate of all zones (so a new zone starts at
/// what spot has done elsewhere; before any data, one loss per 12 h). A market's published record
/// (<see cref="SetHistory"/>: its reclaims over the hours it was up in a trailing window, as the
/// cloud gives it) adds to the evidence at up to <see cref="HistoryWeightHours"/> node-hours, so a
/// market the policy has not used yet starts at what it has done, not at the pooled rate. Survival
/// over a horizon T is exp(−λT) (a Poisson loss process). Own evidence fades with age
/// (<see cref="HalfLife"/>). Only observations stamped at or before the question's time exist,
/// because the policy only observes snapshots as they come.
/// </summary>
public sealed class SpotHazardEstimator : ISpotRiskPredictor
{
    /// <summary>Weight of the prior in node-hours (one prior loss per this many hours).</summary>
    public const double PriorHours = 12;
    private readonly Dictionary<string, (double Hours, double Losses)> _stats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset At, bool Up)> _lastProbe = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double Hours, double Losses)> _history = new(StringComparer.Ordinal);
    private double _allHours;
    private double _allLosses;
    private DateTimeOffset? _clock;

    /// <summary>Half-life of the evidence: exposure and losses seen this long ago count half. Markets
    /// change, and a zone the policy avoids gains no exposure that could clear it: without fading, a
    /// zone that once reclaimed a thousand nodes minutes after they booted stays over every job's
    /// loss budget for good; with it, that evidence fades toward the pooled rate in a few days.
    /// Default 24 h; null keeps everything.</summary>
    public TimeSpan? HalfLife { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Most node-hours a market's published record (<see cref="SetHistory"/>) counts as: a
    /// longer record counts as this many hours at its own rate. Default 720: a month's record (the
    /// replay's default window) counts in full. Measured against 168 and 336 (session 13): the same
    /// on generated traces within ±0.006 × LB, 0.03–0.1 × LB cheaper on openb, where one 8-GPU pod
    /// predicted to run 305 h then takes a market that never reclaims instead of on demand.</summary>
    public double HistoryWeightHours { get; init; } = 720;

    /// <summary>Changes whenever what the estimator has learned changes (so callers may keep
    /// <see cref="Hazard"/> answers while it stays the same).</summary>
    public long Revision { get; private set; }

    /// <inheritdoc />
    public string Name => "spot-hazard-gamma";

    /// <inheritdoc />
    public string Version => "3";

    /// <summary>Moves the estimator's clock to <paramref name="now"/>: what was learned before fades by
    /// <see cref="HalfLife"/> (an earlier time changes nothing).</summary>
    public void Advance(DateTimeOffset now)
    {
        if (HalfLife is not { } half || _clock is not { } was)
        {
            _clock = now;
            return;
        }
        var hours = (now - was).TotalHours;
        if (hours <= 0) return;
        var f = Math.Pow(0.5, hours / half.TotalHours);
        foreach (var k in _stats.Keys)
        {
            ref var v = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_stats, k);
            v = (v.Hours * f, v.Losses * f);
        }
        _allHours *= f;
        _allLosses *= f;
        _clock = now;
        Revision++;
    }

    /// <summary>Adds <paramref name="hours"/> of spot exposure without a loss for each of
    /// <paramref name="nodes"/> nodes (one addition per node, so the sums are those of one call per node).</summary>
    public void AddExposure(string zone, string? gpuModel, double hours, int nodes = 1)
    {
        var k = Key(zone, gpuModel);
        var (h, l) = _stats.GetValueOrDefault(k);
        for (var i = 0; i < nodes; i++)
        {
            h += hours;
            _allHours += hours;
        }
        _stats[k] = (h, l);
        Revision++;
    }

    /// <summary>Takes a market's published record (it replaces the one before): its reclaims over the
    /// hours it was up, weighed as at most <see cref="HistoryWeightHours"/> node-hours.</summary>
    public void SetHistory(string zone, string? gpuModel, SpotHistory record)
    {
        var w = record.UpHours > HistoryWeightHours ? HistoryWeightHours / record.UpHours : 1;
        _history[Key(zone, gpuModel)] = (record.UpHours * w, record.Reclaims * w);
        Revision++;
    }

    /// <summary>Records one loss (reclaim or failed request).</summary>
    public void AddLoss(string zone, string? gpuModel)
    {
        var k = Key(zone, gpuModel);
        var (h, l) = _stats.GetValueOrDefault(k);
        _stats[k] = (h, l + 1);
        _allLosses++;
        Revision++;
    }

    /// <inheritdoc />
    public void Observe(string zone, string? gpuModel, DateTimeOffset at, bool available)
    {
        Advance(at);
        var k = Key(zone, gpuModel);
        if (_lastProbe.TryGetValue(k, out var last) && last.Up && at > last.At)
        {
            AddExposure(zone, gpuModel, (at - last.At).TotalHours);
            if (!available) AddLoss(zone, gpuModel);
        }
        _lastProbe[k] = (at, available);
    }

    /// <summary>Losses per node-hour (posterior mean).</summary>
    public double Hazard(string zone, string? gpuModel)
    {
        var key = Key(zone, gpuModel);
        var (h, l) = _stats.GetValueOrDefault(key);
        var (rh, rl) = _history.GetValueOrDefault(key);
        var pooled = (_allLosses + 1) / (_allHours + PriorHours);
        return (l + rl + pooled * PriorHours) / (h + rh + PriorHours);
    }

    /// <summary>Node-hours observed and losses for a zone and model, faded by <see cref="HalfLife"/>
    /// to the last <see cref="Advance"/>.</summary>
    public (double Hours, double Losses) Stats(string zone, string? gpuModel) => _stats.GetValueOrDefault(Key(zone, gpuModel));

    /// <inheritdoc />
    public double SurvivalProbability(string zone, string? gpuModel, TimeSpan horizon, DateTimeOffset now) =>
        Math.Exp(-Hazard(zone, gpuModel) * horizon.TotalHours);

    private static string Key(string zone, string? model) => zone + "|" + (model ?? "cpu");
}
