namespace Gureum.Core.Control;

/// <summary>
/// Durable per-job backend state (e.g. pid + process start time + log paths for the local
/// backend) so a restarted or failed-over server can re-adopt running work.
/// </summary>
/// <remarks>
/// A backend saves a handle when it starts a job (before <see cref="IExecutor.StartAsync"/>
/// returns) and deletes it once the job's end has been reported. At start-up the backend lists its
/// handles and re-adopts, reports or gives up on each. Implementations must be safe to call from
/// several threads (backends report from process-exit callbacks).
/// </remarks>
public interface IRunHandleStore
{
    /// <summary>Insert or replace the handle of <see cref="RunHandle.JobId"/> (upsert by job id).
    /// Durable when it returns.</summary>
    ValueTask SaveAsync(RunHandle handle, CancellationToken ct);

    /// <summary>Every handle saved by <paramref name="backend"/> and not deleted, in no particular order.</summary>
    ValueTask<IReadOnlyList<RunHandle>> ListAsync(string backend, CancellationToken ct);

    /// <summary>Forget a job's handle. Idempotent: deleting a missing handle does nothing.</summary>
    ValueTask DeleteAsync(string jobId, CancellationToken ct);
}

/// <summary>One job's backend state.</summary>
/// <param name="JobId">The job (one handle per job; a new run replaces the old handle).</param>
/// <param name="Backend">Name of the backend that owns it (e.g. <c>local</c>, <c>sim</c>).</param>
/// <param name="NodeId">Node the job runs on.</param>
/// <param name="Data">Backend-specific JSON, opaque to the store.</param>
/// <param name="SavedAt">When the backend saved it.</param>
public sealed record RunHandle(string JobId, string Backend, string NodeId, string Data, DateTimeOffset SavedAt);
