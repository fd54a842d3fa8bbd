using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Core.Control;

/// <summary>
/// Durable (or, in replay, in-memory) cluster state. Every mutation is one call so that a
/// database store can make it one transaction. Implementations are used by one control loop at a
/// time; they need not be thread-safe for concurrent mutation.
/// </summary>
public interface IClusterStore
{
    /// <summary>A frozen view for one decision.</summary>
    ValueTask<ClusterSnapshot> SnapshotAsync(DateTimeOffset now, CancellationToken ct);

    /// <summary>Accept a job into the queue. Returns its view. Idempotent per job id: a second
    /// call with the same id throws <see cref="InvalidOperationException"/>.</summary>
    ValueTask<JobView> AddJobAsync(JobSpec spec, DateTimeOffset now, CancellationToken ct);

    ValueTask<JobView?> GetJobAsync(string jobId, CancellationToken ct);
    ValueTask<Node?> GetNodeAsync(string nodeId, CancellationToken ct);

    /// <summary>Jobs currently running on a node.</summary>
    ValueTask<IReadOnlyList<JobView>> JobsOnNodeAsync(string nodeId, CancellationToken ct);

    /// <summary>Mark a job running on its placements and take the node resources.</summary>
    ValueTask<JobView> StartJobAsync(string jobId, IReadOnlyList<Placement> placements, DateTimeOffset now, CancellationToken ct);

    /// <summary>End the current run of a job. For <see cref="RunOutcome.Preempted"/> and
    /// <see cref="RunOutcome.NodeLost"/> the job goes back to the queue with <paramref name="workSaved"/>.</summary>
    ValueTask<JobView> EndRunAsync(string jobId, RunOutcome outcome, TimeSpan workSaved, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Cancel a job that is not running: a pending job becomes <see cref="JobStatus.Cancelled"/> and
    /// leaves the queue. A job that already ended is returned unchanged (idempotent). A running job
    /// is not cancelled here: the control loop stops it through the executor first, then ends its
    /// run with <see cref="EndRunAsync"/> and <see cref="RunOutcome.Cancelled"/>
    /// (<see cref="ControlLoop.CancelAsync"/> does both), so this throws
    /// <see cref="InvalidOperationException"/> for one. Returns null for an unknown job.
    /// </summary>
    ValueTask<JobView?> CancelJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Put a hold on a pending job (<paramref name="hold"/> is the reason) or release it (null). A
    /// held job stays pending and is skipped by the decision core. Returns the job, unchanged when it
    /// is not pending (a hold only matters in the queue); null for an unknown job. Idempotent.
    /// </summary>
    ValueTask<JobView?> SetHoldAsync(string jobId, string? hold, CancellationToken ct);

    /// <summary>
    /// Record why pending jobs wait (the decision's explanation, <see cref="Plan.WaitReasons"/>),
    /// replacing each job's previous reason, as one batch (one transaction for a database store).
    /// Jobs that are unknown or no longer pending are skipped. The control loop passes only the
    /// reasons that changed, so a long queue that keeps its reasons costs no writes.
    /// </summary>
    ValueTask SetWaitReasonsAsync(IReadOnlyList<KeyValuePair<string, string>> reasons, DateTimeOffset now, CancellationToken ct);

    /// <summary>Mark a pending job as never runnable.</summary>
    ValueTask RejectJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Add a node (requested, or ready for a fixed fleet).</summary>
    ValueTask AddNodeAsync(Node node, CancellationToken ct);

    /// <summary>Move a node through its lifecycle.</summary>
    ValueTask<Node> SetNodeStateAsync(string nodeId, NodeState state, DateTimeOffset now, CancellationToken ct);

    /// <summary>Next node id (deterministic in replay).</summary>
    string NewNodeId();

    /// <summary>Record trouble in a spot market (failed request or reclaim).</summary>
    ValueTask RecordSpotTroubleAsync(string zone, string? gpuModel, DateTimeOffset at, CancellationToken ct);

    ValueTask AppendEventAsync(ClusterEvent e, CancellationToken ct);

    /// <summary>
    /// Lets the caller make many writes without waiting for each to be durable: until the returned
    /// scope is disposed, this logical flow's writes are applied to the store's state at once and
    /// queued for commit in order; disposing the scope waits until every one of them is durable
    /// (and throws if one failed). A database store then commits them in a few transactions instead
    /// of one per write. Callers dispose the scope before any side effect that needs its writes on
    /// disk first (write-ahead: a node is recorded before it is requested from the cloud). Nested
    /// scopes join the outer one. Stores that are not durable return a scope that does nothing.
    /// </summary>
    IAsyncDisposable DeferCommits() => NoDeferral.Instance;

    /// <summary>Offers the cluster may buy.</summary>
    IReadOnlyList<Offer> Offers { get; }
}

/// <summary>The scope of <see cref="IClusterStore.DeferCommits"/> when there is nothing to wait for:
/// stores with nothing to defer, and scopes nested in another.</summary>
public sealed class NoDeferral : IAsyncDisposable
{
    /// <summary>The one instance.</summary>
    public static readonly NoDeferral Instance = new();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Gets and releases capacity. Requests are asynchronous: the backend later reports the node
/// ready (or failed, or lost) through <see cref="IClusterObserver"/>. Release is idempotent.
/// </summary>
public interface INodeProvisioner
{
    ValueTask RequestAsync(Node node, CancellationToken ct);
    ValueTask ReleaseAsync(Node node, CancellationToken ct);
}

/// <summary>
/// A cloud that publishes each spot market's record (<see cref="SpotHistory"/>); a provisioner may
/// implement it, and the control loop then hands the records to the policy in
/// <see cref="SpotSignals.History"/>. Only what happened before the time asked about is answered.
/// </summary>
public interface ISpotHistorySource
{
    /// <summary>The record of <paramref name="offer"/>'s spot market (its zone and GPU model) over the
    /// source's window ending at <paramref name="before"/>; null when the market has none.</summary>
    SpotHistory? History(Offer offer, DateTimeOffset before);
}

/// <summary>
/// Runs jobs on nodes. Start returns once the job is launched; its end is reported through
/// <see cref="IClusterObserver.OnJobExitedAsync"/>. Stop is idempotent and does not report an exit.
/// </summary>
public interface IExecutor
{
    ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct);
    ValueTask StopAsync(JobView job, CancellationToken ct);
}

/// <summary>What backends report back to the control loop. Live and replay use the same calls.</summary>
public interface IClusterObserver
{
    ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct);
    ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct);
    ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct);
    ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct);

    /// <summary>
    /// The backend lost track of a running job while its node is fine (e.g. the local backend
    /// found, after a restart, neither the process nor its recorded exit). The loop ends the run as
    /// <see cref="Domain.RunOutcome.NodeLost"/>, so the job is requeued (resuming from its last
    /// checkpoint) and the policy decides whether and where it runs again. Default: reported as a
    /// failed exit, for observers that do not requeue.
    /// </summary>
    ValueTask OnJobLostAsync(string jobId, string reason, CancellationToken ct) => OnJobExitedAsync(jobId, succeeded: false, ct);
}
