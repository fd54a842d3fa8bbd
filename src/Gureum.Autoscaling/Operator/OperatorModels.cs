using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Prediction;
using Gureum.Prediction.Duration;

namespace Gureum.Autoscaling.Operator;

/// <summary>
/// The predictions the <c>gureum</c> policy decides with, trained online from the snapshots it is
/// shown and nothing else: a job that left the running set without being requeued has ended (its
/// run time on the reference GPU is observed), a spot node that vanished without the policy
/// releasing it was reclaimed, a new spot-trouble stamp is a failed request, and every spot node
/// seen ready adds exposure. Snapshots only hold the past, so no prediction can use the future
/// (the leakage rule of issue 4), in replay and live alike. Not thread-safe: one policy instance
/// per control loop.
/// </summary>
public sealed class OperatorModels(IDurationPredictor? duration = null, SpotHazardEstimator? spot = null)
{
    private readonly Dictionary<long, (JobView Job, string? Model)> _running = [];
    private IReadOnlyList<Node>? _prevNodes;
    private ImmutableSortedDictionary<long, JobView>? _prevRunning;
    private readonly Dictionary<Offer, int> _readySpot = new(ReferenceEqualityComparer.Instance);
    private IReadOnlyList<Node>? _readyCountedIn;
    private bool _startedSince;
    private readonly HashSet<string> _lostKeys = new(StringComparer.Ordinal);
    private readonly HashSet<long> _pendingSeqs = [];
    private readonly List<long> _gone = [];
    private readonly HashSet<string> _releasedByUs = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, DateTimeOffset> _trouble = SpotSignals.Empty.LastTroubleByZoneModel;
    private IReadOnlyDictionary<string, SpotHistory> _history = SpotSignals.Empty.History;
    private readonly Queue<(DateTimeOffset At, int MilliGpus)> _arrivals = new();
    private readonly Dictionary<(int, int), int> _rangeCounts = [];
    private DateTimeOffset _rangeCountsAt;
    private long _maxSeq = -1;
    private DateTimeOffset? _prevNow;
    private readonly Dictionary<long, Interval> _predictions = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<JobSpec, object> _asked = new();
    private readonly Dictionary<long, double> _ranFor = [];
    private DateTimeOffset _predictionsAt;

    /// <summary>Restart overhead assumed when turning an observed run into work (matches the replay default).</summary>
    public TimeSpan RestartOverhead { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Run time on the reference GPU at submit. Default: the learned
    /// <see cref="GbmDurationPredictor"/> (LightGbm), trained online from the runs this instance sees
    /// end; its leakage guard applies a run only once a prediction is asked at or after its end.</summary>
    public IDurationPredictor Duration { get; } = duration ?? new GbmDurationPredictor();

    /// <summary>Whether the runs seen ending are fed to <see cref="Duration"/> (default true). False
    /// when the predictor learns from elsewhere (live: the store's finished jobs, see the server's
    /// DurationModel), so each run is learned once.</summary>
    public bool LearnsDurations { get; init; } = true;
    public SpotHazardEstimator Spot { get; } = spot ?? new SpotHazardEstimator();

    /// <summary>Jobs whose end was observed.</summary>
    public int EndedObserved { get; private set; }

    /// <summary>Spot losses (reclaims and failed requests) observed.</summary>
    public int SpotLossesObserved { get; private set; }

    /// <summary>Predicted run time on the reference GPU (cached per job per decision instant).</summary>
    public Interval PredictSeconds(JobView job, DateTimeOffset now)
    {
        if (_predictionsAt != now) { _predictions.Clear(); _predictionsAt = now; }
        if (!_predictions.TryGetValue(job.Seq, out var p))
        {
            _predictions[job.Seq] = p = Duration.PredictSeconds(job.Spec, now);
            if (!_asked.TryGetValue(job.Spec, out _)) _asked.TryAdd(job.Spec, _asked); // reads take no lock
        }
        return p;
    }

    /// <summary>Whether this spec was asked about before. An online predictor learns from a job's
    /// first answer (its features at that time): asking again later changes nothing it learns.</summary>
    internal bool HasPredicted(JobSpec spec) => _asked.TryGetValue(spec, out _);

    /// <summary>Predicted remaining run time on the reference GPU: the prediction less saved work,
    /// and for a running job, at least the median-residual guess of as long again as it has run.</summary>
    public Interval PredictRemainingSeconds(JobView job, DateTimeOffset now) => PredictRemainingSeconds(job, now, job.WorkSaved);

    /// <summary>Predicted remaining run time on the reference GPU once <paramref name="done"/> of work
    /// (reference time) is done: for a running job, its progress in the current run included.</summary>
    public Interval PredictRemainingSeconds(JobView job, DateTimeOffset now, TimeSpan done)
    {
        var p = PredictSeconds(job, now);
        // A run that was cut short proves the job is at least that long (restarts do not change it).
        var floor = _ranFor.GetValueOrDefault(job.Seq);
        var est = Math.Max(p.Estimate, floor * 2);
        var high = Math.Max(p.High, floor * 4);
        var d = done.TotalSeconds;
        var rem = Math.Max(est - d, Math.Max(60, d * 0.5));
        return new Interval(rem, Math.Max(0, Math.Max(p.Low, floor) - d), Math.Max(rem, high - d));
    }

    /// <summary>GPU-job arrivals per hour over the last hour.</summary>
    public double ArrivalsPerHour(DateTimeOffset now)
    {
        Trim(now);
        return _arrivals.Count;
    }

    /// <summary>Arrivals per hour over the last hour of GPU jobs wanting between
    /// <paramref name="minMilliGpus"/> and <paramref name="maxMilliGpus"/> GPUs per node (milli).</summary>
    public double ArrivalsPerHour(DateTimeOffset now, int minMilliGpus, int maxMilliGpus)
    {
        if (_rangeCountsAt != now) { _rangeCounts.Clear(); _rangeCountsAt = now; }
        if (_rangeCounts.TryGetValue((minMilliGpus, maxMilliGpus), out var cached)) return cached;
        Trim(now);
        var n = 0;
        foreach (var (_, m) in _arrivals) if (m >= minMilliGpus && m <= maxMilliGpus) n++;
        return _rangeCounts[(minMilliGpus, maxMilliGpus)] = n;
    }

    private void Trim(DateTimeOffset now)
    {
        while (_arrivals.Count > 0 && now - _arrivals.Peek().At > TimeSpan.FromHours(1)) _arrivals.Dequeue();
    }

    /// <summary>Nodes the policy itself released (so their disappearance is not a reclaim).</summary>
    public void ReleasedByPolicy(string nodeId) => _releasedByUs.Add(nodeId);

    /// <summary>
    /// Notes the jobs this decision starts (the scheduler's <see cref="StartJob"/> actions), as if
    /// seen running from <paramref name="s"/>'s instant on the slowest GPU they were placed on: a run
    /// that ends before the next decision never shows in a snapshot as running, and would otherwise
    /// never be learned from (in replay, most short jobs on a quiet cluster). Call after <see cref="Observe"/>.
    /// </summary>
    public void Starting(ClusterSnapshot s, IReadOnlyList<PlanAction> actions)
    {
        Dictionary<string, JobView>? pending = null;
        foreach (var a in actions)
        {
            if (a is not StartJob start) continue;
            pending ??= s.Pending.ToDictionary(j => j.Id, StringComparer.Ordinal);
            if (!pending.TryGetValue(start.JobId, out var job)) continue;
            string? model = null;
            foreach (var pl in start.Placements)
                if (s.FindNode(pl.NodeId) is { } n && n.Offer.GpuModel is { } m && (model is null || GpuModels.SpeedOf(m) < GpuModels.SpeedOf(model))) model = m;
            _running[job.Seq] = (job with { RunStartedAt = s.Now, Attempts = job.Attempts + 1, Placements = start.Placements }, model);
            _startedSince = true;
        }
    }

    /// <summary>Learns from one snapshot (call once per decision, before predicting). Costs time in
    /// proportion to the running jobs and nodes only when those changed since the last snapshot,
    /// and allocates nothing on a quiet one (a DLRM replay makes 300,000 decisions over 10,000
    /// running services).</summary>
    public void Observe(ClusterSnapshot s)
    {
        var now = s.Now;
        var dtHours = _prevNow is { } p ? Math.Max(0, (now - p).TotalHours) : 0;
        _prevNow = now;

        foreach (var j in s.Pending)
            if (j.Seq > _maxSeq)
            {
                _maxSeq = j.Seq;
                if (j.Spec.Resources.MilliGpusPerNode > 0) { _arrivals.Enqueue((j.Spec.SubmitTime, j.Spec.Resources.MilliGpusPerNode)); _rangeCounts.Clear(); }
            }

        // After the last snapshot, the jobs known running were all running in it. With the same
        // running set and no start noted since, no job ended, started or was requeued.
        var runningChanged = !ReferenceEquals(s.Running, _prevRunning);
        _prevRunning = s.Running;
        if (runningChanged || _startedSince) ObserveRuns(s, runningChanged);
        _startedSince = false;
        ObserveSpot(s, dtHours);
    }

    /// <summary>Ended runs (learned from), new runs, and requeued jobs (how long they ran).</summary>
    private void ObserveRuns(ClusterSnapshot s, bool runningChanged)
    {
        var now = s.Now;
        _pendingSeqs.Clear();
        foreach (var j in s.Pending) _pendingSeqs.Add(j.Seq);

        // Ended jobs: gone from running, not back in the queue.
        _gone.Clear();
        foreach (var (seq, (job, model)) in _running)
        {
            if (s.Running.ContainsKey(seq) || _pendingSeqs.Contains(seq)) continue;
            _gone.Add(seq);
            if (job.RunStartedAt is not { } started) continue;
            var productive = now - started - (job.Attempts > 1 ? RestartOverhead : TimeSpan.Zero);
            if (productive < TimeSpan.Zero) productive = TimeSpan.Zero;
            var factor = job.Spec.Resources.MilliGpusPerNode > 0 ? GpuModels.SpeedOf(model) / GpuModels.SpeedOf(job.Spec.ReferenceGpu) : 1.0;
            if (LearnsDurations) Duration.Observe(job.Spec, job.WorkSaved + TimeSpan.FromTicks((long)(productive.Ticks * factor)), now);
            EndedObserved++;
        }
        foreach (var seq in _gone) _running.Remove(seq);

        // Jobs seen running for the first time, or on a new run.
        if (runningChanged)
            foreach (var j in s.Running.Values)
            {
                if (j.Seq > _maxSeq) _maxSeq = j.Seq;
                if (_running.TryGetValue(j.Seq, out var known) && known.Job.RunStartedAt == j.RunStartedAt) continue;
                string? model = null;
                foreach (var pl in j.Placements)
                    if (s.FindNode(pl.NodeId) is { } n && n.Offer.GpuModel is { } m && (model is null || GpuModels.SpeedOf(m) < GpuModels.SpeedOf(model))) model = m;
                _running[j.Seq] = (j, model);
            }
        // Jobs requeued (preempted, node lost) leave the running map too; how long they ran is a floor on their length.
        foreach (var seq in _pendingSeqs)
        {
            if (!_running.Remove(seq, out var was) || was.Job.RunStartedAt is not { } st) continue;
            var factor = was.Job.Spec.Resources.MilliGpusPerNode > 0 ? GpuModels.SpeedOf(was.Model) / GpuModels.SpeedOf(was.Job.Spec.ReferenceGpu) : 1.0;
            var ran = (now - st).TotalSeconds * factor + was.Job.WorkSaved.TotalSeconds;
            if (ran > _ranFor.GetValueOrDefault(seq)) _ranFor[seq] = ran;
        }
    }

    /// <summary>
    /// Spot exposure and reclaims, over the spot nodes of the previous snapshot (its frozen node
    /// list): each one ready then adds the hours since, and each one gone now without the policy
    /// releasing it was reclaimed. New trouble stamps not explained by a reclaim are failed requests.
    /// </summary>
    private void ObserveSpot(ClusterSnapshot s, double dtHours)
    {
        Spot.Advance(s.Now);
        if (!ReferenceEquals(s.Spot.History, _history))
        {
            foreach (var (key, record) in s.Spot.History)
            {
                var (zone, model) = ZoneAndModel(key);
                Spot.SetHistory(zone, model, record);
            }
            _history = s.Spot.History;
        }
        _lostKeys.Clear();
        if (_prevNodes is { } prevNodes)
        {
            if (!ReferenceEquals(prevNodes, _readyCountedIn))
            {
                _readySpot.Clear();
                foreach (var n in prevNodes)
                    if (n.Market == Market.Spot && n.State == NodeState.Ready) _readySpot[n.Offer] = _readySpot.GetValueOrDefault(n.Offer) + 1;
                _readyCountedIn = prevNodes;
            }
            foreach (var (offer, count) in _readySpot) Spot.AddExposure(offer.Zone, offer.GpuModel, dtHours, count);
            if (!ReferenceEquals(prevNodes, s.Nodes))
                foreach (var n in prevNodes)
                {
                    if (n.Market != Market.Spot || s.FindNode(n.Id) is not null || _releasedByUs.Remove(n.Id)) continue;
                    Spot.AddLoss(n.Offer.Zone, n.Offer.GpuModel);
                    _lostKeys.Add(SpotSignals.Key(n.Offer.Zone, n.Offer.GpuModel));
                    SpotLossesObserved++;
                }
        }
        _prevNodes = s.Nodes;

        if (ReferenceEquals(s.Spot.LastTroubleByZoneModel, _trouble)) return;
        foreach (var (key, at) in s.Spot.LastTroubleByZoneModel)
        {
            if (_trouble.TryGetValue(key, out var before) && before == at) continue;
            if (_lostKeys.Contains(key)) continue;
            var (zone, model) = ZoneAndModel(key);
            Spot.AddLoss(zone, model);
            SpotLossesObserved++;
        }
        _trouble = s.Spot.LastTroubleByZoneModel;
    }

    /// <summary>Zone and GPU model (null for CPU) of a <see cref="SpotSignals.Key"/>.</summary>
    private static (string Zone, string? Model) ZoneAndModel(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        var model = key[(bar + 1)..];
        return (key[..bar], model == "cpu" ? null : model);
    }
}
