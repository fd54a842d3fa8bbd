using Gureum.Core.Domain;

namespace Gureum.Prediction.Duration;

/// <summary>
/// The leakage guard every duration predictor shares: observations wait in a queue ordered by
/// their end time and reach the model (<see cref="Apply"/>) only when a prediction is asked at or
/// after that time. Time must not go back: a prediction earlier than one already answered throws,
/// because the model may already have learned from jobs that ended in between.
/// </summary>
public abstract class OnlineDurationPredictor : IDurationPredictor
{
    private readonly PriorityQueue<(JobSpec Spec, TimeSpan Actual, DateTimeOffset EndedAt), (long, long)> _pending = new();
    private long _arrival;
    private DateTimeOffset _now = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract string Version { get; }

    /// <summary>Observations applied so far (all ended at or before the latest prediction time).</summary>
    public int Applied { get; private set; }

    /// <inheritdoc />
    public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (actual < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(actual), actual, "A run time cannot be negative.");
        _pending.Enqueue((spec, actual, endedAt), (endedAt.UtcTicks, _arrival++));
    }

    /// <inheritdoc />
    public Interval PredictSeconds(JobSpec spec, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        AdvanceTo(now);
        var p = Predict(spec, now);
        return new Interval(Math.Max(0, p.Estimate), Math.Max(0, Math.Min(p.Low, p.Estimate)), Math.Max(p.High, p.Estimate));
    }

    /// <summary>Applies every observation that ended at or before <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is before an earlier call's.</exception>
    public void AdvanceTo(DateTimeOffset now)
    {
        if (now < _now) throw new ArgumentOutOfRangeException(nameof(now), now, $"Time went back (last prediction at {_now:O}); a predictor only moves forward.");
        _now = now;
        while (_pending.TryPeek(out var o, out _) && o.EndedAt <= now)
        {
            _pending.Dequeue();
            Apply(o.Spec, o.Actual.TotalSeconds, o.EndedAt);
            Applied++;
        }
    }

    /// <summary>Learns from one finished job; called in end-time order, only for jobs that ended by the current time.</summary>
    protected abstract void Apply(JobSpec spec, double seconds, DateTimeOffset endedAt);

    /// <summary>The prediction from what has been applied.</summary>
    protected abstract Interval Predict(JobSpec spec, DateTimeOffset now);
}
