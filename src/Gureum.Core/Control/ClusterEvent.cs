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
    /// <summary>A job was accepted but held (e.g. its predicted cost would take its lab over budget); it waits for a release.</summary>
    JobHeld,
    /// <summary>A held job was released (by an admin, or because its lab's budget now allows it) and may be scheduled.</summary>
    JobReleased,
    /// <summary>A lab's hourly spend was flagged as anomalous by the streaming detector.</summary>
    SpendAnomaly,
    /// <summary>A pool's (or lab's) hourly value of a usage or node metric, e.g. idle GPU-hours, was flagged as anomalous by the streaming detector.</summary>
    MetricAnomaly,
}

/// <summary>One recorded state change: the event log tells what happened and why.</summary>
public sealed record ClusterEvent(DateTimeOffset At, EventKind Kind, string? JobId, string? NodeId, string Message);
