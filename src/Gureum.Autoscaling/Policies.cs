using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;
using Gureum.Scheduling.Framework;
using Gureum.Scheduling.Plugins;

namespace Gureum.Autoscaling;

/// <summary>Options shared by the elastic policies.</summary>
public sealed record ElasticOptions
{
    /// <summary>An empty ready node is released after this long. Default 10 min (Kubernetes Cluster
    /// Autoscaler's scale-down-unneeded-time).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>After a spot request fails or a spot node is reclaimed in a zone, that zone and GPU
    /// model are avoided for this long. Default 1 h.</summary>
    public TimeSpan SpotCooldown { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Spot runs a job may lose before it falls back to on-demand (spot-fallback).
    /// Default 2; must match the scheduler's <c>spot-retry-limit</c> filter.</summary>
    public int SpotRunsBeforeOnDemand { get; init; } = SpotRetryLimitFilter.DefaultMaxRuns;

    /// <summary>Most nodes requested in one decision; the rest are bought by the next decision,
    /// <see cref="RescanWhenLimited"/> later. Default 1000 (Cluster Autoscaler's
    /// <c>--max-nodes-per-scaleup</c>).</summary>
    public int MaxProvisionPerDecision { get; init; } = 1000;

    /// <summary>When a decision stopped at <see cref="MaxProvisionPerDecision"/>, the next one comes
    /// this much later instead of waiting for the next event. Default 10 s (Cluster Autoscaler's
    /// <c>--scan-interval</c>).</summary>
    public TimeSpan RescanWhenLimited { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A fixed fleet, never scaled: the on-premises or fixed-reservation baseline. Jobs that fit no
/// fleet node are unschedulable.
/// </summary>
public sealed class StaticPolicy : IAutoscalerPolicy
{
    private readonly Dictionary<ShapeKey, bool> _memo = [];
    private int _memoFleet = -1;

    public string Name => "static";

    public bool CanEverRun(JobSpec job, ClusterSnapshot snapshot, out string reason)
    {
        if (_memoFleet != snapshot.Nodes.Count) { _memo.Clear(); _memoFleet = snapshot.Nodes.Count; }
        var key = ShapeKey.Of(job);
        if (!_memo.TryGetValue(key, out var ok))
        {
            // A gang needs as many distinct eligible nodes as it has members.
            var eligible = 0;
            foreach (var n in snapshot.Nodes)
                if (n.IsAlive && Eligibility.Allows(job, n) && ++eligible >= job.Resources.Nodes) break;
            ok = eligible >= job.Resources.Nodes;
            _memo[key] = ok;
        }
        reason = ok ? "" : $"fits no{(job.Resources.Nodes > 1 ? $" {job.Resources.Nodes} nodes" : " node")} of the fixed fleet";
        return ok;
    }

    public AutoscaleDecision Decide(ClusterSnapshot snapshot, SchedulingResult scheduled) =>
        new([], null) { Otherwise = "the fleet is fixed (policy static): it starts when jobs running on an eligible node end" };
}

/// <summary>A job's shape for memoizing feasibility (the spec fields that decide it).</summary>
internal readonly record struct ShapeKey(ResourceRequest Resources, string Models, string Zones, SpotPreference Spot)
{
    public static ShapeKey Of(JobSpec job) => new(
        job.Resources,
        Joined(job.GpuModels),
        Joined(job.Zones),
        job.Spot);

    private static string Joined(IReadOnlyList<string> parts) => parts.Count switch { 0 => "", 1 => parts[0], _ => string.Join('|', parts) };
}

/// <summary>
/// Shared machinery of policies that buy and release nodes: memoized feasibility against the
/// offers, packing of waiting jobs into capacity already on its way, capacity limits, and
/// idle scale-down. Subclasses choose the offer and market for a job.
/// </summary>
public abstract class ElasticPolicy(ElasticOptions options) : IAutoscalerPolicy
{
    private readonly Dictionary<ShapeKey, bool> _memo = [];
    private IReadOnlyList<Offer>? _memoOffers;
    private readonly Dictionary<string, string> _booting = new(StringComparer.Ordinal); // node id → "node … is booting, ready ~…"

    protected ElasticOptions Options => options;

    public abstract string Name { get; }

    /// <summary>The offer and market to buy for a job that fits nowhere, or null to wait.</summary>
    /// <param name="job">The waiting job.</param>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="hasCapacity">Whether one more node of an offer stays within its capacity limit.</param>
    protected abstract (Offer Offer, Market Market)? Choose(JobView job, ClusterSnapshot snapshot, Func<Offer, bool> hasCapacity);

    public bool CanEverRun(JobSpec job, ClusterSnapshot snapshot, out string reason)
    {
        if (!ReferenceEquals(_memoOffers, snapshot.Offers)) { _memo.Clear(); _memoOffers = snapshot.Offers; }
        var key = ShapeKey.Of(job);
        if (!_memo.TryGetValue(key, out var ok))
        {
            ok = snapshot.Offers.Any(o => Eligibility.Allows(job, o, Market.OnDemand) || Eligibility.Allows(job, o, Market.Spot))
                 || snapshot.Nodes.Any(n => n.Fixed && Eligibility.Allows(job, n));
            _memo[key] = ok;
        }
        reason = ok ? "" : "fits no offer in the catalog (check GPU model, zones, size and spot preference)";
        return ok;
    }

    public AutoscaleDecision Decide(ClusterSnapshot snapshot, SchedulingResult scheduled)
    {
        var actions = new List<PlanAction>();
        var ctx = scheduled.Context;
        BeginDecision(snapshot, scheduled);

        // Capacity on its way: booting nodes and what this decision buys, with waiting jobs packed in.
        var virtualNodes = new InFlightCapacity();
        foreach (var n in snapshot.Nodes)
            if (n.IsInFlight && !Reserved(n)) virtualNodes.Add(n);
        // Nodes per offer, counted when an offer with a capacity limit is first asked about.
        Dictionary<string, int>? perOffer = null;
        Dictionary<string, int> PerOffer()
        {
            if (perOffer is not null) return perOffer;
            perOffer = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var n in snapshot.Nodes) perOffer[n.Offer.Id] = perOffer.GetValueOrDefault(n.Offer.Id) + 1;
            return perOffer;
        }
        bool HasCapacity(Offer o) => o.CapacityLimit is not { } cap || PerOffer().GetValueOrDefault(o.Id) < cap;
        var inFlight = virtualNodes.Count;
        var needed = new bool[inFlight]; // booting nodes some waiting job is packed into
        var allSeen = true; // every waiting job had its chance to claim a booting node
        var limited = false; // this decision stopped at its purchase limit

        var requested = 0;
        var waitingFor = new Dictionary<string, string>(scheduled.Waiting.Count, StringComparer.Ordinal);
        var boughtNow = new List<string?>();
        if (_booting.Count > 2 * virtualNodes.Count + 1000) _booting.Clear(); // texts of nodes that have booted since
        // Nodes this decision buys, by their index in virtualNodes: the jobs each is bought for.
        var boughtFor = new Dictionary<int, List<string>>();
        // Jobs first take the nodes on their way that the policy holds for them, whatever their place in the queue.
        Dictionary<long, int>? held = null;
        foreach (var w in scheduled.Waiting)
        {
            if (!w.CapacityHelps || w.Job.Spec.Resources.Nodes > 1 || HeldNodeFor(w.Job) is not { } heldId) continue;
            var view = w.Job;
            if (virtualNodes.TryPack(view.Spec.Resources, (offer, market) => Eligibility.Allows(view.Spec, offer, market) && MayUse(view, market),
                    n => n.Id == heldId && MayPackOnto(view, n), out var at))
                (held ??= [])[view.Seq] = at;
        }
        foreach (var w in scheduled.Waiting)
        {
            if (requested >= options.MaxProvisionPerDecision) { allSeen = false; limited = true; break; }
            if (!w.CapacityHelps) continue;
            var job = w.Job.Spec;
            if (job.Resources.Nodes > 1) allSeen = false; // a gang does not pack: its booting nodes are not tracked here
            if ((held is not null && held.Remove(w.Job.Seq, out var into)) || PackInto(virtualNodes, w.Job, out into))
            {
                if (into < inFlight) needed[into] = true;
                waitingFor[w.Job.Id] = WaitExplanations.OnItsWay(virtualNodes.Nodes[into], snapshot.Now, _booting, boughtNow, into);
                boughtFor.GetValueOrDefault(into)?.Add(w.Job.Id);
                continue;
            }
            if (Choose(w.Job, snapshot, HasCapacity) is not { } choice)
            {
                if (WhyNotBought(w.Job) is { } why0) waitingFor[w.Job.Id] = why0;
                continue;
            }
            var why = ExplainChoice(w.Job, choice.Offer, choice.Market) ?? $"for {w.Job.Id}";
            for (var k = 0; k < job.Resources.Nodes; k++)
            {
                var node = Node.Create($"virtual-{virtualNodes.Count}", choice.Offer, choice.Market, NodeState.Requested, snapshot.Now);
                if (Fit.Slice(job.Resources, node) is { } slice) node = NodeAccounting.Allocate(node, slice);
                var forJobs = new List<string> { w.Job.Id };
                boughtFor[virtualNodes.Count] = forJobs;
                virtualNodes.Add(node);
                if (perOffer is not null || choice.Offer.CapacityLimit is not null) PerOffer()[choice.Offer.Id] = PerOffer().GetValueOrDefault(choice.Offer.Id) + 1;
                actions.Add(new ProvisionNode(choice.Offer, choice.Market, why) { ForJobs = forJobs });
                requested++;
            }
            waitingFor[w.Job.Id] = WaitExplanations.Buying(choice.Offer, choice.Market, job.Resources.Nodes, snapshot.Now);
        }

        if (ReleaseUnneededBooting && allSeen)
            for (var i = 0; i < inFlight; i++)
                if (!needed[i] && !virtualNodes.Nodes[i].Fixed)
                    actions.Add(new TerminateNode(virtualNodes.Nodes[i].Id, "booting, but no waiting job needs it any more (the job it was bought for started elsewhere): released before it bills longer"));

        DateTimeOffset? wake = null;
        for (var i = 0; i < ctx.NodeCount; i++)
        {
            var node = ctx.NodeAt(i);
            if (node.Fixed || node.RunningJobs > 0) continue;
            if (node.State == NodeState.Draining)
            {
                actions.Add(new TerminateNode(node.Id, "drained"));
                continue;
            }
            if (node.State != NodeState.Ready || node.IdleSince is not { } idle) continue;
            var (keep, reason) = IdleKeep(node, snapshot);
            var due = idle + keep;
            if (due <= snapshot.Now) actions.Add(new TerminateNode(node.Id, reason));
            else if (wake is null || due < wake) wake = due;
        }
        EndDecision(snapshot, actions);
        if (NextWake(snapshot) is { } again && again > snapshot.Now && (wake is null || again < wake)) wake = again;
        if (limited)
        {
            var rescan = snapshot.Now + options.RescanWhenLimited;
            if (wake is null || rescan < wake) wake = rescan;
        }
        return new AutoscaleDecision(actions, wake)
        {
            WaitingFor = waitingFor,
            Otherwise = $"no offer it may use can be bought now (offer capacity limits, spot cooldown or the policy's choice), or this decision already requested its limit of {options.MaxProvisionPerDecision} nodes; reconsidered at every decision",
        };
    }

    /// <summary>Whether a booting node that no waiting job is packed into is released at once (its
    /// job started elsewhere first) instead of booting into an idle node. Default: no (Cluster
    /// Autoscaler and SkyPilot let it boot).</summary>
    protected virtual bool ReleaseUnneededBooting => false;

    /// <summary>Called first in every <see cref="Decide"/> (learning policies observe the snapshot here).</summary>
    protected virtual void BeginDecision(ClusterSnapshot snapshot, SchedulingResult scheduled) { }

    /// <summary>Called last in every <see cref="Decide"/> with the capacity actions decided; it may add more (e.g. preemptions).</summary>
    protected virtual void EndDecision(ClusterSnapshot snapshot, List<PlanAction> actions) { }

    /// <summary>When the spot cooldown of an offer's zone and GPU model ends (a reclaim or failed
    /// request less than <see cref="ElasticOptions.SpotCooldown"/> ago), or null when it has none.</summary>
    protected DateTimeOffset? SpotCooldownUntil(ClusterSnapshot snapshot, Offer offer) =>
        snapshot.Spot.LastTrouble(offer.Zone, offer.GpuModel) is { } t && snapshot.Now - t < options.SpotCooldown ? t + options.SpotCooldown : null;

    /// <summary>When the policy wants to decide again even if nothing happens (e.g. to re-check
    /// running work), or null; called after <see cref="EndDecision"/>.</summary>
    protected virtual DateTimeOffset? NextWake(ClusterSnapshot snapshot) => null;

    /// <summary>Why a node was bought for a job (the provision action's reason), or null for the default.</summary>
    protected virtual string? ExplainChoice(JobView job, Offer offer, Market market) => null;

    /// <summary>Why <see cref="Choose"/> bought nothing for a job just now, when the policy chose to
    /// wait (shown as the job's reason); null for the general reason.</summary>
    protected virtual string? WhyNotBought(JobView job) => null;

    /// <summary>How long an empty ready node is kept before release, and the release reason.
    /// Default: <see cref="ElasticOptions.IdleTimeout"/>.</summary>
    protected virtual (TimeSpan Keep, string Reason) IdleKeep(Node node, ClusterSnapshot snapshot) =>
        (options.IdleTimeout, $"idle for {options.IdleTimeout.TotalMinutes:F0} min");

    private bool PackInto(InFlightCapacity virtualNodes, JobView view, out int into)
    {
        into = -1;
        var job = view.Spec;
        if (job.Resources.Nodes > 1) return false; // a gang gets fresh nodes of its own
        return virtualNodes.TryPack(job.Resources,
            (offer, market) => Eligibility.Allows(job, offer, market) && MayUse(view, market),
            n => MayPackOnto(view, n), out into);
    }

    /// <summary>Whether a node on its way is set aside for a purpose of the policy's own (e.g. the
    /// replacement of a running job that moves once it is ready): waiting jobs are not packed into it
    /// and it is not released as unneeded. Default: none is.</summary>
    protected virtual bool Reserved(Node node) => false;

    /// <summary>Whether the policy lets this job use a market at all now (default: yes).</summary>
    protected virtual bool MayUse(JobView job, Market market) => true;

    /// <summary>The node on its way (id) that the policy holds for this waiting job: the job is packed
    /// into it before any other waiting job is packed anywhere. Default: none.</summary>
    protected virtual string? HeldNodeFor(JobView job) => null;

    /// <summary>Whether a waiting job may be packed onto capacity already on its way (default: yes).</summary>
    protected virtual bool MayPackOnto(JobView job, Node node) => true;

    /// <summary>"$3.06/h", or "no price" when the offer has none in that market.</summary>
    protected static string Price(Offer offer, Market market) =>
        offer.PricePerHour(market) is { } p ? $"${p.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}/h" : "no price";

    /// <summary>The cheapest eligible offer in a market by hourly price (ties: fewer GPUs, then id).</summary>
    protected static Offer? Cheapest(JobSpec job, IEnumerable<Offer> offers, Market market, Func<Offer, bool> hasCapacity)
    {
        Offer? best = null;
        foreach (var o in offers)
        {
            if (!Eligibility.Allows(job, o, market) || !hasCapacity(o)) continue;
            if (best is null) { best = o; continue; }
            var c = o.PricePerHour(market)!.Value.CompareTo(best.PricePerHour(market)!.Value);
            if (c < 0 || (c == 0 && (o.GpuCount < best.GpuCount || (o.GpuCount == best.GpuCount && string.CompareOrdinal(o.Id, best.Id) < 0)))) best = o;
        }
        return best;
    }
}

/// <summary>
/// Like the Kubernetes Cluster Autoscaler: when jobs wait, buy the cheapest on-demand offer that
/// fits each one (packing later jobs into nodes already on their way); release nodes idle for
/// <see cref="ElasticOptions.IdleTimeout"/>.
/// </summary>
public sealed class ReactivePolicy(ElasticOptions? options = null) : ElasticPolicy(options ?? new ElasticOptions())
{
    public override string Name => "reactive";

    protected override (Offer Offer, Market Market)? Choose(JobView job, ClusterSnapshot snapshot, Func<Offer, bool> hasCapacity) =>
        Cheapest(job.Spec, snapshot.Offers, Market.OnDemand, hasCapacity) is { } o ? (o, Market.OnDemand) : null;

    protected override string? ExplainChoice(JobView job, Offer offer, Market market) =>
        $"bought for {job.Id}: the cheapest on-demand offer it fits in any zone it may use ({offer.Zone}, {Price(offer, market)})";
}

/// <summary>
/// Like SkyPilot managed spot jobs: spot first, in the cheapest zone without recent trouble; after
/// a failed request or a reclaim the zone is avoided for <see cref="ElasticOptions.SpotCooldown"/>
/// and the job retries another zone, falling back to on-demand when no spot zone is left or it has
/// lost <see cref="ElasticOptions.SpotRunsBeforeOnDemand"/> spot runs (unless it wants spot only).
/// Jobs restart from their last checkpoint.
/// </summary>
public sealed class SpotFallbackPolicy(ElasticOptions? options = null) : ElasticPolicy(options ?? new ElasticOptions())
{
    public override string Name => "spot-fallback";

    protected override bool MayUse(JobView job, Market market) =>
        market != Market.Spot || job.Spec.Spot == SpotPreference.Always || job.Attempts < Options.SpotRunsBeforeOnDemand;

    protected override (Offer Offer, Market Market)? Choose(JobView view, ClusterSnapshot snapshot, Func<Offer, bool> hasCapacity)
    {
        var job = view.Spec;
        if (job.Spot != SpotPreference.Never && MayUse(view, Market.Spot))
        {
            var calm = snapshot.Offers.Where(o => SpotCooldownUntil(snapshot, o) is null);
            if (Cheapest(job, calm, Market.Spot, hasCapacity) is { } spot) return (spot, Market.Spot);
            if (job.Spot == SpotPreference.Always) return null;
        }
        return Cheapest(job, snapshot.Offers, Market.OnDemand, hasCapacity) is { } od ? (od, Market.OnDemand) : null;
    }

    protected override string? ExplainChoice(JobView job, Offer offer, Market market)
    {
        var hours = Options.SpotCooldown.TotalHours.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        if (market == Market.Spot)
            return $"bought for {job.Id}: the cheapest spot offer it fits in a zone with no failed request or reclaim of {offer.GpuModel ?? "CPU"} spot in the last {hours} h ({offer.Zone}, {Price(offer, market)}; on demand {Price(offer, Market.OnDemand)})";
        var why = job.Spec.Spot == SpotPreference.Never ? "it asks for on-demand only"
            : !MayUse(job, Market.Spot) ? $"it lost {job.Attempts} spot runs (limit {Options.SpotRunsBeforeOnDemand}), so it falls back to on-demand"
            : $"no spot offer it fits is in a zone without spot trouble in the last {hours} h (or within its capacity limit)";
        return $"bought for {job.Id}: {why}; the cheapest on-demand offer it fits ({offer.Zone}, {Price(offer, market)})";
    }
}
