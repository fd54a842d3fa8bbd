using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling.Operator;

/// <summary>
/// Queue order of the <c>gureum</c> profile: predicted shortest remaining work first (SRPT on
/// predictions, which minimises mean JCT when predictions are right), with aging and lab fair share
/// so nothing starves. Rank (lower first) = log2(1 + predicted minutes) − hours waited ÷
/// <see cref="GureumOptions.AgingHours"/> + <see cref="GureumOptions.FairShareWeight"/> × the lab's
/// share of recent (decayed) GPU usage. The aging term grows without bound, so every job
/// eventually outranks any newer one: no starvation.
/// </summary>
public sealed class PredictedShortestFirstQueueSort(GureumPolicy policy) : IQueueSortPlugin
{
    private readonly Dictionary<long, double> _ranks = [];
    private DateTimeOffset _at;
    private double _totalUsage;

    public string Name => "predicted-srpt-aging-fair";

    public int Compare(JobView a, JobView b, SchedulingContext ctx) => Rank(a, ctx).CompareTo(Rank(b, ctx));

    public long? SortKey(JobView job, SchedulingContext ctx) => QueueSortKeys.Of(Rank(job, ctx));

    /// <summary>The job's rank at the context's instant (cached per decision).</summary>
    public double Rank(JobView job, SchedulingContext ctx)
    {
        if (_at != ctx.Now)
        {
            _ranks.Clear();
            _at = ctx.Now;
            _totalUsage = ctx.Snapshot.Labs.Values.Sum(l => l.NormalizedUsage);
        }
        if (_ranks.TryGetValue(job.Seq, out var r)) return r;
        var o = policy.Options;
        var minutes = policy.Models.PredictRemainingSeconds(job, ctx.Now).Estimate / 60;
        var waitedHours = Math.Max(0, (ctx.Now - job.QueuedSince).TotalHours);
        var share = _totalUsage > 0 && ctx.Snapshot.Labs.TryGetValue(job.Spec.Lab, out var lab) ? lab.NormalizedUsage / _totalUsage : 0;
        r = Math.Log2(1 + minutes) - waitedHours / o.AgingHours + o.FairShareWeight * share;
        return _ranks[job.Seq] = r;
    }
}

/// <summary>
/// Keeps a job off nodes the <c>gureum</c> policy would not buy for it: GPUs slower than
/// <see cref="GureumOptions.MinSpeedRatio"/> × its reference when a fast enough offer exists, and
/// spot nodes where the expected run time with lost work exceeds the loss budget
/// (<see cref="GureumOptions.MaxSpotLossOverhead"/> over the reference run time)
/// (or whose risk its deadline cannot absorb), for jobs that need no GPU, GPU nodes far
/// dearer than the cheapest node they fit (<see cref="GureumPolicy.PackingMismatch"/>), and nodes
/// whose jobs are predicted to end long before this one (<see cref="GureumPolicy.OutlivesNode"/>),
/// and on-demand nodes held for the waiting jobs they were bought for (<see cref="GureumPolicy.HeldFor"/>):
/// the two parts that look at a node's jobs rather than its shape, see <see cref="IFilterPlugin"/>.
/// </summary>
public sealed class GureumFitFilter(GureumPolicy policy) : IFilterPlugin
{
    public string Name => "gureum-fit";

    public Status Filter(JobView job, Node node, SchedulingContext ctx) =>
        (policy.Suitable(job, node, ctx.Snapshot) ?? policy.PackingMismatch(job, node, ctx.Snapshot) ?? policy.OutlivesNode(job, node, ctx) ?? policy.HeldFor(job, node, ctx)) is { } why ? Status.No(why) : Status.Ok;
}
