using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Core.Planning;

/// <summary>One thing a plan asks the control loop to do. Plans are data; applying them is the loop's job.</summary>
public abstract record PlanAction(string Reason);

/// <summary>Start a job on the given node slices (all at once: gang placement).</summary>
public sealed record StartJob(string JobId, IReadOnlyList<Placement> Placements, string Reason) : PlanAction(Reason);

/// <summary>Stop a running job and requeue it (it resumes from its last checkpoint).</summary>
public sealed record PreemptJob(string JobId, string Reason) : PlanAction(Reason);

/// <summary>Buy a node of an offer in a market.</summary>
public sealed record ProvisionNode(Offer Offer, Market Market, string Reason) : PlanAction(Reason)
{
    /// <summary>The waiting jobs the node is bought for, in queue order: the job whose choice of
    /// offer and market bought it first, then jobs this same decision packed onto it. The control
    /// loop records the purchase as an event of each (explanations only; nothing decides on it).
    /// Empty when the policy names none.</summary>
    public IReadOnlyList<string> ForJobs { get; init; } = [];
}

/// <summary>Release a node (it must be empty, or its jobs are requeued).</summary>
public sealed record TerminateNode(string NodeId, string Reason) : PlanAction(Reason);

/// <summary>Stop placing jobs on a node; terminate it when empty.</summary>
public sealed record DrainNode(string NodeId, string Reason) : PlanAction(Reason);

/// <summary>The job can never run: it fits no node or offer it may use.</summary>
public sealed record RejectJob(string JobId, string Reason) : PlanAction(Reason);

/// <summary>
/// The output of one decision. Applied in order: rejections, preemptions, terminations, starts,
/// provisioning. <see cref="WakeAt"/> asks to be called again at that time even if nothing happens
/// (idle timeouts, waiting for a spot zone to cool down).
/// </summary>
public sealed record Plan(IReadOnlyList<PlanAction> Actions, DateTimeOffset? WakeAt = null)
{
    public static Plan Empty { get; } = new([]);

    /// <summary>Why each still-waiting job waits (job id → reason), for explanations.</summary>
    public IReadOnlyDictionary<string, string> WaitReasons { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The pure decision: snapshot in, plan out. No I/O, no clock reads, no global randomness, never
/// mutates its input. Thread-safe when its plugins are.
/// </summary>
public interface IDecisionCore
{
    /// <summary>Name of the policy (profile) this core implements.</summary>
    string Name { get; }

    Plan Decide(ClusterSnapshot snapshot);
}
