using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;

namespace Gureum.Autoscaling;

/// <summary>Capacity actions of one decision and when to be called again.</summary>
public sealed record AutoscaleDecision(IReadOnlyList<PlanAction> Actions, DateTimeOffset? WakeAt)
{
    /// <summary>For waiting jobs the policy has capacity on its way for: job id → what it waits for
    /// ("node n000012 (…, Spot) booting, ready ~12:01:33 UTC"). Explanations only; never read by decisions.</summary>
    public IReadOnlyDictionary<string, string>? WaitingFor { get; init; }

    /// <summary>Why a job that waits for capacity and is not in <see cref="WaitingFor"/> gets none
    /// from this policy now (a fixed fleet, a purchase limit). Explanations only.</summary>
    public string? Otherwise { get; init; }
}

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
