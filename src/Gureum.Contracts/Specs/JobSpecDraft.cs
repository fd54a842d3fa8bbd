using System.Globalization;
using Gureum.Core.Domain;

namespace Gureum.Contracts.Specs;

/// <summary>
/// GPUs a job asks for on each node: <see cref="Count"/> whole GPUs, or <see cref="Milli"/>
/// (1..999) of one GPU shared with others, of any of <see cref="Models"/> (empty = any model).
/// Written in specs as <c>A100:4</c>, <c>A100,H100:2</c>, <c>2</c>, <c>0.5</c>, <c>A100</c> (one).
/// </summary>
public sealed record GpuRequest(int Count, int Milli, IReadOnlyList<string> Models)
{
    /// <summary>No GPU (CPU-only job).</summary>
    public static GpuRequest None { get; } = new(0, 0, []);

    /// <summary>The spec spelling, the one <c>JobDto.Gpus</c> shows.</summary>
    public override string ToString() => Format(Count, Milli, Models);

    /// <summary>Formats a request the way specs write it: "A100:4", "0.5", "2", "A100,H100:2", "0".</summary>
    public static string Format(int count, int milli, IReadOnlyList<string> models)
    {
        var n = count > 0 ? count.ToString(CultureInfo.InvariantCulture) : (milli / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        return models.Count == 0 ? n : $"{string.Join(',', models)}:{n}";
    }

    /// <summary>Formats a core request with its allowed models.</summary>
    public static string Format(ResourceRequest r, IReadOnlyList<string> models) => Format(r.Gpus, r.GpuMilli, models);

    // Value equality over the model list, not the list reference.
    public bool Equals(GpuRequest? other) =>
        other is not null && Count == other.Count && Milli == other.Milli && Models.SequenceEqual(other.Models, StringComparer.OrdinalIgnoreCase);

    public override int GetHashCode() => HashCode.Combine(Count, Milli, Models.Count);
}

/// <summary>Checkpointing as the spec declares it.</summary>
/// <param name="Dir">Directory the job writes checkpoints to (kept across restarts); null = backend default.</param>
/// <param name="Interval">How often it checkpoints.</param>
public sealed record CheckpointSpec(string? Dir, TimeSpan Interval);

/// <summary>
/// A validated job spec as the user wrote it (contract D), before the server gives it an id, a user,
/// a lab (the submitter's, when the spec names none) and a submit time with <see cref="ToJobSpec"/>.
/// </summary>
public sealed record JobSpecDraft
{
    /// <summary>Default vCPUs per node when the spec names none.</summary>
    public const double DefaultCpus = 1;
    /// <summary>Default memory per node (GiB) when the spec names none.</summary>
    public const double DefaultMemoryGiB = 2;

    public string? Name { get; init; }
    /// <summary>Lab to charge; null = the submitter's lab.</summary>
    public string? Lab { get; init; }
    /// <summary>Project within the lab; null = "default".</summary>
    public string? Project { get; init; }
    public GpuRequest Gpus { get; init; } = GpuRequest.None;
    public double Cpus { get; init; } = DefaultCpus;
    public double MemoryGiB { get; init; } = DefaultMemoryGiB;
    /// <summary>Identical slices placed all or nothing (gang).</summary>
    public int Nodes { get; init; } = 1;
    public SpotPreference Spot { get; init; } = SpotPreference.Auto;
    public IReadOnlyList<string> Zones { get; init; } = [];
    /// <summary>Shell command (run with <c>sh -c</c>).</summary>
    public required string Run { get; init; }
    /// <summary>Container image; null = run on the host (sandboxed when the backend can).</summary>
    public string? Image { get; init; }
    /// <summary>Working directory; null = the backend's per-job directory.</summary>
    public string? Workdir { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public CheckpointSpec? Checkpoint { get; init; }
    public TimeSpan? TimeLimit { get; init; }
    public int Priority { get; init; }
    public DateTimeOffset? Deadline { get; init; }
    /// <summary>Declared run time (the sim backend runs the job for this long).</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Batch job (default) or long-running service (a preemption loses no work).</summary>
    public JobKind Kind { get; init; } = JobKind.Batch;

    /// <summary>The core's job spec for a submission.</summary>
    /// <param name="id">Job id the store assigned.</param>
    /// <param name="user">Submitter.</param>
    /// <param name="defaultLab">Submitter's lab, used when the spec names none.</param>
    /// <param name="submitTime">Acceptance time.</param>
    public JobSpec ToJobSpec(string id, string user, string defaultLab, DateTimeOffset submitTime) => new()
    {
        Id = id,
        Name = Name,
        User = user,
        Lab = Lab ?? defaultLab,
        Project = Project ?? "default",
        SubmitTime = submitTime,
        Resources = new ResourceRequest(Gpus.Count, Gpus.Milli, Cpus, MemoryGiB, Nodes),
        GpuModels = Gpus.Models,
        Duration = Duration,
        // A declared duration is on the GPUs asked for: the first model named, else the default reference.
        ReferenceGpu = Gpus.Models.Count > 0 ? Gpus.Models[0] : Core.Domain.GpuModels.DefaultReference,
        Priority = Priority,
        CheckpointInterval = Checkpoint?.Interval,
        TimeLimit = TimeLimit,
        Deadline = Deadline,
        Spot = Spot,
        Zones = Zones,
        Image = Image,
        Command = Run,
        Env = Env,
        Kind = Kind,
    };
}
