using Gureum.Core.Domain;

namespace Gureum.Scheduling.Framework;

/// <summary>A scheduler plugin: a name plus one or more phase interfaces. Plugins are stateless
/// across decisions (state lives in the snapshot), so one instance may serve many decisions.</summary>
public interface IPlugin
{
    /// <summary>Name used in profiles.</summary>
    string Name { get; }
}

/// <summary>Queue-sort phase: orders pending jobs. Plugins chain: the first non-zero comparison wins,
/// ties end on arrival order.</summary>
public interface IQueueSortPlugin : IPlugin
{
    int Compare(JobView a, JobView b, SchedulingContext ctx);

    /// <summary>
    /// Optional fast path: a per-job key whose ascending order is exactly <see cref="Compare"/>'s
    /// order (equal keys where Compare says 0), or null if the plugin has none. When every plugin
    /// of a profile has keys, the scheduler computes them once per job and sorts by them, instead of
    /// calling Compare O(n log n) times. A plugin answers null for every job or for none.
    /// </summary>
    long? SortKey(JobView job, SchedulingContext ctx) => null;
}

/// <summary>Helpers for <see cref="IQueueSortPlugin.SortKey"/>.</summary>
public static class QueueSortKeys
{
    /// <summary>A key that orders like the double (ascending; -0 equals 0; not for NaN).</summary>
    public static long Of(double value)
    {
        if (value == 0) value = 0; // -0 sorts with 0, as double comparison says
        var bits = BitConverter.DoubleToInt64Bits(value);
        return bits >= 0 ? bits : bits ^ long.MaxValue;
    }
}

/// <summary>Filter phase: may this job (one gang member) go on this node now? Must not mutate
/// anything, and must depend only on the job and the node's <see cref="Gureum.Core.Planning.NodeShape"/>
/// (offer, market, free resources), not on its id or the jobs on it: the scheduler evaluates one
/// node per shape. One allowed exception: a filter may refuse a node for the jobs on it
/// (<see cref="SchedulingContext.RunningOn"/>, <see cref="SchedulingContext.PlacedOn"/>) when a
/// refusal costs only an opportunity, as the <c>gureum</c> policy's lifetime rule does; with a
/// capacity index it is asked about the first node of each shape only, so a node of that shape
/// it would accept may go unseen and the job waits for a node of its own. The same holds for a
/// filter that keeps a node for the waiting jobs it was bought for (<see cref="SchedulingContext.IsPlaced"/>
/// tells which of them this decision has placed so far).</summary>
public interface IFilterPlugin : IPlugin
{
    Status Filter(JobView job, Node node, SchedulingContext ctx);
}

/// <summary>Score phase: how good is this node for this job, 0 (worst) to 100 (best), weighted by
/// the profile. Like filters, a function of the job and the node's shape only.</summary>
public interface IScorePlugin : IPlugin
{
    double Score(JobView job, Node node, SchedulingContext ctx);
}

/// <summary>
/// Admission of jobs behind a blocked head job (backfill). <see cref="Reserve"/> is called once,
/// for the first job that cannot start; afterwards <see cref="MayStart"/> decides for every later
/// job whether it may start now without delaying the reserved one.
/// </summary>
public interface IBackfillPlugin : IPlugin
{
    /// <summary>Computes a reservation for a blocked job; null when none can be made (it then
    /// blocks nothing).</summary>
    Reservation? Reserve(JobView blocked, SchedulingContext ctx);

    /// <summary>Whether a later job may take these placements now, given the reservation.</summary>
    bool MayStart(JobView job, IReadOnlyList<Placement> placements, Reservation reservation, SchedulingContext ctx);
}

/// <summary>A promise to a blocked job: it starts at <see cref="At"/> on <see cref="NodeIds"/>.</summary>
public sealed record Reservation(string JobId, DateTimeOffset At, IReadOnlySet<string> NodeIds);

/// <summary>
/// Post-filter phase (preemption): when a job fits nowhere, find running jobs to stop so it fits.
/// Returns the victims (all on one node) or null.
/// </summary>
public interface IPreemptionPlugin : IPlugin
{
    IReadOnlyList<JobView>? SelectVictims(JobView job, SchedulingContext ctx);
}
