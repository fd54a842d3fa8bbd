using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;

namespace Gureum.Autoscaling;

/// <summary>Capacity actions of one decision and when to be called again.</summary>
public sealed record AutoscaleDecision(IReadOnlyList<PlanAction> Actions, DateTimeOffset? WakeAt);

/// <summary>
/// What capacity to hold: which offers, how many, which market, and what to release. Pure like
/// the scheduler: it reads the snapshot and the scheduling pass's result and returns actions.
/// </summary>
public interface IAutoscalerPolicy
{
    /// <summary>Policy name (a profile name in replay reports).</summary>
    string Name { get; }

    /// <summary>Whether the job could ever run under this policy; a job that cannot is rejected
    /// as unschedulable, with <paramref name="reason"/>.</summary>
    bool CanEverRun(JobSpec job, ClusterSnapshot snapshot, out string reason);

    /// <summary>Capacity actions after the scheduling pass.</summary>
    AutoscaleDecision Decide(ClusterSnapshot snapshot, SchedulingResult scheduled);
}
