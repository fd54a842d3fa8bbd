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
}

/// <summary>Filter phase: may this job (one gang member) go on this node now? Must not mutate
/// anything, and must depend only on the job and the node's <see cref="Gureum.Core.Planning.NodeShape"/>
/// (offer, market, free resources), not on its id or the jobs on it: the scheduler evaluates one
/// node per shape.</summary>
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
