using Gureum.Core.Planning;

namespace Gureum.Core.Control;

/// <summary>
/// The <see cref="EventKind.NodeRequested"/> events of one bought node: one per job it was bought
/// for (<see cref="ProvisionNode.ForJobs"/>), so the node is part of each job's own history (the
/// event log is read per job: <c>why</c>), or one without a job when the policy named none.
/// Every event of one node carries the same message: offer, market, the policy's reason and, when
/// the node is shared, the jobs it was bought for.
/// </summary>
public static class NodeRequestEvents
{
    /// <summary>Most job ids a message lists (the rest are counted).</summary>
    public const int MaxListedJobs = 5;

    /// <summary>The events recording that <paramref name="nodeId"/> was requested for <paramref name="p"/>.</summary>
    public static IEnumerable<ClusterEvent> Of(ProvisionNode p, string nodeId, DateTimeOffset now)
    {
        var message = Message(p);
        if (p.ForJobs.Count == 0)
        {
            yield return new ClusterEvent(now, EventKind.NodeRequested, null, nodeId, message);
            yield break;
        }
        foreach (var job in p.ForJobs) yield return new ClusterEvent(now, EventKind.NodeRequested, job, nodeId, message);
    }

    /// <summary>"<c>OFFER MARKET: reason</c>", plus "<c>; shared by 3 jobs: a, b, c</c>" when bought for more than one job.</summary>
    public static string Message(ProvisionNode p)
    {
        var head = $"{p.Offer.Id} {p.Market}: {p.Reason}";
        if (p.ForJobs.Count <= 1) return head;
        var listed = string.Join(", ", p.ForJobs.Take(MaxListedJobs));
        var more = p.ForJobs.Count > MaxListedJobs ? $" and {p.ForJobs.Count - MaxListedJobs} more" : "";
        return $"{head}; shared by {p.ForJobs.Count} jobs: {listed}{more}";
    }
}
