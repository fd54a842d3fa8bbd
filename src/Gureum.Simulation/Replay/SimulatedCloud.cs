using System.Runtime.InteropServices;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Simulation.Replay;

/// <summary>A node's bill: per-second billing with a minimum, at the market's price over time.</summary>
public sealed record NodeBill
{
    public required string NodeId { get; init; }
    public required Offer Offer { get; init; }
    public required Market Market { get; init; }
    public required DateTimeOffset Start { get; init; }
    public DateTimeOffset? End { get; set; }
    public required decimal StartPrice { get; init; }
    /// <summary>Price changes seen while the node was billed.</summary>
    public List<(DateTimeOffset At, decimal Price)> PriceChanges { get; } = [];
    public bool Fixed { get; init; }
    public long BilledSeconds { get; set; }
    public decimal BilledUsd { get; set; }
}

/// <summary>
/// The simulated cloud as an <see cref="INodeProvisioner"/>: nodes come up after their offer's boot
/// delay, spot requests fail when the spot market has no capacity, spot nodes are reclaimed when the
/// market says so, and every node is billed per second (with a minimum, default 60 s) from request
/// to release at its market's price, following spot price changes.
/// </summary>
/// <remarks>It publishes each spot market's record over <paramref name="spotHistoryWindow"/> before the
/// time asked (<see cref="ISpotHistorySource"/>), as AWS's Spot Advisor publishes the trailing
/// month's interruption frequency; a window of zero publishes nothing.</remarks>
public sealed class SimulatedCloud(ISpotMarket spot, ISimEventSink events, TimeProvider time, TimeSpan minimumBilled, TimeSpan spotHistoryWindow = default)
    : INodeProvisioner, ISpotHistorySource
{
    private readonly Dictionary<string, NodeBill> _open = new(StringComparer.Ordinal);
    private readonly List<NodeBill> _closed = [];
    private decimal _closedTotal;

    /// <summary>All bills, open and closed.</summary>
    public IEnumerable<NodeBill> Bills => _closed.Concat(_open.Values);

    /// <summary>USD billed by closed bills so far.</summary>
    public decimal ClosedTotal => _closedTotal;

    /// <summary>Sum of hourly prices of nodes being billed now (for spend-over-time plots).</summary>
    public decimal OpenHourlyRate { get; private set; }

    /// <inheritdoc />
    public SpotHistory? History(Offer offer, DateTimeOffset before) =>
        spotHistoryWindow > TimeSpan.Zero ? spot.History(offer, before, spotHistoryWindow) : null;

    /// <inheritdoc />
    public ValueTask RequestAsync(Node node, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (node.Market == Market.Spot && !spot.IsAvailable(node.Offer, now))
        {
            events.Push(now, new SimEvent(SimEventKind.ProvisionFailed, node.Id, 0));
            return ValueTask.CompletedTask;
        }
        Open(node, now);
        events.Push(now + node.Offer.BootDelay, new SimEvent(SimEventKind.NodeReady, node.Id, 0));
        if (node.Market == Market.Spot && spot.NextReclaim(node.Offer, now) is { } reclaim)
            events.Push(reclaim, new SimEvent(SimEventKind.NodeReclaimed, node.Id, 0));
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts billing a node (fixed fleet nodes start billed and ready).</summary>
    public void Open(Node node, DateTimeOffset now)
    {
        var price = Price(node.Offer, node.Market, now);
        _open[node.Id] = new NodeBill { NodeId = node.Id, Offer = node.Offer, Market = node.Market, Start = now, StartPrice = price, Fixed = node.Fixed };
        OpenHourlyRate += price;
    }

    private decimal Price(Offer offer, Market market, DateTimeOffset t) =>
        market == Market.Spot ? spot.SpotPrice(offer, t) : offer.OnDemandPerHour ?? throw new InvalidOperationException($"{offer.Id} has no on-demand price.");

    /// <inheritdoc />
    public ValueTask ReleaseAsync(Node node, CancellationToken ct)
    {
        Close(node.Id, time.GetUtcNow());
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the node is being billed (not yet released or lost).</summary>
    public bool IsOpen(string nodeId) => _open.ContainsKey(nodeId);

    /// <summary>Stops billing a node and computes its bill. Idempotent.</summary>
    public void Close(string nodeId, DateTimeOffset end)
    {
        if (!_open.Remove(nodeId, out var bill)) return;
        OpenHourlyRate -= bill.StartPrice;
        bill.End = end;
        if (bill.Market == Market.Spot) bill.PriceChanges.AddRange(spot.PriceChanges(bill.Offer, bill.Start, end));
        bill.BilledSeconds = BilledSeconds(bill, end);
        bill.BilledUsd = Cost(bill.StartPrice, bill.PriceChanges, bill.Start, bill.BilledSeconds);
        _closed.Add(bill);
        _closedTotal += bill.BilledUsd;
    }

    /// <summary>
    /// USD owed if every open bill were closed at <paramref name="now"/> (same rules as
    /// <see cref="Close"/>: per second, minimum, spot price changes), plus the closed bills. Open
    /// bills are not changed. For a live ledger; replay reads <see cref="Bills"/> after the end.
    /// </summary>
    public decimal AccruedUsd(DateTimeOffset now)
    {
        var usd = _closedTotal;
        foreach (var bill in _open.Values)
        {
            var changes = bill.Market == Market.Spot ? spot.PriceChanges(bill.Offer, bill.Start, now) : [];
            usd += Cost(bill.StartPrice, changes, bill.Start, BilledSeconds(bill, now));
        }
        return usd;
    }

    private long BilledSeconds(NodeBill bill, DateTimeOffset end)
    {
        var actual = (long)Math.Ceiling((end - bill.Start).TotalSeconds);
        return Math.Max(actual, (long)minimumBilled.TotalSeconds);
    }

    /// <summary>Σ seconds × price per segment of constant price (segment bounds in whole seconds
    /// from the start); the minimum's extra seconds at the last price.</summary>
    private static decimal Cost(decimal startPrice, IReadOnlyList<(DateTimeOffset At, decimal Price)> changes, DateTimeOffset start, long billedSeconds)
    {
        decimal usd = 0;
        var price = startPrice;
        long done = 0;
        foreach (var (at, p) in changes)
        {
            var upTo = Math.Min((long)Math.Ceiling((at - start).TotalSeconds), billedSeconds);
            usd += (upTo - done) * price / 3600m;
            done = upTo;
            price = p;
        }
        usd += (billedSeconds - done) * price / 3600m;
        return usd;
    }

    /// <summary>Closes every open bill at <paramref name="end"/> (end of replay).</summary>
    public void CloseAll(DateTimeOffset end)
    {
        foreach (var id in _open.Keys.ToList()) Close(id, end);
    }
}

/// <summary>
/// The simulated executor: a job on a node runs for its remaining work scaled to the node's GPU
/// (plus the restart overhead after the first run) and then ends. Stopping cancels the pending end.
/// </summary>
/// <param name="events">Where job ends are scheduled.</param>
/// <param name="time">The clock.</param>
/// <param name="restartOverhead">Added to every run after the first.</param>
/// <param name="enforceTimeLimit">
/// False (replay): every job must have a duration, and a trace's duration is what happened, so time
/// limits are not applied. True (live sim): a job whose run would outlast its
/// <see cref="JobSpec.TimeLimit"/> ends as failed at the limit (<see cref="SimEventKind.JobTimedOut"/>),
/// and a job without a duration runs until it is stopped or reaches its limit.
/// </param>
public sealed class SimulatedExecutor(ISimEventSink events, TimeProvider time, TimeSpan restartOverhead, bool enforceTimeLimit = false) : IExecutor
{
    private readonly Dictionary<string, long> _tokens = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct)
    {
        Schedule(job, nodes);
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts a run and returns the end it scheduled (<see cref="SimEventKind.JobEnded"/> or
    /// <see cref="SimEventKind.JobTimedOut"/> and when), or null when the run has no end of its own.</summary>
    public (SimEventKind Kind, DateTimeOffset At)? Schedule(JobView job, IReadOnlyList<Node> nodes)
    {
        var runTime = Progress.RemainingRunTime(job, Progress.SlowestModel(nodes), restartOverhead);
        if (runTime is null && !enforceTimeLimit) throw new InvalidOperationException($"Job {job.Id} has no duration; replay needs one.");
        var now = time.GetUtcNow();
        if (enforceTimeLimit && job.Spec.TimeLimit is { } limit && (runTime is not { } r || r > limit))
            return Resume(job.Id, SimEventKind.JobTimedOut, now + limit);
        if (runTime is { } run) return Resume(job.Id, SimEventKind.JobEnded, now + run);
        NewToken(job.Id);
        return null;
    }

    /// <summary>Starts a new run of a job whose end is already known (a live sim backend recovering
    /// its runs after a restart) and schedules that end.</summary>
    public (SimEventKind Kind, DateTimeOffset At) Resume(string jobId, SimEventKind kind, DateTimeOffset at)
    {
        events.Push(at, new SimEvent(kind, jobId, NewToken(jobId)));
        return (kind, at);
    }

    private long NewToken(string jobId) => ++CollectionsMarshal.GetValueRefOrAddDefault(_tokens, jobId, out _); // one lookup

    /// <inheritdoc />
    public ValueTask StopAsync(JobView job, CancellationToken ct)
    {
        _tokens[job.Id] = _tokens.GetValueOrDefault(job.Id) + 1;
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether a job-end event is for the job's current run.</summary>
    public bool IsCurrent(string jobId, long token) => _tokens.TryGetValue(jobId, out var t) && t == token;

    /// <summary>Marks a job's run as over so that later events for it are ignored; returns whether
    /// <paramref name="token"/> was its current run (i.e. whether the end should be reported).</summary>
    public bool TryEnd(string jobId, long token)
    {
        if (!IsCurrent(jobId, token)) return false;
        _tokens[jobId] = token + 1;
        return true;
    }
}

/// <summary>What a due <see cref="SimEvent"/> means to the control loop; shared by replay and the live sim backend.</summary>
public static class SimEventDispatch
{
    /// <summary>
    /// Applies a due event to the simulated cloud and executor and returns the report to send to
    /// the observer, or null when the event is stale (a released node, a stopped run) or a wake-up.
    /// Call under the caller's lock; send the report outside it.
    /// </summary>
    public static SimReport? Apply(SimEvent e, SimulatedCloud cloud, SimulatedExecutor executor, DateTimeOffset now)
    {
        switch (e.Kind)
        {
            case SimEventKind.NodeReady:
                return new SimReport(e.Kind, e.Id!, null);
            case SimEventKind.ProvisionFailed:
                return new SimReport(e.Kind, e.Id!, "spot capacity unavailable");
            case SimEventKind.NodeReclaimed:
                if (!cloud.IsOpen(e.Id!)) return null; // already released
                cloud.Close(e.Id!, now);
                return new SimReport(e.Kind, e.Id!, "spot node reclaimed");
            case SimEventKind.JobEnded:
            case SimEventKind.JobTimedOut:
                return executor.TryEnd(e.Id!, e.Token) ? new SimReport(e.Kind, e.Id!, null) : null;
            default:
                return null;
        }
    }

    /// <summary>Sends a report to the observer.</summary>
    public static ValueTask SendAsync(SimReport r, IClusterObserver observer, CancellationToken ct) => r.Kind switch
    {
        SimEventKind.NodeReady => observer.OnNodeReadyAsync(r.Id, ct),
        SimEventKind.ProvisionFailed => observer.OnProvisionFailedAsync(r.Id, r.Reason!, ct),
        SimEventKind.NodeReclaimed => observer.OnNodeLostAsync(r.Id, r.Reason!, ct),
        SimEventKind.JobEnded => observer.OnJobExitedAsync(r.Id, succeeded: true, ct),
        SimEventKind.JobTimedOut => observer.OnJobExitedAsync(r.Id, succeeded: false, ct),
        _ => ValueTask.CompletedTask,
    };
}

/// <summary>A report for the control loop produced by <see cref="SimEventDispatch.Apply"/>.</summary>
public readonly record struct SimReport(SimEventKind Kind, string Id, string? Reason);
