namespace Gureum.Core.Control;

/// <summary>Kinds of recorded state change.</summary>
public enum EventKind
{
    JobSubmitted,
    JobStarted,
    JobCompleted,
    JobFailed,
    JobCancelled,
    JobPreempted,
    JobRequeued,
    JobRejected,
    NodeRequested,
    NodeProvisionFailed,
    NodeReady,
    NodeDraining,
    NodeTerminated,
    NodeLost,
    Decision,
    /// <summary>Someone asked to cancel a job; the control loop acts on it at its next sync.</summary>
    JobCancelRequested,
    /// <summary>The backend lost a running job (process gone without a recorded exit); it is requeued.</summary>
    JobLost,
    /// <summary>A lab's month-to-date spend crossed one of its budget alert thresholds (once per threshold per month).</summary>
    BudgetAlert,
}

/// <summary>One recorded state change: the event log tells what happened and why.</summary>
public sealed record ClusterEvent(DateTimeOffset At, EventKind Kind, string? JobId, string? NodeId, string Message);
