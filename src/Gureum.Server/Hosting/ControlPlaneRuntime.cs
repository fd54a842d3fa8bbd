using Gureum.Autoscaling;
using Gureum.Contracts.Api;
using Gureum.Contracts.Specs;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Persistence;

namespace Gureum.Server.Hosting;

/// <summary>One leadership term: the durable cluster store, the loop over it and the backend.</summary>
public sealed class LeaderTerm(IDurableClusterStore cluster, ControlLoop loop, BackendInstance backend)
{
    public IDurableClusterStore Cluster => cluster;
    public ControlLoop Loop => loop;
    public BackendInstance Backend => backend;

    /// <summary>When the last plan asked to be called again (idle timeouts, boot waits).</summary>
    public DateTimeOffset? WakeAt { get; set; }
}

/// <summary>
/// What the server runs on, shared by the API and the control loop: this replica's id, the offers
/// of its backend, the policy, and the observer backends report to. Opens a <see cref="LeaderTerm"/>
/// when the loop takes the lease.
/// </summary>
public sealed class ControlPlaneRuntime
{
    private readonly IControlPlaneStore _store;
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;

    private readonly DurationModel _durations;

    public ControlPlaneRuntime(IControlPlaneStore store, ServerOptions options, LoopSignal signal, TimeProvider time, BackendFactory backends, DurationModel durations)
    {
        _durations = durations;
        _store = store;
        _options = options;
        _time = time;
        Observer = new QueuedObserver(signal);
        ReplicaId = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
        Backends = backends;
        Offers = Backends.Offers;
        OfferedGpuModels = Offers.Select(o => o.GpuModel).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        // Validate the policy name at start-up, not at the first takeover.
        _ = PolicyCatalog.Create(options.EffectivePolicy);
    }

    /// <summary>This replica's name in the lease and the event log.</summary>
    public string ReplicaId { get; }

    /// <summary>Where backends report; drained by the loop.</summary>
    public QueuedObserver Observer { get; }

    /// <summary>The backend of this server.</summary>
    public BackendFactory Backends { get; }

    /// <summary>What the backend can provide (the local machine, or the simulated catalog).</summary>
    public IReadOnlyList<Offer> Offers { get; }

    /// <summary>GPU models on offer, for spec validation ("unknown GPU models list the ones on offer").</summary>
    public IReadOnlyCollection<string> OfferedGpuModels { get; }

    /// <summary>Loads the working set and the backend for a new leadership term.</summary>
    public async Task<LeaderTerm> OpenTermAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        Observer.Clear();
        var cluster = await _store.OpenClusterStoreAsync(Offers, new DurableClusterStoreOptions(), now, ct);
        var backend = Backends.Attach(Observer);
        foreach (var node in backend.FixedNodes)
            if (await cluster.GetNodeAsync(node.Id, ct) is null) await cluster.AddNodeAsync(node, ct);
        // gureum asks the server's one duration model (trained from the store), as dry runs do.
        var loop = new ControlLoop(cluster, PolicyCatalog.Create(_options.EffectivePolicy, sharedDurations: _durations.Predictor), backend.Provisioner, backend.Executor, _time,
            new ControlLoopOptions { RecordDecisions = false });
        return new LeaderTerm(cluster, loop, backend);
    }

    /// <summary>Stops routing backend reports (the term ended).</summary>
    public void Detach() => Observer.Clear();

    /// <summary>The API's view of a job, with the exit code of its last run when the store has
    /// none and the backend knows it (the local backend keeps it on disk beside the logs).</summary>
    public JobDto Describe(JobRecord j)
    {
        var dto = ToDto(j);
        return dto.ExitCode is null && j.Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled
            ? dto with { ExitCode = Backends.ExitCodeOf(j.Id) }
            : dto;
    }

    /// <summary>The API's view of a job as the store records it.</summary>
    public static JobDto ToDto(JobRecord j) => new()
    {
        Id = j.Id,
        Name = j.Spec.Name,
        User = j.Spec.User,
        Lab = j.Spec.Lab,
        Project = j.Spec.Project,
        Status = j.Status.ToString(),
        SubmittedAt = j.SubmittedAt,
        StartedAt = j.StartedAt,
        EndedAt = j.EndedAt,
        Attempts = j.Attempts,
        Gpus = GpuRequest.Format(j.Spec.Resources, j.Spec.GpuModels),
        GpuModel = j.GpuModel,
        Nodes = j.NodeIds,
        WaitReason = j.Status == JobStatus.Pending && j.Hold is not null ? j.Hold : j.WaitReason,
        ExitCode = j.ExitCode,
        CancelRequested = j.CancelRequested,
        Hold = j.Status == JobStatus.Pending ? j.Hold : null,
        Kind = j.Spec.Kind == JobKind.Service ? JobKinds.Service : JobKinds.Batch,
    };
}
