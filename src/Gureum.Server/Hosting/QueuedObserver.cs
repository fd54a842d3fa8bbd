using System.Threading.Channels;
using Gureum.Core.Control;

namespace Gureum.Server.Hosting;

/// <summary>
/// What backends report to (process exits, nodes ready or lost). Backends report from their own
/// threads, and sometimes from inside a call the loop made (a process that fails to start), but
/// <see cref="ControlLoop"/> is not thread-safe: so a report is queued, the loop is woken, and the
/// loop's own task applies queued reports before its next decision (<see cref="DrainAsync"/>).
/// A report returns once queued. Thread-safe.
/// </summary>
public sealed class QueuedObserver(LoopSignal signal) : IClusterObserver
{
    private readonly Channel<Func<IClusterObserver, CancellationToken, ValueTask>> _queue =
        Channel.CreateUnbounded<Func<IClusterObserver, CancellationToken, ValueTask>>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Reports queued and not yet applied.</summary>
    public int Count => _queue.Reader.Count;

    private ValueTask Enqueue(Func<IClusterObserver, CancellationToken, ValueTask> report)
    {
        _queue.Writer.TryWrite(report); // unbounded: never fails while not completed
        signal.Set();
        return ValueTask.CompletedTask;
    }

    /// <summary>Applies every queued report to <paramref name="loop"/>, in arrival order. Called by
    /// the loop's task only. Returns how many were applied.</summary>
    public async ValueTask<int> DrainAsync(IClusterObserver loop, CancellationToken ct)
    {
        var n = 0;
        while (_queue.Reader.TryRead(out var report))
        {
            await report(loop, ct).ConfigureAwait(false);
            n++;
        }
        return n;
    }

    /// <summary>Drops queued reports (this replica stopped leading; the next leader's recovery
    /// re-reads the backends' state).</summary>
    public void Clear()
    {
        while (_queue.Reader.TryRead(out _)) { }
    }

    /// <inheritdoc />
    public ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct) => Enqueue((t, c) => t.OnNodeReadyAsync(nodeId, c));

    /// <inheritdoc />
    public ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct) => Enqueue((t, c) => t.OnProvisionFailedAsync(nodeId, reason, c));

    /// <inheritdoc />
    public ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct) => Enqueue((t, c) => t.OnNodeLostAsync(nodeId, reason, c));

    /// <inheritdoc />
    public ValueTask OnJobLostAsync(string jobId, string reason, CancellationToken ct) => Enqueue((t, c) => t.OnJobLostAsync(jobId, reason, c));

    /// <inheritdoc />
    public ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct) => Enqueue((t, c) => t.OnJobExitedAsync(jobId, succeeded, c));
}
