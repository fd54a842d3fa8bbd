namespace Gureum.Core.Domain;

/// <summary>Whether a job may run on spot capacity (SkyPilot's <c>use_spot</c>, made three-valued).</summary>
public enum SpotPreference
{
    /// <summary>The policy decides.</summary>
    Auto,
    /// <summary>Spot only; the job waits rather than run on demand.</summary>
    Always,
    /// <summary>On-demand only.</summary>
    Never,
}

/// <summary>What kind of work a job is: it decides what a preemption costs it.</summary>
public enum JobKind
{
    /// <summary>Runs to completion; after a preemption it resumes from its last checkpoint
    /// (<see cref="JobSpec.CheckpointInterval"/>), or from zero when it does not checkpoint.</summary>
    Batch,

    /// <summary>
    /// A long-running server (an inference replica, a notebook kernel's API): it has no result to
    /// finish, it serves until it is deleted. Its run time is its lifetime (in a trace, the time the
    /// instance served). A preemption loses no work: a replacement starts elsewhere and serves on
    /// (SkyServe and SpotHedge run replicas on spot this way); what it costs is the downtime, the
    /// restart overhead plus waiting for a node, by which the service's end moves later.
    /// </summary>
    Service,
}

/// <summary>
/// A job as submitted: immutable. Times are absolute (<see cref="DateTimeOffset"/>); a trace's
/// relative seconds are placed on the replay's epoch by the importer.
/// </summary>
public sealed record JobSpec
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public required string User { get; init; }
    public required string Lab { get; init; }
    public string Project { get; init; } = "default";
    public required DateTimeOffset SubmitTime { get; init; }
    public required ResourceRequest Resources { get; init; }

    /// <summary>Allowed GPU models (canonical names, see <see cref="GpuModels"/>); empty means any.</summary>
    public IReadOnlyList<string> GpuModels { get; init; } = [];

    /// <summary>
    /// Run time on <see cref="ReferenceGpu"/> when known (replay); null for live jobs whose run time
    /// is only observed.
    /// </summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>GPU model the <see cref="Duration"/> was measured on.</summary>
    public string ReferenceGpu { get; init; } = Domain.GpuModels.DefaultReference;

    /// <summary>Larger runs first and may preempt smaller.</summary>
    public int Priority { get; init; }

    /// <summary>How often the job checkpoints; null means it restarts from zero after a preemption.</summary>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary>Declared wall-clock limit (Slurm <c>--time</c>); used by backfill.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Absolute deadline by which the job should finish, if any.</summary>
    public DateTimeOffset? Deadline { get; init; }

    public SpotPreference Spot { get; init; } = SpotPreference.Auto;

    /// <summary>Zones the job may use; empty means any.</summary>
    public IReadOnlyList<string> Zones { get; init; } = [];

    /// <summary>Container image for live runs.</summary>
    public string? Image { get; init; }

    /// <summary>Command for live runs.</summary>
    public string? Command { get; init; }

    /// <summary>Environment variables the job's process (or container) gets, on top of what the
    /// backend sets; names Gureum sets itself (<c>GUREUM_*</c>, <c>CUDA_VISIBLE_DEVICES</c>,
    /// <c>NVIDIA_VISIBLE_DEVICES</c>) are refused when the spec is parsed.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;

    /// <summary>Trace-specific class (openb QoS, DLRM role); a predictor feature, nothing else.</summary>
    public string? QosClass { get; init; }

    /// <summary>Batch job (default) or long-running service; see <see cref="JobKind"/>.</summary>
    public JobKind Kind { get; init; } = JobKind.Batch;

    public bool IsCheckpointable => CheckpointInterval is { } c && c > TimeSpan.Zero;

    /// <summary>Whether a preemption keeps work already done: a service keeps all of it, a
    /// checkpointing job what its last checkpoint saved. False: the job restarts from zero.</summary>
    public bool KeepsWorkOnPreemption => Kind == JobKind.Service || IsCheckpointable;
}
