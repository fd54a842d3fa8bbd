using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Wait;

/// <summary>What the wait-time estimators read from a snapshot for one pending job.</summary>
public static class WaitFeatures
{
    /// <summary>Number of features <see cref="Compute"/> returns.</summary>
    public const int Width = 20;

    /// <summary>
    /// Features of <paramref name="job"/> (pending) in <paramref name="s"/>: its request and
    /// priority; the queue ahead of it (higher priority, or same priority and earlier) by count and
    /// GPUs; free GPUs and the nodes it fits on now; capacity booting; running jobs and GPUs; the
    /// oldest queued job's age; its lab's running GPUs; hour of day.
    /// </summary>
    public static float[] Compute(JobView job, ClusterSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(s);
        var r = job.Spec.Resources;
        var f = new float[Width];
        f[0] = (float)r.TotalGpus;
        f[1] = r.GpuMilli;
        f[2] = (float)r.Cpus;
        f[3] = (float)r.MemoryGiB;
        f[4] = job.Spec.Priority;
        f[5] = r.Nodes;
        int ahead = 0, behind = 0;
        double aheadGpus = 0, oldest = 0;
        foreach (var p in s.Pending)
        {
            if (p.Seq == job.Seq) continue;
            oldest = Math.Max(oldest, (s.Now - p.QueuedSince).TotalSeconds);
            if (p.Spec.Priority > job.Spec.Priority || (p.Spec.Priority == job.Spec.Priority && p.Seq < job.Seq))
            {
                ahead++;
                aheadGpus += p.Spec.Resources.TotalGpus;
            }
            else behind++;
        }

        f[6] = ahead;
        f[7] = (float)aheadGpus;
        f[8] = behind;
        f[9] = s.Pending.Count;
        double free = 0, booting = 0, total = 0;
        int maxFreeWhole = 0, fitNodes = 0;
        foreach (var n in s.Nodes)
        {
            total += n.Offer.GpuCount;
            if (n.IsInFlight) { booting += n.Offer.GpuCount; continue; }
            if (!n.IsSchedulable) continue;
            foreach (var m in n.GpuFreeMilli) free += m / 1000.0;
            var whole = n.FreeWholeGpus;
            maxFreeWhole = Math.Max(maxFreeWhole, whole);
            if (Fits(job.Spec, n)) fitNodes++;
        }

        f[10] = (float)free;
        f[11] = maxFreeWhole;
        f[12] = fitNodes;
        f[13] = (float)booting;
        f[14] = (float)total;
        double runningGpus = 0;
        foreach (var (_, j) in s.Running) runningGpus += j.Spec.Resources.TotalGpus;
        f[15] = s.Running.Count;
        f[16] = (float)runningGpus;
        f[17] = (float)oldest;
        f[18] = s.Labs.TryGetValue(job.Spec.Lab, out var lab) ? lab.RunningMilliGpus / 1000f : 0;
        f[19] = s.Now.UtcDateTime.Hour;
        return f;
    }

    /// <summary>Whether one slice of the job fits on the node's free resources now (any GPU model when the job names none).</summary>
    public static bool Fits(JobSpec spec, Node n)
    {
        var r = spec.Resources;
        if (n.FreeCpus < r.Cpus || n.FreeMemoryGiB < r.MemoryGiB) return false;
        if (spec.GpuModels.Count > 0 && r.MilliGpusPerNode > 0 && !spec.GpuModels.Contains(n.Offer.GpuModel ?? "", StringComparer.OrdinalIgnoreCase)) return false;
        return r.IsFractional ? n.MaxFreeMilli >= r.GpuMilli : n.FreeWholeGpus >= r.Gpus;
    }
}

/// <summary>
/// Baseline: the estimate Slurm's scheduler gives from declared limits. Every running job is
/// assumed to end at its start + its time limit (or <see cref="DefaultTimeLimit"/>, like a
/// partition's DefaultTime, when it declares none); the job starts when enough GPUs have been
/// freed for it and every job ahead of it (cluster-wide GPU counting), or now if it fits and none
/// is ahead. Learns nothing.
/// </summary>
public sealed class SlurmLimitWaitEstimator(TimeSpan? defaultTimeLimit = null) : IWaitEstimator
{
    /// <summary>Limit assumed for jobs that declare none. Default 24 h.</summary>
    public TimeSpan DefaultTimeLimit { get; } = defaultTimeLimit ?? TimeSpan.FromHours(24);

    /// <inheritdoc />
    public string Name => "slurm-limits";

    /// <inheritdoc />
    public string Version => "1";

    /// <inheritdoc />
    public void Observe(JobView job, ClusterSnapshot snapshot, double waitSeconds, DateTimeOffset startedAt)
    {
    }

    /// <inheritdoc />
    public Interval PredictWaitSeconds(JobView job, ClusterSnapshot snapshot)
    {
        var f = WaitFeatures.Compute(job, snapshot);
        if (f[12] > 0 && f[6] == 0) return Interval.Point(0);
        var need = f[0] + f[7];
        double free = f[10];
        if (free >= need && f[6] == 0) return Interval.Point(0);
        var ends = new List<(double At, double Gpus)>(snapshot.Running.Count);
        foreach (var (_, j) in snapshot.Running)
        {
            var started = j.RunStartedAt ?? snapshot.Now;
            var limit = j.Spec.TimeLimit is { } l && l > TimeSpan.Zero ? l : DefaultTimeLimit;
            ends.Add((Math.Max(0, (started + limit - snapshot.Now).TotalSeconds), j.Spec.Resources.TotalGpus));
        }

        ends.Sort((a, b) => a.At.CompareTo(b.At));
        foreach (var (at, gpus) in ends)
        {
            free += gpus;
            if (free >= need) return Interval.Point(at);
        }

        return Interval.Point(ends.Count > 0 ? ends[^1].At : DefaultTimeLimit.TotalSeconds);
    }
}

/// <summary>Settings of <see cref="GbmWaitEstimator"/>.</summary>
public sealed record GbmWaitOptions
{
    /// <summary>Observed waits needed before the first model. Default 200.</summary>
    public int MinTrainRows { get; init; } = 200;
    /// <summary>Retrain after this many more observed waits. Default 500.</summary>
    public int RetrainEvery { get; init; } = 500;
    /// <summary>Train on at most this many most recent waits. Default 8,000.</summary>
    public int MaxTrainRows { get; init; } = 8000;
    /// <summary>Tree ensemble settings.</summary>
    public GbmOptions Gbm { get; init; } = new() { Iterations = 150, LearningRate = 0.05, Leaves = 31, MinRowsPerLeaf = 20 };
}

/// <summary>
/// Wait-time ETA from gradient-boosted trees (ML.NET LightGbm) on <see cref="WaitFeatures"/>,
/// target log(1 + wait seconds), trained online on waits that were over (job started) by the
/// prediction time. Before the first model it answers the median of observed waits (0 with none).
/// Interval: 10th and 90th percentiles of the last out-of-sample log residuals.
/// </summary>
public sealed class GbmWaitEstimator(GbmWaitOptions? options = null) : IWaitEstimator
{
    private readonly GbmWaitOptions _o = options ?? new GbmWaitOptions();
    private readonly PriorityQueue<(float[] Features, double Wait), (long, long)> _pending = new();
    private readonly List<(float[] Features, float Label)> _rows = [];
    private readonly RollingMedian _waits = new(2000);
    private readonly RollingMedian _residuals = new(1000);
    private readonly Dictionary<float[], double> _predictedLog = new(ReferenceEqualityComparer.Instance);
    private long _arrival;
    private DateTimeOffset _now = DateTimeOffset.MinValue;
    private GbmRegressor? _model;
    private int _sinceTrain;

    /// <inheritdoc />
    public string Name => "wait-lgbm";

    /// <inheritdoc />
    public string Version => "1";

    /// <summary>Models trained so far.</summary>
    public int Trainings { get; private set; }

    /// <inheritdoc />
    public void Observe(JobView job, ClusterSnapshot snapshot, double waitSeconds, DateTimeOffset startedAt) =>
        ObserveFeatures(WaitFeatures.Compute(job, snapshot), waitSeconds, startedAt);

    /// <inheritdoc />
    public Interval PredictWaitSeconds(JobView job, ClusterSnapshot snapshot) =>
        PredictFeatures(WaitFeatures.Compute(job, snapshot), snapshot.Now);

    /// <summary>Records a wait from precomputed <see cref="WaitFeatures"/>.</summary>
    public void ObserveFeatures(float[] features, double waitSeconds, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (waitSeconds < 0) throw new ArgumentOutOfRangeException(nameof(waitSeconds), waitSeconds, "A wait cannot be negative.");
        _pending.Enqueue((features, waitSeconds), (startedAt.UtcTicks, _arrival++));
    }

    /// <summary>Predicts from precomputed <see cref="WaitFeatures"/> at <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is before an earlier prediction's.</exception>
    public Interval PredictFeatures(float[] features, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (now < _now) throw new ArgumentOutOfRangeException(nameof(now), now, $"Time went back (last prediction at {_now:O}); an estimator only moves forward.");
        _now = now;
        while (_pending.TryPeek(out _, out var key) && key.Item1 <= now.UtcTicks)
        {
            var (f, wait) = _pending.Dequeue();
            Apply(f, wait);
        }

        var log = _model is not null ? _model.Predict(features) : _waits.Count > 0 ? Math.Log(1 + _waits.Median) : 0;
        _predictedLog[features] = log;
        var lo = _residuals.Count >= 30 ? _residuals.Quantile(0.1) : -1;
        var hi = _residuals.Count >= 30 ? _residuals.Quantile(0.9) : 1;
        var estimate = Math.Max(0, Math.Exp(log) - 1);
        return new Interval(estimate, Math.Max(0, Math.Min(estimate, Math.Exp(log + lo) - 1)), Math.Max(estimate, Math.Exp(log + hi) - 1));
    }

    private void Apply(float[] f, double wait)
    {
        var y = Math.Log(1 + wait);
        if (_predictedLog.Remove(f, out var predicted)) _residuals.Add(y - predicted);
        _rows.Add((f, (float)y));
        _waits.Add(wait);
        if (++_sinceTrain >= (_model is null ? _o.MinTrainRows : _o.RetrainEvery) && _rows.Count >= _o.MinTrainRows)
        {
            var from = Math.Max(0, _rows.Count - _o.MaxTrainRows);
            _model = GbmRegressor.Train(_rows.Skip(from).Select(r => r.Features).ToList(), _rows.Skip(from).Select(r => r.Label).ToList(), _o.Gbm);
            _sinceTrain = 0;
            Trainings++;
        }
    }
}
