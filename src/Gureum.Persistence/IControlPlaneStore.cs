using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;

namespace Gureum.Persistence;

/// <summary>
/// The control plane's durable state: tenancy (labs, users, API tokens), jobs as submitted and as
/// they progress, their runs, nodes, the event log, backend run handles and the leader lease. One
/// database (SQLite or PostgreSQL, see <see cref="ControlPlaneStore.OpenAsync"/>) may be shared by
/// several server replicas; exactly one of them (the lease holder) runs the control loop through
/// <see cref="OpenClusterStoreAsync"/>, the others only accept submissions and serve reads.
/// </summary>
/// <remarks>
/// Thread-safe: every method may be called concurrently (API requests). Writes are durable when the
/// returned task completes (committed; SQLite in WAL mode with <c>synchronous=FULL</c>). Expected
/// outcomes (over quota, unknown lab, duplicate name) are values; exceptions mean the database
/// failed (<see cref="StoreUnavailableException"/>: retrying later may help) or a bug.
/// </remarks>
public interface IControlPlaneStore : IRunHandleStore, IAsyncDisposable
{
    /// <summary>Which database this is: <c>sqlite</c> or <c>postgres</c>.</summary>
    string Provider { get; }

    /// <summary>
    /// Bring the schema up to <see cref="SchemaInfo.CurrentVersion"/>, applying each missing
    /// migration in its own transaction. Idempotent. Called by <see cref="ControlPlaneStore.OpenAsync"/>.
    /// Throws <see cref="SchemaVersionException"/> when the database was written by a newer Gureum.
    /// </summary>
    ValueTask MigrateAsync(CancellationToken ct);

    /// <summary>The schema version the database is at.</summary>
    ValueTask<int> GetSchemaVersionAsync(CancellationToken ct);

    // ---- tenancy -------------------------------------------------------------------------

    /// <summary>Create a lab. Returns false (and changes nothing) when one of that name exists.</summary>
    ValueTask<bool> AddLabAsync(Lab lab, CancellationToken ct);

    /// <summary>Replace a lab's quotas and budget. Returns false for an unknown lab.</summary>
    ValueTask<bool> UpdateLabAsync(Lab lab, CancellationToken ct);

    ValueTask<Lab?> GetLabAsync(string name, CancellationToken ct);

    /// <summary>Every lab, by name.</summary>
    ValueTask<IReadOnlyList<Lab>> ListLabsAsync(CancellationToken ct);

    /// <summary>Create a user in an existing lab.</summary>
    ValueTask<AddUserResult> AddUserAsync(User user, CancellationToken ct);

    ValueTask<User?> GetUserAsync(string name, CancellationToken ct);

    /// <summary>Users, by name; only <paramref name="lab"/>'s when given.</summary>
    ValueTask<IReadOnlyList<User>> ListUsersAsync(string? lab, CancellationToken ct);

    /// <summary>
    /// Create an API token for a user. Only its SHA-256 hash is stored; the plaintext is in the
    /// result and can never be read back. Returns null for an unknown user.
    /// </summary>
    ValueTask<NewToken?> CreateTokenAsync(string userName, DateTimeOffset now, CancellationToken ct);

    /// <summary>The user a token belongs to, or null for an unknown or revoked token.</summary>
    ValueTask<User?> AuthenticateAsync(string token, CancellationToken ct);

    /// <summary>Revoke a token by its id. Returns false when there is no such token.</summary>
    ValueTask<bool> RevokeTokenAsync(string tokenId, CancellationToken ct);

    // ---- jobs ----------------------------------------------------------------------------

    /// <summary>
    /// Accept a job: committed before this returns, in the same transaction as the lab's
    /// queued-jobs quota check. Concurrent calls are batched into one transaction (group commit).
    /// The job starts pending; the leader picks it up at its next <see cref="IDurableClusterStore.SyncAsync"/>.
    /// </summary>
    /// <param name="spec">The validated spec; <see cref="JobSpec.Id"/> must be new (see <see cref="JobIds.New"/>).</param>
    /// <param name="specText">The text the user submitted (YAML), kept verbatim for display.</param>
    /// <param name="now">Submission time.</param>
    /// <param name="ct">Cancels waiting; a batch already committing still commits.</param>
    ValueTask<SubmitResult> SubmitAsync(JobSpec spec, string specText, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// <see cref="SubmitAsync(JobSpec, string, DateTimeOffset, CancellationToken)"/>, the job held
    /// when <paramref name="hold"/> is given: it is committed pending with that reason and a
    /// <see cref="EventKind.JobHeld"/> event in the same transaction, and the control loop never
    /// starts it until <see cref="ReleaseHoldAsync"/>.
    /// </summary>
    ValueTask<SubmitResult> SubmitAsync(JobSpec spec, string specText, string? hold, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Release a held pending job: clears its hold and records a <see cref="EventKind.JobReleased"/>
    /// event with <paramref name="reason"/>, durably; the leader's control loop picks it up at its
    /// next <see cref="IDurableClusterStore.SyncAsync"/>. Idempotent: a job that is not held (or no
    /// longer pending) is returned unchanged and nothing is recorded. Null for an unknown job.
    /// </summary>
    ValueTask<JobRecord?> ReleaseHoldAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct);

    ValueTask<JobRecord?> GetJobAsync(string jobId, CancellationToken ct);

    /// <summary>Jobs matching a filter, newest first, in pages (keyset paging on the submission sequence).</summary>
    ValueTask<Page<JobRecord>> ListJobsAsync(JobQuery query, CancellationToken ct);

    /// <summary>
    /// Ask for a job to be cancelled: recorded durably (and as a <see cref="EventKind.JobCancelRequested"/>
    /// event); the leader's control loop cancels it at its next sync. Idempotent. Returns the job
    /// (with <see cref="JobRecord.CancelRequested"/> set unless it had already ended), or null for
    /// an unknown job.
    /// </summary>
    ValueTask<JobRecord?> RequestCancelAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Pending jobs per lab (for quota displays).</summary>
    ValueTask<IReadOnlyDictionary<string, int>> CountQueuedByLabAsync(CancellationToken ct);

    /// <summary>Milli-GPUs held by running jobs per lab.</summary>
    ValueTask<IReadOnlyDictionary<string, long>> RunningMilliGpusByLabAsync(CancellationToken ct);

    // ---- events, runs, nodes -------------------------------------------------------------

    /// <summary>Events in the order they were recorded, after a cursor (keyset paging on the event id).</summary>
    ValueTask<Page<EventRecord>> ListEventsAsync(EventQuery query, CancellationToken ct);

    /// <summary>Nodes, in creation order; terminated ones only when asked.</summary>
    ValueTask<IReadOnlyList<NodeRecord>> ListNodesAsync(bool includeTerminated, CancellationToken ct);

    /// <summary>Nodes that were alive at some time in [<paramref name="from"/>, <paramref name="to"/>) (requested before
    /// <paramref name="to"/>, not terminated before <paramref name="from"/>), for cost metering.</summary>
    ValueTask<IReadOnlyList<NodeRecord>> ListNodesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct);

    /// <summary>Job runs that overlap [<paramref name="from"/>, <paramref name="to"/>) (a run still going has a null end),
    /// for cost allocation. Ordered by start.</summary>
    ValueTask<IReadOnlyList<RunRecord>> ListRunsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct);

    /// <summary>The runs of one job, in order.</summary>
    ValueTask<IReadOnlyList<RunRecord>> ListRunsOfJobAsync(string jobId, CancellationToken ct);

    // ---- the control loop's store and the lease -------------------------------------------

    /// <summary>
    /// Load the working set (pending and running jobs, alive nodes) and return the durable
    /// <see cref="IClusterStore"/> the control loop runs on: state in memory, every mutation
    /// written through before it returns. Open it only while holding the leader lease.
    /// </summary>
    ValueTask<IDurableClusterStore> OpenClusterStoreAsync(IReadOnlyList<Offer> offers, DurableClusterStoreOptions? options, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Try to become the one active control loop on this database. Returns null when another
    /// process holds the lease. PostgreSQL: a session advisory lock on a dedicated connection,
    /// released by the server when that connection dies. SQLite: an exclusive lock on
    /// <c>PATH.lock</c>, released by the OS when the process dies (single host only).
    /// </summary>
    ValueTask<ILeaderLease?> TryAcquireLeaseAsync(string holder, DateTimeOffset now, CancellationToken ct);

    /// <summary>Who holds the lease as last recorded (informational; the lock is the truth).</summary>
    ValueTask<LeaseInfo?> GetLeaseInfoAsync(CancellationToken ct);
}

/// <summary>The <see cref="IClusterStore"/> the leader's control loop runs on, backed by the database.</summary>
public interface IDurableClusterStore : IClusterStore
{
    /// <summary>
    /// Pull what other writers (API submissions on any replica) did since the last sync: new jobs
    /// join the queue; cancel requests are returned for the caller to carry out with
    /// <see cref="ControlLoop.CancelAsync"/> (so running jobs are stopped by the executor). Call it
    /// before each decision; not concurrently with other calls on this store.
    /// </summary>
    ValueTask<SyncResult> SyncAsync(DateTimeOffset now, CancellationToken ct);

    /// <summary>Lab quotas (concurrent GPUs, fair-share weight) the snapshot carries, refreshed by <see cref="SyncAsync"/>.</summary>
    IReadOnlyDictionary<string, double> LabGpuQuotas { get; }
}

/// <summary>Options of the durable cluster store.</summary>
public sealed record DurableClusterStoreOptions
{
    /// <summary>Fair-share usage half-life. Default 7 days (as <see cref="Gureum.Core.Persistence.InMemoryStoreOptions"/>).</summary>
    public TimeSpan FairShareHalfLife { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Fair-share weight per lab; labs not listed weigh 1.</summary>
    public IReadOnlyDictionary<string, double> LabWeights { get; init; } = new Dictionary<string, double>();
}

/// <summary>What a sync found.</summary>
/// <param name="NewJobs">Jobs submitted since the last sync, now in the queue.</param>
/// <param name="CancelRequests">Cancel requests since the last sync, for jobs in the working set, to carry out.</param>
public sealed record SyncResult(IReadOnlyList<JobView> NewJobs, IReadOnlyList<CancelRequest> CancelRequests);

/// <summary>A request to cancel a job.</summary>
public sealed record CancelRequest(string JobId, string Reason, DateTimeOffset At);

/// <summary>The leader lease a process holds. Dispose to release it.</summary>
public interface ILeaderLease : IAsyncDisposable
{
    /// <summary>Name of the holder given when it was acquired.</summary>
    string Holder { get; }

    /// <summary>Cancelled when the lease is found lost (its connection or lock went away), by
    /// <see cref="CheckAsync"/> or the lease's own periodic check.</summary>
    CancellationToken Lost { get; }

    /// <summary>Verify the lease is still held (PostgreSQL: a round trip on its connection).
    /// Returns false, and cancels <see cref="Lost"/>, when it is not.</summary>
    ValueTask<bool> CheckAsync(CancellationToken ct);
}

/// <summary>The last recorded lease holder.</summary>
public sealed record LeaseInfo(string Holder, DateTimeOffset AcquiredAt);
