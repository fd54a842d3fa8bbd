using System.Security.Cryptography;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Persistence;

/// <summary>What a user may do.</summary>
public enum Role
{
    /// <summary>Everything, every lab.</summary>
    Admin,
    /// <summary>Their lab's jobs and users.</summary>
    LabLead,
    /// <summary>Their own jobs.</summary>
    Researcher,
}

/// <summary>A lab (department): the unit of quotas and budgets.</summary>
/// <param name="Name">Unique name.</param>
/// <param name="MaxConcurrentGpus">Most GPUs its jobs may hold at once; null = no limit.</param>
/// <param name="MaxQueuedJobs">Most pending jobs at once; a submission beyond it is rejected; null = no limit.</param>
/// <param name="MonthlyBudgetUsd">Budget per calendar month in USD; null = none.</param>
/// <param name="AlertThresholdsPercent">Budget alert thresholds in percent of <paramref name="MonthlyBudgetUsd"/>, ascending; null = the default 50, 80, 100.</param>
public sealed record Lab(string Name, double? MaxConcurrentGpus = null, int? MaxQueuedJobs = null, decimal? MonthlyBudgetUsd = null,
    IReadOnlyList<decimal>? AlertThresholdsPercent = null);

/// <summary>A person who submits jobs.</summary>
public sealed record User(string Name, string Lab, Role Role);

/// <summary>Outcome of <see cref="IControlPlaneStore.AddUserAsync"/>.</summary>
public enum AddUserResult
{
    Added,
    /// <summary>A user of that name exists.</summary>
    Exists,
    /// <summary>The lab does not exist.</summary>
    UnknownLab,
}

/// <summary>A freshly created API token. <see cref="Token"/> is shown once and never stored.</summary>
/// <param name="Id">Token id (for revocation; not secret).</param>
/// <param name="Token">The secret: <c>gur_</c> + 43 URL-safe base64 characters (256 random bits).</param>
/// <param name="User">Whose it is.</param>
public sealed record NewToken(string Id, string Token, User User);

/// <summary>A job as the API shows it: the spec, the submitted text and its progress.</summary>
public sealed record JobRecord
{
    public required JobSpec Spec { get; init; }
    /// <summary>The text the user submitted, verbatim.</summary>
    public required string SpecText { get; init; }
    /// <summary>Submission order across all replicas.</summary>
    public required long Seq { get; init; }
    public required JobStatus Status { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }
    /// <summary>First start.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When it reached a final status.</summary>
    public DateTimeOffset? EndedAt { get; init; }
    public int Attempts { get; init; }
    /// <summary>Nodes of the current run, or of the last one once it ended.</summary>
    public IReadOnlyList<string> NodeIds { get; init; } = [];
    /// <summary>GPU model of the current or last run (a gang's slowest).</summary>
    public string? GpuModel { get; init; }
    /// <summary>Why it waits (or why it is unschedulable).</summary>
    public string? WaitReason { get; init; }
    /// <summary>Process exit code of the last run, when the backend reported one.</summary>
    public int? ExitCode { get; init; }
    /// <summary>Someone asked to cancel it and it had not ended then.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>Why the job is held (pending, never started until released), or null.</summary>
    public string? Hold { get; init; }
    /// <summary>When the current run started (null unless running).</summary>
    public DateTimeOffset? RunStartedAt { get; init; }
    /// <summary>Work saved by earlier runs (a requeued job resumes from here).</summary>
    public TimeSpan WorkSaved { get; init; }
    public string Id => Spec.Id;
}

/// <summary>Why a submission was turned away.</summary>
public enum SubmitRejectionKind
{
    /// <summary>The lab already has its maximum of queued jobs (HTTP 429).</summary>
    QueuedJobsQuota,
    /// <summary>The job's lab does not exist (HTTP 400).</summary>
    UnknownLab,
    /// <summary>A job with this id exists (HTTP 409).</summary>
    DuplicateId,
}

/// <summary>Outcome of <see cref="IControlPlaneStore.SubmitAsync(Gureum.Core.Domain.JobSpec, string, string?, DateTimeOffset, CancellationToken)"/>: the accepted job, or why not.</summary>
public readonly record struct SubmitResult(JobRecord? Job, SubmitRejectionKind? Rejection, string? Reason)
{
    public bool Accepted => Job is not null;
    public static SubmitResult Ok(JobRecord job) => new(job, null, null);
    public static SubmitResult Rejected(SubmitRejectionKind kind, string reason) => new(null, kind, reason);
}

/// <summary>Filter and page of <see cref="IControlPlaneStore.ListJobsAsync"/>. Null filters match all.</summary>
public sealed record JobQuery
{
    public string? Lab { get; init; }
    public string? User { get; init; }
    /// <summary>Any of these statuses; null or empty = all.</summary>
    public IReadOnlyList<JobStatus>? Statuses { get; init; }
    /// <summary>True: only held jobs; false: only jobs not held; null: both.</summary>
    public bool? Held { get; init; }
    /// <summary>Page size, 1..1000. Default 50.</summary>
    public int Limit { get; init; } = 50;
    /// <summary>The <see cref="Page{T}.NextCursor"/> of the previous page; null for the first page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>Filter and page of <see cref="IControlPlaneStore.ListEventsAsync"/>.</summary>
public sealed record EventQuery
{
    public string? JobId { get; init; }
    /// <summary>Only events with an id greater than this.</summary>
    public long? After { get; init; }
    /// <summary>Page size, 1..1000. Default 100.</summary>
    public int Limit { get; init; } = 100;
}

/// <summary>One page of results; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>A recorded event with its id (ascending in recording order).</summary>
public sealed record EventRecord(long Id, Gureum.Core.Control.ClusterEvent Event);

/// <summary>A node as recorded, with what cost metering needs.</summary>
public sealed record NodeRecord(Node Node)
{
    public string Id => Node.Id;
    /// <summary>Price per node-hour of its market, from its offer (null when the offer has none).</summary>
    public decimal? PricePerHour => Node.Offer.PricePerHour(Node.Market);
}

/// <summary>One run of a job, for cost allocation and history.</summary>
public sealed record RunRecord
{
    public required string JobId { get; init; }
    /// <summary>1 for the first run.</summary>
    public required int Attempt { get; init; }
    public required string Lab { get; init; }
    public required string User { get; init; }
    public required string Project { get; init; }
    public required DateTimeOffset Start { get; init; }
    /// <summary>Null while it runs.</summary>
    public DateTimeOffset? End { get; init; }
    public required IReadOnlyList<Placement> Placements { get; init; }
    public string? GpuModel { get; init; }
    /// <summary>Null while it runs.</summary>
    public RunOutcome? Outcome { get; init; }
    public IEnumerable<string> NodeIds => Placements.Select(p => p.NodeId);
    /// <summary>Milli-GPUs held over all its nodes.</summary>
    public long MilliGpus => Placements.Sum(p => (long)p.MilliGpus);
}

/// <summary>Job ids: sortable by creation time, unique without coordination.</summary>
public static class JobIds
{
    /// <summary>A new id: <c>j-</c>, milliseconds since the epoch in base 36, and 40 random bits in base 36.</summary>
    public static string New(DateTimeOffset now)
    {
        Span<byte> r = stackalloc byte[8];
        RandomNumberGenerator.Fill(r);
        var rand = BitConverter.ToUInt64(r) & 0xFF_FFFF_FFFF;
        return "j-" + Base36((ulong)now.ToUnixTimeMilliseconds()).PadLeft(9, '0') + Base36(rand).PadLeft(8, '0');
    }

    private static string Base36(ulong v)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> buf = stackalloc char[16];
        var i = buf.Length;
        do { buf[--i] = digits[(int)(v % 36)]; v /= 36; } while (v > 0);
        return new string(buf[i..]);
    }
}

/// <summary>The database was written by a newer Gureum (or is otherwise at an unknown schema version).</summary>
public sealed class SchemaVersionException(string message) : Exception(message);

/// <summary>The database could not be reached or failed; retrying later may help.</summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Schema versions this build knows.</summary>
public static class SchemaInfo
{
    /// <summary>The schema version this build writes.</summary>
    public static int CurrentVersion => Migrations.Latest;
}
