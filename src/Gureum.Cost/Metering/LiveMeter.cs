using Gureum.Core.Domain;
using Gureum.Persistence;

namespace Gureum.Cost.Metering;

/// <summary>
/// Metering of a live cluster from the control-plane store: nodes alive in [from, to) become bills
/// clipped to the window (per-second, at the catalog price of their market; the billing minimum
/// applies to a node whose whole life is in the window), and runs overlapping the window become
/// usage records, one per placement, with the placement's own slice.
/// </summary>
public static class LiveMeter
{
    /// <summary>Reads runs and nodes of the window from the store and meters them.</summary>
    public static async Task<(IReadOnlyList<UsageRecord> Usage, IReadOnlyList<BilledNode> Bills)> LoadAsync(IControlPlaneStore store, DateTimeOffset from, DateTimeOffset to,
        TimeSpan minimumBilled, CancellationToken ct)
    {
        var nodes = await store.ListNodesAsync(from, to, ct);
        var runs = await store.ListRunsAsync(from, to, ct);
        return FromRecords(runs, nodes, from, to, minimumBilled);
    }

    /// <summary>Meters store records (pure).</summary>
    public static (IReadOnlyList<UsageRecord> Usage, IReadOnlyList<BilledNode> Bills) FromRecords(IReadOnlyList<RunRecord> runs, IReadOnlyList<NodeRecord> nodes,
        DateTimeOffset from, DateTimeOffset to, TimeSpan minimumBilled)
    {
        var bills = new List<BilledNode>();
        foreach (var n in nodes)
        {
            var node = n.Node;
            var start = node.RequestedAt < from ? from : node.RequestedAt;
            var end = node.TerminatedAt is { } t && t < to ? t : to;
            if (end <= start) continue;
            var wholeLife = node.RequestedAt >= from && node.TerminatedAt is { } te && te <= to;
            var clipped = node with { RequestedAt = start, TerminatedAt = end };
            bills.Add(Meter.FromLiveNode(clipped, end, wholeLife ? minimumBilled : TimeSpan.Zero));
        }
        var byNode = bills.ToDictionary(b => b.NodeId, StringComparer.Ordinal);
        var usage = new List<UsageRecord>();
        foreach (var r in runs)
        {
            var rs = r.Start < from ? from : r.Start;
            var re = r.End is { } e && e < to ? e : to;
            if (re <= rs) continue;
            foreach (var p in r.Placements)
            {
                if (!byNode.TryGetValue(p.NodeId, out var bill)) continue;
                usage.Add(new UsageRecord
                {
                    JobId = r.JobId, RunIndex = r.Attempt - 1, NodeId = p.NodeId, Lab = r.Lab, Project = r.Project, User = r.User,
                    Start = rs, End = re, MilliGpus = p.MilliGpus, Cpus = p.Cpus, MemoryGiB = p.MemoryGiB,
                    GpuModel = r.GpuModel ?? bill.Offer.GpuModel, OfferId = bill.Offer.Id, Market = bill.Market,
                    PricePerHourAtStart = bill.PriceAt(rs), Outcome = r.Outcome,
                });
            }
        }
        return (usage, bills);
    }
}
