using Gureum.Core.Control;
using Gureum.Core.Domain;

namespace Gureum.Backends.Local;

/// <summary>
/// The local backend's provisioner: the machine is one fixed node, added to the store at start-up
/// (<see cref="LocalMachine.ToNode"/>), never bought or released. A request for another node is
/// refused (reported as a failed provision, from a background task); release does nothing (the
/// machine stays).
/// </summary>
public sealed class LocalNodeProvisioner : INodeProvisioner
{
    private IClusterObserver? _observer;

    /// <summary>Sets where refusals are reported.</summary>
    public void Attach(IClusterObserver observer) => _observer = observer ?? throw new ArgumentNullException(nameof(observer));

    /// <inheritdoc />
    public ValueTask RequestAsync(Node node, CancellationToken ct)
    {
        var observer = _observer ?? throw new InvalidOperationException("LocalNodeProvisioner.Attach(observer) must be called first.");
        _ = Task.Run(() => observer.OnProvisionFailedAsync(node.Id, "the local backend has exactly one node (this machine) and cannot buy more", CancellationToken.None).AsTask(), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
}
