namespace Gureum.Core.Domain;

/// <summary>Where a job is in its life.</summary>
public enum JobStatus
{
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// <summary>Fits no node and no offer it may use; it will never run.</summary>
    Unschedulable,
}

/// <summary>How one run of a job ended.</summary>
public enum RunOutcome
{
    Completed,
    Failed,
    Cancelled,
    /// <summary>Stopped by the scheduler for a higher-priority job; requeued.</summary>
    Preempted,
    /// <summary>Its node went away (spot reclaim, node failure); requeued.</summary>
    NodeLost,
}

/// <summary>The slice of one node a job holds: whole GPUs by index, or a share of one GPU.</summary>
public sealed record Placement(string NodeId, int[] GpuIndices, int MilliPerGpu, double Cpus, double MemoryGiB)
{
    /// <summary>Milli-GPU held on this node.</summary>
    public int MilliGpus => GpuIndices.Length * MilliPerGpu;
}

/// <summary>
/// A job as the decision core sees it: the spec plus its progress. Immutable; replaced by the
/// store on every change.
/// </summary>
public sealed record JobView
{
    /// <summary>Arrival order in the store; ties in every ordering break on it.</summary>
    public required long Seq { get; init; }
    public required JobSpec Spec { get; init; }
    public required JobStatus Status { get; init; }
    /// <summary>Runs started so far.</summary>
    public int Attempts { get; init; }
    /// <summary>Work saved so far, measured on the reference GPU (restarts resume from here).</summary>
    public TimeSpan WorkSaved { get; init; }
    /// <summary>When the current run started.</summary>
    public DateTimeOffset? RunStartedAt { get; init; }
    public DateTimeOffset? FirstStartedAt { get; init; }
    /// <summary>When the job last entered the queue (submission or requeue).</summary>
    public required DateTimeOffset QueuedSince { get; init; }
    public IReadOnlyList<Placement> Placements { get; init; } = [];
    /// <summary>Why it is still waiting, as the last decision explained it.</summary>
    public string? WaitReason { get; init; }
    /// <summary>
    /// Why the job is held, or null: a held job stays pending and the decision core never starts it
    /// (nor buys capacity for it) until the hold is released (<see cref="Control.IClusterStore.SetHoldAsync"/>).
    /// Set by admission (e.g. the budget gate: <c>held: budget — …</c>).
    /// </summary>
    public string? Hold { get; init; }

    public string Id => Spec.Id;
}

/// <summary>One run of a job, for reports and independent re-checking.</summary>
public sealed record JobRun(DateTimeOffset Start, DateTimeOffset End, string NodeIds, string? GpuModel, RunOutcome Outcome);
