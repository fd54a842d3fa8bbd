using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Prediction;

/// <summary>
/// A learned model the operator consults. Every predictor is trained online from history only:
/// a prediction at time <c>now</c> depends on nothing observed after <c>now</c> (observations
/// stamped later are held back until a prediction at or after their time). Implementations are
/// not thread-safe: one control loop (or one replay) owns an instance.
/// </summary>
public interface IPredictor
{
    /// <summary>Stable name, e.g. <c>duration-lgbm</c>; baselines have their own names.</summary>
    string Name { get; }

    /// <summary>Model version; changes whenever features, hyper-parameters or training rules change.</summary>
    string Version { get; }
}

/// <summary>
/// A point estimate with a central prediction interval (<see cref="Low"/> ≤ <see cref="Estimate"/>
/// ≤ <see cref="High"/>; by default the 10th and 90th percentiles, see each predictor's doc).
/// </summary>
public readonly record struct Interval(double Estimate, double Low, double High)
{
    /// <summary>An interval of zero width.</summary>
    public static Interval Point(double value) => new(value, value, value);
}

/// <summary>
/// Run time of a job at submission. <see cref="Observe"/> is called when a job ends (completed
/// or failed; not for cancelled or preempted runs); <see cref="PredictSeconds"/> uses only
/// observations with <c>endedAt ≤ now</c>.
/// </summary>
public interface IDurationPredictor : IPredictor
{
    /// <summary>Records a finished job. May be called out of time order.</summary>
    void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt);

    /// <summary>Predicted run time in seconds on the job's reference GPU, with a 10–90% interval.
    /// Never negative; with no history it returns a documented prior.</summary>
    Interval PredictSeconds(JobSpec spec, DateTimeOffset now);
}

/// <summary>
/// Risk of losing a spot node. <see cref="Observe"/> feeds the market's state as it is seen
/// (one call per probe, reclaim or successful launch); a prediction at <c>now</c> only uses
/// observations stamped at or before <c>now</c>.
/// </summary>
public interface ISpotRiskPredictor : IPredictor
{
    /// <summary>Records that spot capacity of <paramref name="gpuModel"/> (null = CPU) in
    /// <paramref name="zone"/> was available (a node is up / a request was filled) or not at <paramref name="at"/>.</summary>
    void Observe(string zone, string? gpuModel, DateTimeOffset at, bool available);

    /// <summary>Probability in [0, 1] that a spot node of that kind, up at <paramref name="now"/>,
    /// is still up after <paramref name="horizon"/>. Unknown zones get a documented prior.</summary>
    double SurvivalProbability(string zone, string? gpuModel, TimeSpan horizon, DateTimeOffset now);
}

/// <summary>
/// Demand of one pool (GPUs wanted: running + pending) on a regular grid. One instance per pool.
/// </summary>
public interface IDemandForecaster : IPredictor
{
    /// <summary>Time between two points of the series the forecaster expects (e.g. 1 or 5 min).</summary>
    TimeSpan Step { get; }

    /// <summary>Forecast of the value <paramref name="stepsAhead"/> steps after the last point of
    /// <paramref name="history"/> (oldest first, last = now), with a 10–90% interval. Uses nothing
    /// but <paramref name="history"/> and what it was fitted on; refits itself from the history it
    /// is given as that history grows (see the implementation's retraining rule).</summary>
    Interval Forecast(ReadOnlySpan<double> history, int stepsAhead);

    /// <summary>As <see cref="Forecast(ReadOnlySpan{double}, int)"/>, also given the pool's readings
    /// inside the steps when it is read more often than once a step (e.g. per-minute GPU counts behind
    /// 5-minute means): a whole number per step, oldest first, the last one at the end of the last
    /// step. The target is still the step value. Forecasters that do not use readings ignore them.</summary>
    Interval Forecast(ReadOnlySpan<double> history, ReadOnlySpan<double> readings, int stepsAhead) => Forecast(history, stepsAhead);
}

/// <summary>
/// Time until a pending job first starts. <see cref="Observe"/> is called when a job starts, with
/// the snapshot seen at its submission (or at any earlier decision) and the wait it then had.
/// </summary>
public interface IWaitEstimator : IPredictor
{
    /// <summary>Records an observed wait: <paramref name="job"/> and <paramref name="snapshot"/> as
    /// seen when the estimate would have been asked, and the seconds it then waited until its
    /// first start at <paramref name="startedAt"/>.</summary>
    void Observe(JobView job, ClusterSnapshot snapshot, double waitSeconds, DateTimeOffset startedAt);

    /// <summary>Predicted seconds from <c>snapshot.Now</c> until the pending job first starts
    /// (10–90% interval). Only observations with <c>startedAt ≤ snapshot.Now</c> are used.</summary>
    Interval PredictWaitSeconds(JobView job, ClusterSnapshot snapshot);
}
