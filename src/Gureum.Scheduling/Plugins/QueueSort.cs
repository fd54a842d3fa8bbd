using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Plugins;

/// <summary>Higher <see cref="JobSpec.Priority"/> first.</summary>
public sealed class PriorityQueueSort : IQueueSortPlugin
{
    public string Name => "priority";
    public int Compare(JobView a, JobView b, SchedulingContext ctx) => b.Spec.Priority.CompareTo(a.Spec.Priority);
    public long? SortKey(JobView job, SchedulingContext ctx) => -(long)job.Spec.Priority;
}

/// <summary>Earlier submission first (first in, first out).</summary>
public sealed class FifoQueueSort : IQueueSortPlugin
{
    public string Name => "fifo";
    public int Compare(JobView a, JobView b, SchedulingContext ctx) => a.Spec.SubmitTime.CompareTo(b.Spec.SubmitTime);
    public long? SortKey(JobView job, SchedulingContext ctx) => job.Spec.SubmitTime.UtcTicks;
}

/// <summary>
/// Fair share per lab: the lab with the least decayed usage per unit of weight goes first (Slurm's
/// fair-share factor, simplified to a strict order). Usage decays with the store's half-life, so a
/// lab that used a lot last month is not punished forever.
/// </summary>
public sealed class FairShareQueueSort : IQueueSortPlugin
{
    public string Name => "fair-share";

    public int Compare(JobView a, JobView b, SchedulingContext ctx)
    {
        if (a.Spec.Lab == b.Spec.Lab) return 0;
        var ua = ctx.Snapshot.Labs.TryGetValue(a.Spec.Lab, out var la) ? la.NormalizedUsage : 0;
        var ub = ctx.Snapshot.Labs.TryGetValue(b.Spec.Lab, out var lb) ? lb.NormalizedUsage : 0;
        return ua.CompareTo(ub);
    }

    public long? SortKey(JobView job, SchedulingContext ctx) =>
        QueueSortKeys.Of(ctx.Snapshot.Labs.TryGetValue(job.Spec.Lab, out var lab) ? lab.NormalizedUsage : 0);
}

/// <summary>Shortest declared time limit first (SJF on what users declare); jobs without one go last.</summary>
public sealed class ShortestLimitQueueSort : IQueueSortPlugin
{
    public string Name => "shortest-limit";
    public int Compare(JobView a, JobView b, SchedulingContext ctx) =>
        (a.Spec.TimeLimit ?? TimeSpan.MaxValue).CompareTo(b.Spec.TimeLimit ?? TimeSpan.MaxValue);
    public long? SortKey(JobView job, SchedulingContext ctx) => (job.Spec.TimeLimit ?? TimeSpan.MaxValue).Ticks;
}
