using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Persistence;

namespace Gureum.Server.Hosting;

/// <summary>A backend for one leadership term: its provisioner and executor, and the nodes it
/// brings with it (the local machine).</summary>
public sealed class BackendInstance(INodeProvisioner provisioner, IExecutor executor, IReadOnlyList<Node> fixedNodes, IAsyncDisposable? resources = null) : IAsyncDisposable
{
    public INodeProvisioner Provisioner => provisioner;
    public IExecutor Executor => executor;
    public IReadOnlyList<Node> FixedNodes => fixedNodes;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => resources?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>Builds the configured backend (<c>local</c> or <c>sim</c>) over the store's run handles.</summary>
public sealed class BackendFactory(ServerOptions options, IControlPlaneStore store, TimeProvider time)
{
    /// <summary>What the backend offers.</summary>
    public IReadOnlyList<Offer> Offers { get; } = [];

    /// <summary>A backend for a new term; reports go to <paramref name="observer"/>.</summary>
    public ValueTask<BackendInstance> CreateAsync(IClusterObserver observer, CancellationToken ct) =>
        throw new NotSupportedException($"backend {options.Backend} is not wired yet ({store.Provider}, {time})");

    /// <summary>Where a job's log file of a stream is, or null when it has none (yet).</summary>
    public ValueTask<string?> LogPathAsync(JobRecord job, string stream, CancellationToken ct) => ValueTask.FromResult<string?>(null);
}
