using Gureum.Core.Domain;
using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Duration;

/// <summary>Baseline: the median run time of every job that ended before now (10–90% of them as the interval).
/// With no history: <see cref="Prior"/>.</summary>
public sealed class GlobalMedianDurationPredictor : OnlineDurationPredictor
{
    /// <summary>Answer before any job has ended: 600 s.</summary>
    public const double Prior = 600;

    private readonly RollingMedian _all = new(int.MaxValue);

    /// <inheritdoc />
    public override string Name => "global-median";

    /// <inheritdoc />
    public override string Version => "1";

    /// <inheritdoc />
    protected override void Apply(JobSpec spec, double seconds, DateTimeOffset endedAt) => _all.Add(seconds);

    /// <inheritdoc />
    protected override Interval Predict(JobSpec spec, DateTimeOffset now) =>
        _all.Count == 0 ? Interval.Point(Prior) : new Interval(_all.Median, _all.Quantile(0.1), _all.Quantile(0.9));
}

/// <summary>Baseline: the median run time of the same user's past jobs; falls back to the lab's
/// (group's), then to the global median.</summary>
public sealed class UserMedianDurationPredictor : OnlineDurationPredictor
{
    private readonly Dictionary<string, RollingMedian> _user = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RollingMedian> _lab = new(StringComparer.Ordinal);
    private readonly RollingMedian _all = new(int.MaxValue);

    /// <inheritdoc />
    public override string Name => "user-median";

    /// <inheritdoc />
    public override string Version => "1";

    /// <inheritdoc />
    protected override void Apply(JobSpec spec, double seconds, DateTimeOffset endedAt)
    {
        Get(_user, spec.User).Add(seconds);
        Get(_lab, spec.Lab).Add(seconds);
        _all.Add(seconds);
    }

    /// <inheritdoc />
    protected override Interval Predict(JobSpec spec, DateTimeOffset now)
    {
        var w = _user.TryGetValue(spec.User, out var u) && u.Count > 0 ? u
            : _lab.TryGetValue(spec.Lab, out var l) && l.Count > 0 ? l
            : _all;
        return w.Count == 0 ? Interval.Point(GlobalMedianDurationPredictor.Prior) : new Interval(w.Median, w.Quantile(0.1), w.Quantile(0.9));
    }

    private static RollingMedian Get(Dictionary<string, RollingMedian> d, string key)
    {
        if (!d.TryGetValue(key, out var m)) d[key] = m = new RollingMedian(int.MaxValue);
        return m;
    }
}

/// <summary>Baseline: the declared time limit (what Slurm's backfill assumes). Jobs without one
/// get the global median of past jobs; score this baseline only on jobs that declare a limit.</summary>
public sealed class TimeLimitDurationPredictor : OnlineDurationPredictor
{
    private readonly GlobalMedianDurationPredictor _fallback = new();

    /// <inheritdoc />
    public override string Name => "time-limit";

    /// <inheritdoc />
    public override string Version => "1";

    /// <inheritdoc />
    protected override void Apply(JobSpec spec, double seconds, DateTimeOffset endedAt) => _fallback.Observe(spec, TimeSpan.FromSeconds(seconds), endedAt);

    /// <inheritdoc />
    protected override Interval Predict(JobSpec spec, DateTimeOffset now) =>
        spec.TimeLimit is { } limit && limit > TimeSpan.Zero
            ? new Interval(limit.TotalSeconds, 0, limit.TotalSeconds)
            : _fallback.PredictSeconds(spec, now);
}
