using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Replay;

namespace Gureum.Cost.Metering;

/// <summary>
/// Turns what the control loop recorded into metered usage and bills: every run of every job
/// (ended runs from the run list, the current run of a still-running job up to <c>end</c>) becomes
/// one <see cref="UsageRecord"/> per node it held. The same code serves replay (a
/// <see cref="ReplayOutcome"/>) and live operation (the control-plane store's jobs, runs and nodes),
/// so the meter has one definition.
/// </summary>
public static class Meter
{
    /// <summary>Usage records and node bills of a replay.</summary>
    public static (IReadOnlyList<UsageRecord> Usage, IReadOnlyList<BilledNode> Bills) FromReplay(ReplayOutcome outcome)
    {
        var bills = outcome.Bills.Select(FromBill).ToList();
        var usage = Usage(outcome.Jobs, id => outcome.Runs.TryGetValue(id, out var r) ? r : [], bills, outcome.End);
        return (usage, bills);
    }

    /// <summary>A simulated cloud bill as a <see cref="BilledNode"/>. Price changes take effect at the
    /// whole second after they happen, as the simulated cloud bills them.</summary>
    public static BilledNode FromBill(NodeBill b)
    {
        var prices = new List<PricePoint>(1 + b.PriceChanges.Count) { new(b.Start, b.StartPrice) };
        foreach (var (at, p) in b.PriceChanges)
            prices.Add(new PricePoint(b.Start.AddSeconds(Math.Ceiling((at - b.Start).TotalSeconds)), p));
        return new BilledNode { NodeId = b.NodeId, Offer = b.Offer, Market = b.Market, Start = b.Start, BilledSeconds = b.BilledSeconds, BilledUsd = b.BilledUsd, Prices = prices };
    }

    /// <summary>
    /// A live node's bill up to <paramref name="now"/>: per-second billing from request to
    /// termination (or now) with <paramref name="minimumBilled"/>, at its market's catalog price
    /// (live spot price changes are not observed by the store; the catalog price is used).
    /// </summary>
    public static BilledNode FromLiveNode(Node node, DateTimeOffset now, TimeSpan minimumBilled)
    {
        var end = node.TerminatedAt ?? now;
        var seconds = Math.Max((long)Math.Ceiling(Math.Max(0, (end - node.RequestedAt).TotalSeconds)), (long)minimumBilled.TotalSeconds);
        var price = node.Offer.PricePerHour(node.Market) ?? 0m;
        return new BilledNode
        {
            NodeId = node.Id, Offer = node.Offer, Market = node.Market, Start = node.RequestedAt, BilledSeconds = seconds,
            BilledUsd = seconds * price / 3600m, Prices = [new PricePoint(node.RequestedAt, price)],
        };
    }

    /// <summary>
    /// Usage records of <paramref name="jobs"/>: one per (run, node). <paramref name="runsOf"/> gives a
    /// job's ended runs in order; a running job's current run is metered up to <paramref name="end"/>.
    /// Runs on nodes without a bill are skipped (they cannot be priced) and counted in the result's notes.
    /// </summary>
    public static IReadOnlyList<UsageRecord> Usage(IEnumerable<JobView> jobs, Func<string, IReadOnlyList<JobRun>> runsOf,
        IReadOnlyList<BilledNode> bills, DateTimeOffset end)
    {
        var byNode = new Dictionary<string, BilledNode>(StringComparer.Ordinal);
        foreach (var b in bills) byNode[b.NodeId] = b;
        var result = new List<UsageRecord>();
        foreach (var job in jobs)
        {
            var runs = runsOf(job.Id);
            for (var i = 0; i < runs.Count; i++)
            {
                var r = runs[i];
                foreach (var nodeId in r.NodeIds.Split('+', StringSplitOptions.RemoveEmptyEntries))
                    if (byNode.TryGetValue(nodeId, out var bill)) result.Add(Record(job.Spec, i, bill, r.Start, r.End, r.GpuModel, r.Outcome));
            }
            if (job.Status == JobStatus.Running && job.RunStartedAt is { } started)
            {
                foreach (var p in job.Placements)
                    if (byNode.TryGetValue(p.NodeId, out var bill))
                        result.Add(Record(job.Spec, runs.Count, bill, started, end, bill.Offer.GpuModel, null));
            }
        }
        return result;
    }

    private static UsageRecord Record(JobSpec spec, int runIndex, BilledNode bill, DateTimeOffset start, DateTimeOffset end, string? gpuModel, RunOutcome? outcome) => new()
    {
        JobId = spec.Id,
        RunIndex = runIndex,
        NodeId = bill.NodeId,
        Lab = spec.Lab,
        Project = spec.Project,
        User = spec.User,
        Start = start,
        End = end < start ? start : end,
        // The placement on each node is the job's per-node request (Scheduling/Framework/Fit.cs).
        MilliGpus = spec.Resources.MilliGpusPerNode,
        Cpus = spec.Resources.Cpus,
        MemoryGiB = spec.Resources.MemoryGiB,
        GpuModel = gpuModel ?? bill.Offer.GpuModel,
        OfferId = bill.Offer.Id,
        Market = bill.Market,
        PricePerHourAtStart = bill.PriceAt(start),
        Outcome = outcome,
    };
}
