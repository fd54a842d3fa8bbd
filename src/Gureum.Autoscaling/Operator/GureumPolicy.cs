using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling.Operator;

/// <summary>Settings of the <c>gureum</c> policy; every default is the one the eval report used.</summary>
public sealed record GureumOptions
{
    /// <summary>Shared elastic settings (spot cooldown, scale-up step). Its idle timeout is unused:
    /// idle release follows the ski-rental rule below.</summary>
    public ElasticOptions Elastic { get; init; } = new();

    /// <summary>A GPU job runs only on GPUs at least this fast relative to its reference GPU, when
    /// any offer it may use is (DESIGN.md's promise: no slower than the site's own cluster). Default 0.95.</summary>
    public double MinSpeedRatio { get; init; } = 0.95;

    /// <summary>Spot is used only when the expected run time including work lost to reclaims is at
    /// most (1 + this) × the job's run time on its reference GPU — DESIGN.md's promise, no slower than
    /// the site's own cluster — or on the offer's GPU when that one is slower; unless the job wants
    /// spot only. A GPU faster than the reference thus lets a job that restarts from zero risk spot
    /// when its expected cost is lower. Default 0.10.</summary>
    public double MaxSpotLossOverhead { get; init; } = 0.10;

    /// <summary>Trust λ in the idle-release prediction (learning-augmented ski rental, Purohit et
    /// al., NeurIPS 2018): worst case (1 + 1/λ)× the optimal idle-plus-reboot cost, (1 + λ)× when the
    /// prediction is right. Default 0.5 (worst case 3×, 1.5× with good predictions). 1 = classic 2-competitive rule.</summary>
    public double SkiTrust { get; init; } = 0.5;

    /// <summary>How much of a job's wait for a new node's boot the idle rule counts as node time in its
    /// break-even (<see cref="SkiTrust"/>'s B = boot × (1 + this) + 60 s). 0 (default) counts dollars
    /// only: B is what a reboot is billed. 1 was the default before session 14: it kept idle nodes
    /// twice as long, for a JCT 1–2% lower and 0.03–0.05 × LB more cost on the generated traces.</summary>
    public double SkiBootWaitWeight { get; init; } = 0;

    /// <summary>Hours of waiting that lift a job by one rank unit (a doubling of predicted run time). Default 1.</summary>
    public double AgingHours { get; init; } = 1;

    /// <summary>Weight of a lab's share of recent GPU usage in the queue rank. Default 2.</summary>
    public double FairShareWeight { get; init; } = 2;

    /// <summary>A job that needs no GPU may share a GPU node only when the node costs at most this
    /// multiple of the cheapest offer it fits in the same market (otherwise it keeps an expensive
    /// node alive after the GPU jobs it was bought for have ended). Default 1.25.</summary>
    public double CpuOnGpuNodeMaxPriceRatio { get; init; } = 1.25;

    /// <summary>A running service (<see cref="JobKind.Service"/>) or checkpointing job alone on its node
    /// is moved to a new node when that is expected to cost at least this share less over its predicted
    /// remaining run, boot of the new node and (for a checkpointing job) the work since its last
    /// checkpoint included. Default 0.25; 0 or less turns moving off.</summary>
    public double ServiceMoveMinSaving { get; init; } = 0.25;

    /// <summary>How often running services and checkpointing jobs are checked for a cheaper place: at the
    /// first decision this long after the last check (the policy asks to be woken for it only while
    /// services run or wait). Default 10 min.</summary>
    public TimeSpan ServiceMoveCheckEvery { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>At each move check, a service or checkpointing job alone on its node first moves into
    /// the free room of a node where other jobs run, when it would cost no more there even alone, and
    /// its node is released (delete-consolidation). Default true.</summary>
    public bool ConsolidateIntoRunningNodes { get; init; } = true;

    /// <summary>Most jobs moved in one decision (bounds churn). Default 20.</summary>
    public int MaxServiceMovesPerDecision { get; init; } = 20;

    /// <summary>A job does not start on an empty node it fills half of or less when its share of
    /// keeping that node up for its predicted run (shared with the jobs of its shape waiting now, as
    /// the purchase rule expects) costs more than this multiple of a new node of its own, boot
    /// included: the big node is then released by the idle rule and a node of the job's size bought,
    /// instead of a big node kept up for one small long job. The time the idle rule would keep the
    /// empty node anyway is not credited (measured 2–7% dearer on the generated trace, seeds 1–3:
    /// short predictions often run long). Default 1.5; 0 or less turns the rule off.</summary>
    public double OversizedNodeMaxCostRatio { get; init; } = 1.5;

    /// <summary>Lifetime-aligned packing (the idea of Google's LAVA VM allocator: jobs that end
    /// together let their node go, instead of a big node kept up for one long job that cannot move
    /// without losing its work). On a node of 2 GPUs or more, a job that is not a service does not
    /// join the jobs there when it is predicted to outlast them all and keeping the node up for the
    /// difference costs more than this multiple of its expected cost on a new node of its own, boot
    /// included; a node bought for the job always passes. Services are exempt: they move without
    /// loss (<see cref="ServiceMoveMinSaving"/>). Purchases agree with it: such a job is credited
    /// with sharing a new node of 2+ GPUs only with the waiting jobs of its shape predicted to run
    /// within <see cref="SharingLifetimeFactor"/> of it. Default 1 (break-even, not tuned); 0 or
    /// less turns both off.</summary>
    public double NodeLifeExtensionMaxCostRatio { get; init; } = 1;

    /// <summary>Waiting jobs of a job's shape predicted to run between 1/this and this multiple of
    /// its time count as sharing a new node of 2+ GPUs with it (see
    /// <see cref="NodeLifeExtensionMaxCostRatio"/>). Default 2 (1.5 measured the same).</summary>
    public double SharingLifetimeFactor { get; init; } = 2;

    /// <summary>A job that restarts from zero (no checkpoints, not a service), has no deadline and lets
    /// the policy pick the market, and whose cheapest choice now is on demand, waits for spot instead
    /// when an offer it would take is left out only by its spot cooldown (a reclaim or failed request
    /// there less than <see cref="ElasticOptions.SpotCooldown"/> ago) and is expected to cost at least
    /// this share less there, hazard and sharing counted as for any purchase. Such a job cannot move
    /// off on-demand capacity later without losing its work (services and checkpointing jobs can, see
    /// <see cref="ServiceMoveMinSaving"/>), so without the wait a long one pays on-demand prices for
    /// its whole run after one reclaim. Default 0.25 (0.10 measured the same); 0 or less turns waiting off.</summary>
    public double WaitForSpotMinSaving { get; init; } = 0.25;

    /// <summary>A job waits for spot (<see cref="WaitForSpotMinSaving"/>) only while its time waited
    /// for it, up to the end of the cooldown, stays within this share of its predicted run time on
    /// the spot offer. Default 0.25.</summary>
    public double WaitForSpotMaxShare { get; init; } = 0.25;

    /// <summary>An on-demand node bought for waiting jobs is held for them once it is ready, for at most
    /// this long: another job may start on it only if the room they need stays free. The policy buys
    /// on demand only for jobs spot will not do for (long jobs that restart from zero, deadlines, spot
    /// in cooldown), while the queue runs short jobs first: without the hold a short job takes the
    /// node, runs at on-demand prices work that its own choice would have put on spot, and another
    /// on-demand node is bought for the long one. Spot nodes are not held (measured: holding them too
    /// helped the dev and holdout traces as much but made the eval's five generated traces 0.013 × LB
    /// dearer). Default 15 min; zero turns holding off.</summary>
    public TimeSpan OnDemandHold { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Restart overhead assumed in lost-work estimates (replay default). Default 30 s.</summary>
    public TimeSpan RestartOverhead { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The <c>gureum</c> policy's capacity side. For a job that fits nowhere it buys the offer and market
/// with the least expected cost (<see cref="CostModel"/>: price ÷ GPU speed × predicted run time
/// including expected lost work on spot, shared by the jobs expected on the node), among GPUs at
/// least as fast as the job's reference; spot only where the learned hazard keeps expected lost work
/// small, and for deadline jobs only while the slack can absorb a loss. Idle nodes are released by a
/// learning-augmented ski-rental rule with a stated worst case. Deadline jobs on spot whose slack
/// runs out are moved to on-demand. Every choice is explained in the action's reason.
/// Learns online (<see cref="OperatorModels"/>) from the snapshots it decides over: use one
/// instance per control loop or replay.
/// </summary>
public sealed partial class GureumPolicy : ElasticPolicy
{
    private readonly Dictionary<string, string> _explain = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Offer Offer, Market Market)> _boughtFor = new(StringComparer.Ordinal); // waiting job → what was last bought for it
    private readonly Dictionary<ShapeKey, bool> _fastExists = [];
    private IReadOnlyList<Offer>? _fastFor;
    private readonly Dictionary<(double Cpus, double Mem, Market Market, string Zones), decimal> _cheapestFit = [];
    private IReadOnlyList<Offer>? _cheapestFor;
    private System.Collections.Immutable.ImmutableDictionary<string, DateTimeOffset>? _cheapestSignals;
    private DateTimeOffset _cheapestAt;
    private DateTimeOffset _cheapestUntil;
    private long _cheapestHazards = -1;
    private ClusterSnapshot? _snapshot;
    private readonly (JobSpec? Spec, decimal Cheapest)[] _lastCheapest = new (JobSpec?, decimal)[2]; // by market
    private readonly Dictionary<ShapeKey, int> _waitingByShape = [];
    private readonly Dictionary<ShapeKey, List<(long Seq, double Rem)>> _waitingRems = []; // waiting jobs per shape not yet chosen for, with their predicted remaining (reference s)
    private DateTimeOffset _nextMoveCheck = DateTimeOffset.MinValue;
    private IReadOnlyList<PlanAction> _scheduled = [];
    private int _idleNodes;
    private long _lastServiceSeq = -1;
    private readonly Dictionary<int, int> _idleBySize = [];
    private readonly Dictionary<long, double> _aloneBest = [];
    private DateTimeOffset _aloneBestAt;
    private ClusterSnapshot? _pendingFor;
    private readonly Dictionary<ShapeKey, int> _pendingByShape = [];
    private readonly Dictionary<string, PendingMove> _moves = new(StringComparer.Ordinal); // running job → its replacement on the way
    private readonly HashSet<string> _reservedNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _runningEnd = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (DateTimeOffset Until, string Why)> _spotWaits = []; // job waiting for spot in cooldown now → until when, why
    private readonly Dictionary<long, DateTimeOffset> _spotWaitSince = []; // job that has waited for spot → since when (until it starts)
    private ClusterSnapshot? _endsFor;

    /// <summary>A running job's move to cheaper capacity, bought and not yet made: the job runs on
    /// where it is until its replacement is ready (make before break).</summary>
    private sealed class PendingMove(long seq, string fromNodeId, Offer offer, Market market, DateTimeOffset requestedAt, string why)
    {
        public long Seq { get; } = seq;
        public string FromNodeId { get; } = fromNodeId;
        public Offer Offer { get; } = offer;
        public Market Market { get; } = market;
        public DateTimeOffset RequestedAt { get; } = requestedAt;
        public string Why { get; } = why;

        /// <summary>The replacement's node id, once it is seen in a snapshot.</summary>
        public string? NodeId { get; set; }
    }

    public GureumPolicy(GureumOptions? options = null, OperatorModels? models = null) : base((options ?? new GureumOptions()).Elastic)
    {
        Options = options ?? new GureumOptions();
        Models = models ?? new OperatorModels { RestartOverhead = Options.RestartOverhead };
    }

    public override string Name => "gureum";

    public new GureumOptions Options { get; }

    /// <summary>The online models (duration, spot hazard, arrivals).</summary>
    public OperatorModels Models { get; }

    /// <summary>Why the last node bought for a job was chosen (job id → explanation).</summary>
    public IReadOnlyDictionary<string, string> Explanations => _explain;

    protected override void BeginDecision(ClusterSnapshot snapshot, SchedulingResult scheduled)
    {
        Models.Observe(snapshot);
        Models.Starting(snapshot, scheduled.Actions);
        foreach (var a in scheduled.Actions) if (a is StartJob start) _boughtFor.Remove(start.JobId);
        if (_spotWaitSince.Count > 0)
            foreach (var seq in _spotWaitSince.Keys)
                if (!snapshot.Pending.Any(p => p.Seq == seq)) { _spotWaitSince.Remove(seq); _spotWaits.Remove(seq); }
        _scheduled = scheduled.Actions;
        _snapshot = snapshot;
        TrackMoves(snapshot);
        // Jobs of the same shape waiting now are the ones sure to share a node bought in this decision.
        _waitingByShape.Clear();
        foreach (var l in _waitingRems.Values) l.Clear();
        foreach (var w in scheduled.Waiting)
        {
            if (!w.CapacityHelps) continue;
            var k = ShapeKey.Of(w.Job.Spec);
            _waitingByShape[k] = _waitingByShape.GetValueOrDefault(k) + 1;
            if (Options.NodeLifeExtensionMaxCostRatio <= 0 || w.Job.Spec.Kind == JobKind.Service) continue;
            if (!_waitingRems.TryGetValue(k, out var list)) _waitingRems[k] = list = [];
            list.Add((w.Job.Seq, Models.PredictRemainingSeconds(w.Job, snapshot.Now).Estimate));
        }
        _idleNodes = 0;
        _idleBySize.Clear();
        foreach (var n in snapshot.Nodes)
            if (n.State == NodeState.Ready && n.RunningJobs == 0 && !n.Fixed) { _idleNodes++; _idleBySize[n.Offer.GpuCount] = _idleBySize.GetValueOrDefault(n.Offer.GpuCount) + 1; }
    }

    protected override (Offer Offer, Market Market)? Choose(JobView job, ClusterSnapshot snapshot, Func<Offer, bool> hasCapacity)
    {
        var best = Best(job, snapshot, hasCapacity, out var bestOnDemand, out var cooling);
        var key = ShapeKey.Of(job.Spec);
        _waitingByShape[key] = Math.Max(0, _waitingByShape.GetValueOrDefault(key) - 1);
        if (_waitingRems.TryGetValue(key, out var rems))
            for (var i = 0; i < rems.Count; i++)
                if (rems[i].Seq == job.Seq) { rems.RemoveAt(i); break; }
        if (WaitsForSpot(job, best, cooling, snapshot)) return null;
        if (best is not { } b) return null;
        _boughtFor[job.Id] = (b.Offer, b.Market);
        var why = $"{b}";
        if (b.Market == Market.Spot && bestOnDemand is { } od) why += $"; on-demand best {od.Offer.Id} ~${od.ExpectedUsd:0.###}";
        if (job.Spec.Deadline is { } dl) why += $"; deadline {dl:u}";
        _explain[job.Id] = $"bought for {job.Id}: {why}";
        return (b.Offer, b.Market);
    }

    /// <summary>The cheapest expected (offer, market) for a job now, and the best on-demand one.
    /// With <paramref name="alone"/> the job is costed as the only one on the new node (otherwise
    /// jobs of its shape waiting in this decision are expected to share it).</summary>
    public OfferEstimate? Best(JobView job, ClusterSnapshot snapshot, Func<Offer, bool>? hasCapacity, out OfferEstimate? bestOnDemand, bool alone = false) =>
        Best(job, snapshot, hasCapacity, out bestOnDemand, out _, alone);

    /// <summary><see cref="Best(JobView, ClusterSnapshot, Func{Offer, bool}?, out OfferEstimate?, bool)"/>, and
    /// the cheapest spot offer it would accept that is left out only because it is in spot cooldown now.</summary>
    private OfferEstimate? Best(JobView job, ClusterSnapshot snapshot, Func<Offer, bool>? hasCapacity, out OfferEstimate? bestOnDemand, out OfferEstimate? coolingSpot, bool alone = false)
    {
        var spec = job.Spec;
        var pred = Models.PredictRemainingSeconds(job, snapshot.Now);
        var rem = pred.Estimate;
        var fast = FastExists(spec, snapshot.Offers);
        var others = alone ? 0 : Math.Max(0, _waitingByShape.GetValueOrDefault(ShapeKey.Of(spec)) - 1);
        // On a node of 2+ GPUs a job that is not a service shares, for its whole run, only with
        // waiting jobs of its shape predicted to run about as long (the lifetime rule keeps the others apart).
        var alike = others;
        var mayWait = !alone && MayWaitForSpot(spec);
        if (!alone && Options.NodeLifeExtensionMaxCostRatio > 0 && spec.Kind != JobKind.Service && _waitingRems.TryGetValue(ShapeKey.Of(spec), out var rems))
        {
            alike = 0;
            var f = Options.SharingLifetimeFactor;
            foreach (var (seq, r) in rems) if (seq != job.Seq && r >= rem / f && r <= rem * f) alike++;
        }
        OfferEstimate? best = null, bestSpot = null, cooling = null;
        bestOnDemand = null;
        // Memoized (GureumPolicy.Memo.cs): the offers, in catalog order, that pass the shape-only
        // filters (speed, Eligibility.Allows per market); a zone's hazard and spot cooldown.
        foreach (var c in Candidates(spec, fast, snapshot.Offers))
        {
            var (i, o) = (c.Index, snapshot.Offers[c.Index]);
            if (hasCapacity is not null && !hasCapacity(o)) continue;
            var hazard = HazardAt(i, o);
            foreach (var m in (ReadOnlySpan<Market>)[Market.OnDemand, Market.Spot])
            {
                if (!c.Allows(m) || TooDearForCpuJob(spec, o, m, snapshot, out _, out _)) continue;
                var cools = m == Market.Spot && CoolingDown(i, o, snapshot);
                if (cools && !mayWait) continue;
                var e = CostModel.Estimate(spec, rem, o, m, hazard, o.GpuCount >= 2 ? alike : others, Options.RestartOverhead);
                if (m == Market.OnDemand) { if (Better(e, bestOnDemand)) bestOnDemand = e; continue; }
                // Acceptability only matters for an offer that would be the best spot so far.
                if (!Better(e, cools ? cooling : bestSpot)) continue;
                if (spec.Spot != SpotPreference.Always && !SpotAcceptable(job, RiskEstimate(job, pred, o, hazard), snapshot.Now)) continue;
                if (cools) cooling = e;
                else bestSpot = e;
            }
        }
        best = bestOnDemand;
        if (bestSpot is { } s && (best is null || s.ExpectedUsd < best.Value.ExpectedUsd)) best = s;
        coolingSpot = cooling;
        return best;
    }

    /// <summary>Whether a job whose best choice now is on demand (or nothing) waits for spot in
    /// cooldown instead (<see cref="GureumOptions.WaitForSpotMinSaving"/>); the wait and its reason are
    /// recorded, and the policy asks to be woken when the cooldown ends.</summary>
    private bool WaitsForSpot(JobView job, OfferEstimate? best, OfferEstimate? cooling, ClusterSnapshot snapshot)
    {
        _spotWaits.Remove(job.Seq);
        if (cooling is not { } c || !MayWaitForSpot(job.Spec) || best is { Market: Market.Spot }) return false;
        if (best is { } od && c.ExpectedUsd > (1 - Options.WaitForSpotMinSaving) * od.ExpectedUsd) return false;
        if (SpotCooldownUntil(snapshot, c.Offer) is not { } until) return false;
        // Counted from the first wait, across failed requests at the end of a cooldown (which start another).
        var since = _spotWaitSince.TryGetValue(job.Seq, out var first) ? first : snapshot.Now;
        if ((until - since).TotalHours > Options.WaitForSpotMaxShare * c.WallHours) return false;
        _spotWaitSince[job.Seq] = since;
        _spotWaits[job.Seq] = (until, best is { } b
            ? $"waits for spot on {c.Offer.Id} (its cooldown after a reclaim or failed request ends at {until:u}): ~${c.ExpectedUsd:0.###} there against ~${b.ExpectedUsd:0.###} on demand now ({b.Offer.Id}), and it would lose its work if it moved later"
            : $"waits for spot on {c.Offer.Id} (its cooldown after a reclaim or failed request ends at {until:u}): no other offer it may use now");
        return true;
    }

    /// <summary>Jobs that may wait for spot (<see cref="GureumOptions.WaitForSpotMinSaving"/>): those that
    /// restart from zero, without a deadline, letting the policy pick the market.</summary>
    private bool MayWaitForSpot(JobSpec spec) =>
        Options.WaitForSpotMinSaving > 0 && !spec.KeepsWorkOnPreemption && spec.Deadline is null && spec.Spot == SpotPreference.Auto;

    protected override string? WhyNotBought(JobView job) => _spotWaits.TryGetValue(job.Seq, out var w) ? w.Why : null;

    private static bool Better(OfferEstimate e, OfferEstimate? than) =>
        than is not { } t || e.ExpectedUsd < t.ExpectedUsd - 1e-9 || (Math.Abs(e.ExpectedUsd - t.ExpectedUsd) <= 1e-9 && e.Speed > t.Speed);

    /// <summary>Spot is acceptable when the expected run time with losses stays within the loss budget
    /// (<see cref="GureumOptions.MaxSpotLossOverhead"/>, against the reference run time), and for a
    /// deadline job when its slack covers a full on-demand rerun after a loss.</summary>
    private bool SpotAcceptable(JobView job, OfferEstimate e, DateTimeOffset now)
    {
        if (e.ExpectedHours > (1 + Options.MaxSpotLossOverhead) * e.WallHours * Math.Max(1, e.Speed)) return false;
        if (job.Spec.Deadline is { } dl)
        {
            var left = (dl - now).TotalHours;
            var rerun = job.Spec.Kind == JobKind.Service ? 0 : job.Spec.IsCheckpointable ? e.WallHours * 0.5 : e.WallHours;
            if (left < e.ExpectedHours + rerun + 2 * e.Offer.BootDelay.TotalHours) return false;
        }
        return true;
    }

    /// <summary>Spot risk is judged on the pessimistic (90th percentile) run time for jobs that
    /// restart from zero, on the estimate for jobs that keep their work (checkpoints, services).</summary>
    private OfferEstimate RiskEstimate(JobView job, Prediction.Interval remaining, Offer o, double hazardPerHour) =>
        CostModel.Estimate(job.Spec, job.Spec.KeepsWorkOnPreemption ? remaining.Estimate : remaining.High, o, Market.Spot,
            hazardPerHour, 0, Options.RestartOverhead);

    private static double SpeedRatio(JobSpec spec, Offer o) => GpuModels.SpeedOf(o.GpuModel) / GpuModels.SpeedOf(spec.ReferenceGpu);

    private bool FastExists(JobSpec spec, IReadOnlyList<Offer> offers)
    {
        if (spec.Resources.MilliGpusPerNode == 0) return false;
        if (!ReferenceEquals(_fastFor, offers)) { _fastExists.Clear(); _fastFor = offers; }
        var key = ShapeKey.Of(spec) with { Models = ShapeKey.Of(spec).Models + "@" + spec.ReferenceGpu };
        if (!_fastExists.TryGetValue(key, out var ok))
            _fastExists[key] = ok = offers.Any(o => SpeedRatio(spec, o) >= Options.MinSpeedRatio && (Eligibility.Allows(spec, o, Market.OnDemand) || Eligibility.Allows(spec, o, Market.Spot)));
        return ok;
    }

    /// <summary>Why a job should not run on a node now, or null when it may.</summary>
    public string? Suitable(JobView job, Node node, ClusterSnapshot snapshot)
    {
        if (node.Fixed) return null;
        var spec = job.Spec;
        if (spec.Resources.MilliGpusPerNode > 0 && SpeedRatio(spec, node.Offer) < Options.MinSpeedRatio && FastExists(spec, snapshot.Offers))
            return $"{node.Offer.GpuModel} is slower than {Options.MinSpeedRatio:0.##}× {spec.ReferenceGpu}";
        if (node.Market == Market.Spot && spec.Spot != SpotPreference.Always)
        {
            var e = RiskEstimate(job, Models.PredictRemainingSeconds(job, snapshot.Now), node.Offer, Models.Spot.Hazard(node.Offer.Zone, node.Offer.GpuModel));
            if (!SpotAcceptable(job, e, snapshot.Now)) return $"spot risk in {node.Offer.Zone}: survival {e.Survival:P0}, expected lost work {e.LossOverhead:P0}";
        }
        if (node.RunningJobs == 0 && Options.OversizedNodeMaxCostRatio > 0) return Oversized(job, node, snapshot);
        return null;
    }

    /// <summary>Why a job should not start alone on this empty node (see
    /// <see cref="GureumOptions.OversizedNodeMaxCostRatio"/>), or null. Depends only on the node's offer,
    /// market and emptiness, so nodes of one shape stay interchangeable for the scheduler.</summary>
    private string? Oversized(JobView job, Node node, ClusterSnapshot snapshot)
    {
        var spec = job.Spec;
        if (spec.Resources.Nodes > 1 || CostModel.CopiesThatFit(spec.Resources, node.Offer) < 2) return null;
        var best = AloneBest(job, snapshot);
        var (rem, alone) = StayCost(job, node, snapshot);
        // Jobs of its shape waiting with it would share the node (as the purchase rule expects).
        var sharing = Math.Min(CostModel.CopiesThatFit(spec.Resources, node.Offer), Math.Max(1, PendingOfShape(spec, snapshot)));
        var stayUsd = alone / sharing;
        if (stayUsd <= Options.OversizedNodeMaxCostRatio * best) return null;
        return $"it would keep empty {node.Offer.Id} ({node.Offer.GpuCount} GPUs) up for ~${stayUsd:0.##} a job ({sharing} of its shape waiting) over its predicted {rem / 3600:0.#} h (reference GPU), over {Options.OversizedNodeMaxCostRatio:0.##}× a node of its own (~${best:0.##}); the idle rule releases the big node";
    }

    /// <summary>Why a job should not join the jobs on this node (see
    /// <see cref="GureumOptions.NodeLifeExtensionMaxCostRatio"/>), or null: the jobs running there and
    /// those this decision placed there are predicted to end (on the node's GPU) before the job
    /// would, and the node's price over the difference is more than the ratio × the job's cost on a
    /// node of its own.</summary>
    public string? OutlivesNode(JobView job, Node node, SchedulingContext ctx)
    {
        if (!LifeRuleApplies(job, node)) return null;
        // A node of the offer and market bought for the job always passes (as in PackingMismatch):
        // otherwise the job could turn down every node bought for it, again and again.
        if (_boughtFor.TryGetValue(job.Id, out var bought) && ReferenceEquals(bought.Offer, node.Offer) && bought.Market == node.Market) return null;
        var running = ctx.RunningOn(node.Id);
        var placed = ctx.PlacedOn(node.Id);
        if (running.Count == 0 && placed.Count == 0) return null;
        var end = RunningEnd(node, running, ctx);
        foreach (var p in placed) end = Math.Max(end, PredictedWallSeconds(p, node, ctx.Now));
        var mine = PredictedWallSeconds(job, node, ctx.Now);
        if (mine <= end) return null;
        var extraUsd = (double)(node.Offer.PricePerHour(node.Market) ?? 0) * (mine - end) / 3600;
        var best = AloneBest(job, ctx.Snapshot);
        if (extraUsd <= Options.NodeLifeExtensionMaxCostRatio * best) return null;
        return $"it would keep {node.Offer.Id} up ~{(mine - end) / 3600:0.#} h after the jobs on it are predicted to end (~${extraUsd:0.##}), over {Options.NodeLifeExtensionMaxCostRatio:0.##}× a node of its own (~${best:0.##})";
    }

    /// <summary>An on-demand node bought for waiting jobs (<see cref="GureumOptions.OnDemandHold"/>):
    /// held for them until they are placed (there or elsewhere) or leave the queue, or the hold ends.</summary>
    private sealed class Claim(DateTimeOffset requestedAt, Offer offer, IReadOnlyList<string> jobs)
    {
        public DateTimeOffset RequestedAt { get; } = requestedAt;
        public Offer Offer { get; } = offer;
        public IReadOnlyList<string> Jobs { get; } = jobs;
        /// <summary>The node, once it is seen in a snapshot.</summary>
        public string? NodeId { get; set; }
        /// <summary>The jobs it was bought for that still wait (as of the last snapshot resolved).</summary>
        public List<JobView> Waiting { get; } = [];
    }

    private readonly List<Claim> _claims = [];
    private readonly Dictionary<string, Claim> _claimByNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _heldNodeOf = new(StringComparer.Ordinal); // waiting job → node held for it
    private ClusterSnapshot? _claimsFor;

    /// <summary>Remembers the on-demand nodes this decision buys for waiting jobs (a move's replacement
    /// is the moving job's already, see <see cref="CompleteMoves"/>).</summary>
    private void RecordClaims(ClusterSnapshot snapshot, List<PlanAction> actions)
    {
        if (Options.OnDemandHold <= TimeSpan.Zero) return;
        foreach (var a in actions)
            if (a is ProvisionNode { Market: Market.OnDemand, ForJobs.Count: > 0 } p && !p.ForJobs.All(_moves.ContainsKey))
                _claims.Add(new Claim(snapshot.Now, p.Offer, p.ForJobs));
    }

    /// <summary>Matches claims to the snapshot's nodes (<see cref="BoughtAt"/>, as a move's replacement
    /// is matched) and to its waiting jobs, dropping those that are over: once
    /// per snapshot.</summary>
    private void ResolveClaims(ClusterSnapshot snapshot)
    {
        if (ReferenceEquals(_claimsFor, snapshot)) return;
        _claimsFor = snapshot;
        _claimByNode.Clear();
        _heldNodeOf.Clear();
        if (_claims.Count == 0) return;
        Dictionary<string, JobView>? pending = null;
        for (var k = _claims.Count - 1; k >= 0; k--)
        {
            var c = _claims[k];
            c.NodeId ??= BoughtAt(snapshot, c.RequestedAt, c.Offer, Market.OnDemand, id => !_claims.Any(o => o != c && o.NodeId == id));
            var node = c.NodeId is { } id ? snapshot.FindNode(id) : null;
            pending ??= snapshot.Pending.ToDictionary(j => j.Spec.Id, StringComparer.Ordinal);
            c.Waiting.Clear();
            foreach (var j in c.Jobs) if (pending.TryGetValue(j, out var v)) c.Waiting.Add(v);
            if (node is not { IsAlive: true } || c.Waiting.Count == 0 || (node.ReadyAt is { } r && snapshot.Now - r > Options.OnDemandHold))
            {
                _claims.RemoveAt(k);
                continue;
            }
            _claimByNode[node.Id] = c;
            foreach (var w in c.Waiting) _heldNodeOf.TryAdd(w.Spec.Id, node.Id);
        }
    }

    /// <summary>A held on-demand node on its way goes to the jobs it was bought for before other
    /// waiting jobs are packed into capacity on its way (as <see cref="HeldFor"/> keeps it for them once ready).</summary>
    protected override string? HeldNodeFor(JobView job)
    {
        if (_claims.Count == 0 || _snapshot is null) return null;
        ResolveClaims(_snapshot);
        return _heldNodeOf.GetValueOrDefault(job.Spec.Id);
    }

    /// <summary>Why a job may not start on an on-demand node bought for other waiting jobs
    /// (<see cref="GureumOptions.OnDemandHold"/>): it would leave too little room for those not yet
    /// placed in this decision. Null when it may.</summary>
    public string? HeldFor(JobView job, Node node, SchedulingContext ctx)
    {
        if (_claims.Count == 0) return null;
        ResolveClaims(ctx.Snapshot);
        if (!_claimByNode.TryGetValue(node.Id, out var c)) return null;
        double milli = 0, cpus = 0, mem = 0;
        string? first = null;
        foreach (var w in c.Waiting)
        {
            if (w.Seq == job.Seq) return null;
            if (ctx.IsPlaced(w)) continue;
            first ??= w.Spec.Id;
            milli += w.Spec.Resources.MilliGpusPerNode;
            cpus += w.Spec.Resources.Cpus;
            mem += w.Spec.Resources.MemoryGiB;
        }
        if (first is null) return null;
        var r = job.Spec.Resources;
        var freeMilli = node.GpuFreeMilli.Sum();
        if (freeMilli - r.MilliGpusPerNode >= milli && node.FreeCpus - r.Cpus >= cpus - 1e-9 && node.FreeMemoryGiB - r.MemoryGiB >= mem - 1e-9) return null;
        return $"held for {first}: {node.Id} was bought for it";
    }

    /// <summary>Whether <see cref="GureumOptions.NodeLifeExtensionMaxCostRatio"/> applies: a
    /// single-node job that is not a service, on a bought node of 2 GPUs or more. A service loses
    /// nothing by moving, and one left alone on a big node is moved by
    /// <see cref="MoveToCheaperCapacity"/>; on a 1-GPU node the most a late job keeps up is one GPU
    /// (measured on openb, 3 seeds: the rule there made partial packing 0.01 × LB dearer on each).</summary>
    private bool LifeRuleApplies(JobView job, Node node) =>
        Options.NodeLifeExtensionMaxCostRatio > 0 && !node.Fixed && node.Offer.GpuCount >= 2
        && job.Spec.Kind != JobKind.Service && job.Spec.Resources.Nodes == 1;

    /// <summary>A waiting job's predicted run time on the node's GPU, in seconds.</summary>
    private double PredictedWallSeconds(JobView j, Node node, DateTimeOffset now) =>
        WallSeconds(j, node, Models.PredictRemainingSeconds(j, now).Estimate);

    /// <summary>Predicted wall seconds on the node's hardware for remaining reference seconds.</summary>
    private static double WallSeconds(JobView j, Node node, double refSeconds) =>
        refSeconds / (j.Spec.Resources.MilliGpusPerNode > 0 ? SpeedRatio(j.Spec, node.Offer) : 1);

    /// <summary>When the jobs running on a node are predicted to end (seconds from now, on its GPU), per snapshot.</summary>
    private double RunningEnd(Node node, IReadOnlyList<JobView> running, SchedulingContext ctx)
    {
        if (!ReferenceEquals(_endsFor, ctx.Snapshot)) { _runningEnd.Clear(); _endsFor = ctx.Snapshot; }
        if (_runningEnd.TryGetValue(node.Id, out var end)) return end;
        foreach (var j in running)
        {
            if (ctx.IsEvicted(j)) continue;
            var done = Progress.WorkDoneAt(j, ctx.Now, node.Offer.GpuModel, Options.RestartOverhead);
            end = Math.Max(end, WallSeconds(j, node, Models.PredictRemainingSeconds(j, ctx.Now, done).Estimate));
        }
        return _runningEnd[node.Id] = end;
    }

    /// <summary>The job's expected cost alone on the best new node now (cached per decision).</summary>
    private double AloneBest(JobView job, ClusterSnapshot snapshot)
    {
        if (_aloneBestAt != snapshot.Now) { _aloneBest.Clear(); _aloneBestAt = snapshot.Now; }
        if (!_aloneBest.TryGetValue(job.Seq, out var best))
            _aloneBest[job.Seq] = best = Best(job, snapshot, null, out _, alone: true) is { } b ? b.ExpectedUsd : double.PositiveInfinity;
        return best;
    }

    /// <summary>Pending jobs of the job's shape (itself included when pending), per snapshot.</summary>
    private int PendingOfShape(JobSpec spec, ClusterSnapshot snapshot)
    {
        if (!ReferenceEquals(_pendingFor, snapshot))
        {
            _pendingByShape.Clear();
            _pendingFor = snapshot;
            foreach (var j in snapshot.Pending) _pendingByShape[ShapeKey.Of(j.Spec)] = _pendingByShape.GetValueOrDefault(ShapeKey.Of(j.Spec)) + 1;
        }
        return _pendingByShape.GetValueOrDefault(ShapeKey.Of(spec));
    }

    /// <summary>Why a job that needs no GPU should not share this GPU node, or null when it may: the
    /// node's hourly price is above <see cref="GureumOptions.CpuOnGpuNodeMaxPriceRatio"/> × the
    /// cheapest offer the job fits in the node's market that can be bought now (a spot offer in a zone
    /// with a reclaim or failed request within the spot cooldown does not count: the job could not get
    /// it; nor does one whose learned hazard no job would accept, <see cref="TooRiskyForAnyJob"/>:
    /// it would not be bought). The offer and market this policy bought a node in for the job, while the job waits, always
    /// pass: the cheapest fit moves with every cooldown, and without this the job would turn down the
    /// node on its way and buy another, again and again, waiting all the while. Depends only on the
    /// node's offer and market and the decision's instant (nodes of one shape stay interchangeable
    /// for the scheduler).</summary>
    public string? PackingMismatch(JobView job, Node node, ClusterSnapshot snapshot)
    {
        if (_boughtFor.TryGetValue(job.Id, out var bought) && ReferenceEquals(bought.Offer, node.Offer) && bought.Market == node.Market) return null;
        if (node.Fixed || !TooDearForCpuJob(job.Spec, node.Offer, node.Market, snapshot, out var price, out var cheapest)) return null;
        return $"CPU-only job on a {node.Offer.GpuModel} node at ${price:0.##}/h, over {Options.CpuOnGpuNodeMaxPriceRatio:0.##}× the cheapest node it fits that can be bought now (${cheapest:0.##}/h)";
    }

    private bool TooDearForCpuJob(JobSpec spec, Offer offer, Market market, ClusterSnapshot snapshot, out decimal price, out decimal cheapest)
    {
        price = cheapest = 0;
        if (spec.Resources.MilliGpusPerNode > 0 || offer.GpuCount == 0 || offer.PricePerHour(market) is not { } p) return false;
        price = p;
        cheapest = CheapestFit(spec, market, snapshot);
        return cheapest > 0 && (double)price > Options.CpuOnGpuNodeMaxPriceRatio * (double)cheapest;
    }

    private decimal CheapestFit(JobSpec spec, Market market, ClusterSnapshot snapshot)
    {
        // Answers hold while the offers and spot signals are the same (each snapshot wraps the same
        // immutable table until a trouble is recorded), time has not gone back and no cooldown that
        // hid an offer has run out.
        if (!ReferenceEquals(_cheapestFor, snapshot.Offers) || !ReferenceEquals(_cheapestSignals, snapshot.Spot.LastTroubleByZoneModel)
            || snapshot.Now < _cheapestAt || snapshot.Now >= _cheapestUntil || _cheapestHazards != Models.Spot.Revision)
        {
            _cheapestFit.Clear();
            (_cheapestFor, _cheapestSignals, _cheapestUntil, _cheapestHazards) = (snapshot.Offers, snapshot.Spot.LastTroubleByZoneModel, DateTimeOffset.MaxValue, Models.Spot.Revision);
            Array.Clear(_lastCheapest);
        }
        // The scheduler asks about one job across many nodes in a row, Best across offers in both
        // markets: remember the last answer per market.
        _cheapestAt = snapshot.Now;
        var slot = (int)market;
        if (ReferenceEquals(spec, _lastCheapest[slot].Spec)) return _lastCheapest[slot].Cheapest;
        var key = (spec.Resources.Cpus, spec.Resources.MemoryGiB, market, spec.Zones.Count == 0 ? "" : string.Join(',', spec.Zones));
        if (!_cheapestFit.TryGetValue(key, out var c)) _cheapestFit[key] = c = Cheapest(spec, market, snapshot);
        _lastCheapest[slot] = (spec, c);
        return c;
    }

    private decimal Cheapest(JobSpec spec, Market market, ClusterSnapshot snapshot)
    {
        var c = 0m;
        foreach (var o in snapshot.Offers)
        {
            if (!Eligibility.ShapeAllows(spec, o) || o.PricePerHour(market) is not { } p || (c != 0 && p >= c)) continue;
            if (market == Market.Spot && SpotCooldownUntil(snapshot, o) is { } until)
            {
                if (until < _cheapestUntil) _cheapestUntil = until;
                continue;
            }
            if (market == Market.Spot && TooRiskyForAnyJob(o)) continue;
            c = p;
        }
        return c;
    }

    /// <summary>Whether spot in the offer's zone is refused even to a job that loses nothing but the
    /// restart overhead per loss (a service): its learned hazard × the restart overhead is over
    /// <see cref="GureumOptions.MaxSpotLossOverhead"/>. Such an offer is no reference price for a
    /// CPU-only job (<see cref="PackingMismatch"/>): no job would be bought one.</summary>
    private bool TooRiskyForAnyJob(Offer o) =>
        Models.Spot.Hazard(o.Zone, o.GpuModel) * Options.RestartOverhead.TotalHours > Options.MaxSpotLossOverhead;

    protected override bool MayPackOnto(JobView job, Node node) => _snapshot is null || PackingMismatch(job, node, _snapshot) is null;

    /// <summary>A booting node whose job started elsewhere first is released at once.</summary>
    protected override bool ReleaseUnneededBooting => true;

    /// <summary>The replacements of running jobs that move once they are ready.</summary>
    protected override bool Reserved(Node node) => _reservedNodes.Contains(node.Id);

    protected override string? ExplainChoice(JobView job, Offer offer, Market market) => _explain.GetValueOrDefault(job.Id);

    /// <summary>
    /// Learning-augmented ski rental (Purohit, Svitkina, Kumar, NeurIPS 2018). Renting = keeping an
    /// empty node; buying = releasing it and paying a new boot (the billed boot time, plus
    /// <see cref="GureumOptions.SkiBootWaitWeight"/> × a job's wait for it counted as node time) when
    /// work comes back: break-even B = boot delay × (1 + that weight) + the 60 s minimum bill. Prediction y = idle nodes ÷ GPU-job arrival rate of the last hour (time until
    /// this node is needed). If y ≥ B release after λB, else after B/λ. Worst case (1 + 1/λ)× the
    /// offline optimum of idle + reboot cost whatever the predictions; (1 + λ)× when they are right.
    /// </summary>
    protected override (TimeSpan Keep, string Reason) IdleKeep(Node node, ClusterSnapshot snapshot)
    {
        var lambda = Math.Clamp(Options.SkiTrust, 0.05, 1);
        var b = node.Offer.BootDelay * (1 + Math.Max(0, Options.SkiBootWaitWeight)) + TimeSpan.FromSeconds(60);
        // Next use: by the jobs that may start alone on it (at least half its GPUs, see
        // OversizedNodeMaxCostRatio), shared with the idle nodes of its size.
        var g = node.Offer.GpuCount;
        var bySize = g >= 1 && Options.OversizedNodeMaxCostRatio > 0;
        var rate = bySize ? Models.ArrivalsPerHour(snapshot.Now, g == 1 ? 1 : g * 500, g * 1000) : Models.ArrivalsPerHour(snapshot.Now);
        var idle = bySize ? _idleBySize.GetValueOrDefault(g) : _idleNodes;
        var y = rate > 0 ? TimeSpan.FromHours(Math.Max(1, idle) / rate) : TimeSpan.MaxValue;
        var keep = y >= b ? b * lambda : b / lambda;
        return (keep, $"ski rental: idle {keep.TotalMinutes:0.#} min (break-even {b.TotalMinutes:0.#} min, next use predicted in {(y == TimeSpan.MaxValue ? "never" : $"{y.TotalMinutes:0.#} min")}, trust {lambda:0.##}; worst case {1 + 1 / lambda:0.#}× optimal)");
    }

    /// <summary>Records own releases (so they are not taken for reclaims) and moves checkpointing
    /// deadline jobs off spot when their slack no longer covers a loss.</summary>
    protected override void EndDecision(ClusterSnapshot snapshot, List<PlanAction> actions)
    {
        CompleteMoves(snapshot, actions);
        RecordClaims(snapshot, actions);
        if (Options.ServiceMoveMinSaving > 0 && snapshot.Now >= _nextMoveCheck)
        {
            _nextMoveCheck = snapshot.Now + Options.ServiceMoveCheckEvery;
            MoveToCheaperCapacity(snapshot, actions);
        }
        foreach (var a in actions) if (a is TerminateNode t) Models.ReleasedByPolicy(t.NodeId);
        foreach (var j in snapshot.Running.Values)
        {
            if (j.Spec.Deadline is not { } dl || !j.Spec.KeepsWorkOnPreemption || j.Spec.Spot == SpotPreference.Always || j.Placements.Count == 0) continue;
            if (snapshot.FindNode(j.Placements[0].NodeId) is not { } node || node.Market != Market.Spot) continue;
            if (Suitable(j, node, snapshot) is { } why)
                actions.Add(new PreemptJob(j.Id, $"deadline {dl:u}: slack no longer covers a spot loss ({why}); moving to on-demand"));
        }
    }

    /// <summary>Decide again when the first spot cooldown a job waits for ends, and while services run
    /// or wait, at the next move check (a replay decides only when something happens; a long-lived
    /// service alone would never be reconsidered).</summary>
    protected override DateTimeOffset? NextWake(ClusterSnapshot snapshot)
    {
        DateTimeOffset? spot = null;
        foreach (var (until, _) in _spotWaits.Values)
            if (until > snapshot.Now && (spot is null || until < spot)) spot = until;
        return Earliest(spot, ServiceWake(snapshot));
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private DateTimeOffset? ServiceWake(ClusterSnapshot snapshot)
    {
        if (Options.ServiceMoveMinSaving <= 0) return null;
        // The service found last time is usually still running: look it up before scanning.
        if (snapshot.Running.TryGetValue(_lastServiceSeq, out var last) && last.Spec.Kind == JobKind.Service) return _nextMoveCheck;
        foreach (var j in snapshot.Running.Values)
            if (j.Spec.Kind == JobKind.Service)
            {
                _lastServiceSeq = j.Seq;
                return _nextMoveCheck;
            }
        foreach (var j in snapshot.Pending) if (j.Spec.Kind == JobKind.Service) return _nextMoveCheck; // about to run
        return null;
    }

    /// <summary>Predicted remaining run time of a job (reference seconds) and what it is expected to cost
    /// alone on this node, which is already booted (no boot counted).</summary>
    private (double Rem, double StayUsd) StayCost(JobView j, Node node, ClusterSnapshot snapshot)
    {
        var rem = Models.PredictRemainingSeconds(j, snapshot.Now).Estimate;
        return (rem, AloneCostOnBooted(j.Spec, rem, node));
    }

    /// <summary>
    /// Moves running jobs that keep their work to cheaper capacity (SkyServe's re-placement of spot
    /// replicas, Karpenter's replace-consolidation): a service or checkpointing job (no deadline) alone
    /// on its node whose predicted remaining run there costs at least
    /// <see cref="GureumOptions.ServiceMoveMinSaving"/> more than on the best new node now (boot
    /// included; spot offers in cooldown are not candidates) gets that node bought for it. It runs on
    /// where it is until the replacement is ready (make before break, as Karpenter launches before it
    /// drains): then <see cref="CompleteMoves"/> moves it and releases the old node. A failed spot
    /// request or a reclaim while booting costs the job nothing. A service loses no work by moving; a
    /// checkpointing job redoes the work since its last checkpoint, counted in the new node's cost.
    /// Typical cases: a job that fell back to on-demand or a dearer zone while its cheap spot zone was
    /// in cooldown, or a small job left alone on a big node.
    /// </summary>
    private void MoveToCheaperCapacity(ClusterSnapshot snapshot, List<PlanAction> actions)
    {
        var bestPlace = new Dictionary<int, (Offer Offer, Market Market)?>(); // by MoveShapeId
        var firstOfShape = new Dictionary<int, JobView>();
        var busy = new HashSet<string>(StringComparer.Ordinal);
        // Leave alone what this decision already touches: preempted jobs, nodes released or being
        // started on.
        foreach (var a in _scheduled.Concat(actions))
        {
            if (a is PreemptJob p) busy.Add(p.JobId);
            else if (a is TerminateNode t) busy.Add(t.NodeId);
            else if (a is StartJob st) foreach (var pl in st.Placements) busy.Add(pl.NodeId);
        }
        var moves = 0;
        IntoTargets? into = null;
        foreach (var j in snapshot.Running.Values)
        {
            if (moves >= Options.MaxServiceMovesPerDecision) break;
            if (!j.Spec.KeepsWorkOnPreemption || j.Spec.Deadline is not null || j.Placements.Count != 1 || busy.Contains(j.Id) || _moves.ContainsKey(j.Id)) continue;
            if (snapshot.FindNode(j.Placements[0].NodeId) is not { } node || node.Fixed || node.RunningJobs != 1 || node.State != NodeState.Ready || busy.Contains(node.Id)) continue;
            if (Options.ConsolidateIntoRunningNodes && IntoRunningNode(j, node, snapshot, busy, ref into) is { } c)
            {
                actions.Add(new PreemptJob(j.Id, $"moves onto {c.Target.Id}: {c.Why}"));
                actions.Add(new TerminateNode(node.Id, $"released: {j.Id} moved onto {c.Target.Id}, where jobs run"));
                actions.Add(new StartJob(j.Id, [c.Slice], $"consolidated: {c.Why}"));
                busy.Add(node.Id);
                busy.Add(c.Target.Id);
                moves++;
                continue;
            }
            var key = MoveShapeId(j.Spec); // (ShapeKey, reference GPU, kind, checkpoint interval)
            // Best is asked about the first job of a shape. Predicting a job before knowing whether it
            // may move changes nothing only for that one (Best predicts it first thing) and for one
            // predicted before; then a move that cannot save enough skips Best.
            var first = firstOfShape.TryAdd(key, j);
            var early = first || Models.HasPredicted(j.Spec);
            double rem = 0, stayUsd = 0;
            if (early)
            {
                (rem, stayUsd) = StayCost(j, node, snapshot);
                if (NoMoveCanSaveEnough(j.Spec, rem, stayUsd, snapshot)) continue; // what asking Best would lead to
            }
            if (!bestPlace.TryGetValue(key, out var place))
                bestPlace[key] = place = Best(firstOfShape[key], snapshot, null, out _) is { } b ? (b.Offer, b.Market) : null;
            if (place is not { } to || (ReferenceEquals(to.Offer, node.Offer) && to.Market == node.Market)) continue;
            if (!early) (rem, stayUsd) = StayCost(j, node, snapshot);
            var lost = LostByMoving(j, node, snapshot);
            var move = CostModel.Estimate(j.Spec, rem + lost, to.Offer, to.Market, Models.Spot.Hazard(to.Offer.Zone, to.Offer.GpuModel), 0, Options.RestartOverhead);
            // Make before break: this node bills on while the new one boots. (The work done here
            // meanwhile is not credited: a slight overestimate, which keeps MoveCostLowerBound a bound.)
            var overlapUsd = (double)(node.Offer.PricePerHour(node.Market) ?? 0) * to.Offer.BootDelay.TotalHours;
            if (move.ExpectedUsd + overlapUsd > (1 - Options.ServiceMoveMinSaving) * stayUsd) continue;
            var what = j.Spec.Kind == JobKind.Service ? "service" : $"checkpointing job (redoes {lost / 60:0} min of work)";
            var why = $"{what} {j.Id} moves to cheaper capacity: ~${stayUsd:0.##} for the predicted {rem / 3600:0.#} h left on {node.Offer.Id} {node.Market}, {move}";
            actions.Add(new ProvisionNode(to.Offer, to.Market, $"replacement for {j.Id} (it runs on until this node is ready): {why}") { ForJobs = [j.Id] });
            _moves[j.Id] = new PendingMove(j.Seq, node.Id, to.Offer, to.Market, snapshot.Now, why);
            busy.Add(node.Id);
            moves++;
        }
    }

    /// <summary>
    /// Delete-consolidation (Karpenter's, for jobs that move without loss): a job that keeps its work,
    /// alone on its node, moves into the free room of a node where other jobs run, and its own node is
    /// released, when its predicted remaining run costs no more on that node alone than where it is
    /// (so if the jobs there end first, it is no worse off; while they run it costs nothing extra).
    /// Of the nodes it fits on now (eligible, fast enough, spot risk within budget, not touched by this
    /// decision, not a move's replacement or source, not held for waiting jobs), the one where it would
    /// cost least alone. A checkpointing job's cost there includes the work since its last checkpoint.
    /// Typical case: fractional-GPU services left alone on a 1-GPU node after their neighbours ended.
    /// </summary>
    private (Node Target, Placement Slice, string Why)? IntoRunningNode(JobView j, Node node, ClusterSnapshot snapshot, HashSet<string> busy, ref IntoTargets? into)
    {
        into ??= new IntoTargets(snapshot, _reservedNodes, _claimByNode.Keys, _moves.Values.Select(m => m.FromNodeId));
        var fitting = into.Fitting(MoveShapeId(j.Spec), j.Spec);
        if (fitting.Count == 0) return null;
        var spec = j.Spec;
        double rem = 0, stayUsd = 0, lost = 0;
        List<(Node Node, double Usd)>? cheaper = null;
        foreach (var t in fitting)
        {
            if (t.Id == node.Id || busy.Contains(t.Id)) continue;
            if (cheaper is null)
            {
                // The stay is costed (a prediction) only once some node fits.
                (rem, stayUsd) = StayCost(j, node, snapshot);
                lost = LostByMoving(j, node, snapshot);
                cheaper = [];
            }
            // Loss-free time at the node's price bounds its expected cost from below: most nodes stop here.
            if ((double)(t.Offer.PricePerHour(t.Market) ?? 0) * (rem + lost) / 3600 / CostModel.Speed(spec, t.Offer) > stayUsd) continue;
            var usd = AloneCostOnBooted(spec, rem + lost, t);
            if (usd <= stayUsd) cheaper.Add((t, usd));
        }
        if (cheaper is not { Count: > 0 }) return null;
        // The cheapest where the job may run (speed, spot risk); ties in node order.
        Node? best = null;
        var bestUsd = 0.0;
        foreach (var (t, usd) in cheaper.OrderBy(c => c.Usd))
            if (Suitable(j, t, snapshot) is null) { (best, bestUsd) = (t, usd); break; }
        if (best is null || Fit.Slice(spec.Resources, best) is not { } slice) return null;
        var what = spec.Kind == JobKind.Service ? "service" : $"checkpointing job (redoes {lost / 60:0} min of work)";
        return (best, slice, $"{what} {j.Id} alone on {node.Offer.Id} {node.Market} (~${stayUsd:0.##} for the predicted {rem / 3600:0.#} h left) fits beside the {best.RunningJobs} job(s) on {best.Id} ({best.Offer.Id} {best.Market}, ~${bestUsd:0.##} there even alone); {node.Id} is released");
    }

    /// <summary>The nodes a job may move into at one move check (<see cref="IntoRunningNode"/>): ready,
    /// running jobs, not a move's replacement or source, not held for waiting jobs; and per job shape
    /// (<see cref="MoveShapeId"/>, which fixes everything fit and eligibility read) those it fits in
    /// and may use. Nodes taken during the check are excluded by the caller.</summary>
    private sealed class IntoTargets
    {
        private readonly List<Node> _nodes = [];
        private readonly Dictionary<int, List<Node>> _byShape = [];

        public IntoTargets(ClusterSnapshot snapshot, IReadOnlySet<string> reserved, IEnumerable<string> held, IEnumerable<string> moving)
        {
            var excluded = new HashSet<string>(held, StringComparer.Ordinal);
            excluded.UnionWith(moving);
            foreach (var n in snapshot.Nodes)
                if (n.State == NodeState.Ready && n.RunningJobs > 0 && !reserved.Contains(n.Id) && !excluded.Contains(n.Id))
                    _nodes.Add(n);
        }

        public List<Node> Fitting(int shapeId, JobSpec spec)
        {
            if (_byShape.TryGetValue(shapeId, out var list)) return list;
            list = [];
            foreach (var n in _nodes)
                if (Fit.Fits(spec.Resources, n) && Eligibility.Allows(spec, n)) list.Add(n);
            return _byShape[shapeId] = list;
        }
    }

    /// <summary>Work (reference seconds) a job loses by moving now: none for a service, the work since
    /// its last checkpoint for a checkpointing job.</summary>
    private double LostByMoving(JobView j, Node node, ClusterSnapshot snapshot) => j.Spec.Kind == JobKind.Service ? 0
        : (Progress.WorkDoneAt(j, snapshot.Now, node.Offer.GpuModel, Options.RestartOverhead) - Progress.WorkSavedAt(j, snapshot.Now, node.Offer.GpuModel, Options.RestartOverhead)).TotalSeconds;

    /// <summary>Expected cost of <paramref name="refSeconds"/> of a job's work alone on a node that is already booted.</summary>
    private double AloneCostOnBooted(JobSpec spec, double refSeconds, Node node) =>
        CostModel.Estimate(spec, refSeconds, node.Offer, node.Market, Models.Spot.Hazard(node.Offer.Zone, node.Offer.GpuModel), 0, Options.RestartOverhead).ExpectedUsd
        - (double)(node.Offer.PricePerHour(node.Market) ?? 0) * node.Offer.BootDelay.TotalHours;

    /// <summary>
    /// Follows the moves bought earlier (<see cref="MoveToCheaperCapacity"/>): finds each one's new
    /// node (bought by that decision: same offer, market and request time) and reserves it, and drops
    /// the move when the job no longer runs where it did, or the node is gone (failed request,
    /// reclaim, released) or was taken by another job. A dropped move's node, if any, is an ordinary
    /// node again.
    /// </summary>
    private void TrackMoves(ClusterSnapshot snapshot)
    {
        _reservedNodes.Clear();
        if (_moves.Count == 0) return;
        foreach (var m in _moves.Values)
            if (m.NodeId is { } id) _reservedNodes.Add(id);
        List<string>? drop = null;
        foreach (var (jobId, m) in _moves)
        {
            var stays = snapshot.Running.TryGetValue(m.Seq, out var j) && j.Placements.Count == 1 && j.Placements[0].NodeId == m.FromNodeId;
            if (stays && m.NodeId is null) m.NodeId = BoughtAt(snapshot, m.RequestedAt, m.Offer, m.Market, _reservedNodes.Add);
            if (stays && m.NodeId is { } nodeId && snapshot.FindNode(nodeId) is { IsAlive: true, RunningJobs: 0 }) continue;
            (drop ??= []).Add(jobId);
            if (m.NodeId is { } gone) _reservedNodes.Remove(gone);
        }
        if (drop is not null) foreach (var id in drop) _moves.Remove(id);
    }

    /// <summary>How a node a decision bought is found once it is in a snapshot: the first node requested
    /// at <paramref name="at"/>, of this offer and market, that <paramref name="take"/> accepts (and
    /// takes: a node found for one purchase is not found for another); null while there is none.</summary>
    private static string? BoughtAt(ClusterSnapshot snapshot, DateTimeOffset at, Offer offer, Market market, Func<string, bool> take)
    {
        foreach (var n in snapshot.Nodes)
            if (n.RequestedAt == at && n.Market == market && ReferenceEquals(n.Offer, offer) && take(n.Id)) return n.Id;
        return null;
    }

    /// <summary>Makes the moves whose new node is ready: the job is preempted, started there in the
    /// same plan (preemptions apply before starts) and its old node released.</summary>
    private void CompleteMoves(ClusterSnapshot snapshot, List<PlanAction> actions)
    {
        if (_moves.Count == 0) return;
        HashSet<string>? taken = null; // nodes this decision starts a job on or releases
        List<string>? done = null;
        foreach (var (jobId, m) in _moves)
        {
            if (m.NodeId is not { } id || snapshot.FindNode(id) is not { State: NodeState.Ready } node) continue;
            if (taken is null)
            {
                taken = new HashSet<string>(StringComparer.Ordinal);
                foreach (var a in _scheduled.Concat(actions))
                    if (a is TerminateNode t) taken.Add(t.NodeId);
                    else if (a is StartJob st) foreach (var pl in st.Placements) taken.Add(pl.NodeId);
            }
            (done ??= []).Add(jobId);
            if (taken.Contains(id) || taken.Contains(m.FromNodeId) || !snapshot.Running.TryGetValue(m.Seq, out var job)
                || Fit.Slice(job.Spec.Resources, node) is not { } slice) continue; // dropped: the node is an ordinary one again
            actions.Add(new PreemptJob(jobId, $"moves to its replacement {id}, ready now: {m.Why}"));
            actions.Add(new TerminateNode(m.FromNodeId, $"released: {jobId} moved to {id}"));
            actions.Add(new StartJob(jobId, [slice], $"moved to cheaper capacity: {m.Why}"));
            taken.Add(id);
            taken.Add(m.FromNodeId);
        }
        if (done is not null)
            foreach (var id in done)
            {
                if (_moves.Remove(id, out var m) && m.NodeId is { } n) _reservedNodes.Remove(n);
            }
    }
}
