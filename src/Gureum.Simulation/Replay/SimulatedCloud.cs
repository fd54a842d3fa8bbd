using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;

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
public sealed class SimulatedCloud(ISpotMarket spot, EventQueue events, TimeProvider time, TimeSpan minimumBilled) : INodeProvisioner
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
        var actual = (long)Math.Ceiling((end - bill.Start).TotalSeconds);
        bill.BilledSeconds = Math.Max(actual, (long)minimumBilled.TotalSeconds);
        bill.BilledUsd = Cost(bill, end);
        _closed.Add(bill);
        _closedTotal += bill.BilledUsd;
    }

    /// <summary>Σ seconds × price per segment of constant price (segment bounds in whole seconds
    /// from the start); the minimum's extra seconds at the last price.</summary>
    private static decimal Cost(NodeBill bill, DateTimeOffset end)
    {
        decimal usd = 0;
        var price = bill.StartPrice;
        long done = 0;
        foreach (var (at, p) in bill.PriceChanges)
        {
            var upTo = Math.Min((long)Math.Ceiling((at - bill.Start).TotalSeconds), bill.BilledSeconds);
            usd += (upTo - done) * price / 3600m;
            done = upTo;
            price = p;
        }
        usd += (bill.BilledSeconds - done) * price / 3600m;
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
public sealed class SimulatedExecutor(EventQueue events, TimeProvider time, TimeSpan restartOverhead) : IExecutor
{
    private readonly Dictionary<string, long> _tokens = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct)
    {
        var runTime = Progress.RemainingRunTime(job, Progress.SlowestModel(nodes), restartOverhead)
            ?? throw new InvalidOperationException($"Job {job.Id} has no duration; replay needs one.");
        var token = _tokens.GetValueOrDefault(job.Id) + 1;
        _tokens[job.Id] = token;
        events.Push(time.GetUtcNow() + runTime, new SimEvent(SimEventKind.JobEnded, job.Id, token));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask StopAsync(JobView job, CancellationToken ct)
    {
        _tokens[job.Id] = _tokens.GetValueOrDefault(job.Id) + 1;
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether a job-end event is for the job's current run.</summary>
    public bool IsCurrent(string jobId, long token) => _tokens.TryGetValue(jobId, out var t) && t == token;
}
