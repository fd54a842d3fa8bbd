using System.Threading.Channels;
using Gureum.Core.Control;

namespace Gureum.Server.Hosting;

/// <summary>
/// What backends report to (process exits, nodes ready or lost). <see cref="ControlLoop"/> is not
/// thread-safe, so a report is queued, the loop is woken, and the loop's own task applies queued
/// reports before its next decision (<see cref="DrainAsync"/>).
/// </summary>
/// <remarks>
/// A report returns only once the loop has applied it (written it to the store): a backend that
/// deletes its run handle after reporting an exit must not lose that exit if this replica dies
/// in between. The exception is a report made from inside a call the loop is making right now
/// (e.g. <see cref="IRecoverableExecutor.RecoverAsync"/> reporting inline): waiting there would
/// deadlock, so it returns once queued. Reports still queued when this replica stops leading fail
/// with <see cref="OperationCanceledException"/> (the next leader's recovery re-reads the backend).
/// Thread-safe.
/// </remarks>
public sealed class QueuedObserver(LoopSignal signal) : IClusterObserver
{
    private sealed record Report(Func<IClusterObserver, CancellationToken, ValueTask> Apply, TaskCompletionSource Done);

    private static readonly AsyncLocal<long> CallerStep = new();
    private readonly Channel<Report> _queue = Channel.CreateUnbounded<Report>(new UnboundedChannelOptions { SingleReader = true });
    private long _stepSeq;
    private long _executingStep;

    /// <summary>Reports queued and not yet applied.</summary>
    public int Count => _queue.Reader.Count;

    /// <summary>Marks the start of a loop step (a tick or a recovery) on the calling async flow;
    /// reports made from inside it do not wait. Dispose at the end of the step.</summary>
    public IDisposable EnterStep()
    {
        var id = Interlocked.Increment(ref _stepSeq);
        CallerStep.Value = id;
        Volatile.Write(ref _executingStep, id);
        return new StepScope(this, id);
    }

    private sealed class StepScope(QueuedObserver owner, long id) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._executingStep, 0, id);
    }

    private Task Enqueue(Func<IClusterObserver, CancellationToken, ValueTask> apply)
    {
        var report = new Report(apply, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Writer.TryWrite(report); // unbounded: never fails
        signal.Set();
        var step = CallerStep.Value;
        var inline = step != 0 && step == Volatile.Read(ref _executingStep);
        return inline ? Task.CompletedTask : report.Done.Task;
    }

    /// <summary>Applies every queued report to <paramref name="loop"/>, in arrival order. Called by
    /// the loop's task only. Returns how many were applied.</summary>
    public async ValueTask<int> DrainAsync(IClusterObserver loop, CancellationToken ct)
    {
        var n = 0;
        while (_queue.Reader.TryRead(out var report))
        {
            try
            {
                await report.Apply(loop, ct).ConfigureAwait(false);
                report.Done.TrySetResult();
            }
            catch (Exception e)
            {
                report.Done.TrySetException(e);
                throw;
            }
            n++;
        }
        return n;
    }

    /// <summary>Fails queued reports (this replica stopped leading; the next leader's recovery
    /// re-reads the backends' state).</summary>
    public void Clear()
    {
        while (_queue.Reader.TryRead(out var report)) report.Done.TrySetCanceled();
    }

    /// <inheritdoc />
    public ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct) => new(Enqueue((t, c) => t.OnNodeReadyAsync(nodeId, c)));

    /// <inheritdoc />
    public ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct) => new(Enqueue((t, c) => t.OnProvisionFailedAsync(nodeId, reason, c)));

    /// <inheritdoc />
    public ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct) => new(Enqueue((t, c) => t.OnNodeLostAsync(nodeId, reason, c)));

    /// <inheritdoc />
    public ValueTask OnJobLostAsync(string jobId, string reason, CancellationToken ct) => new(Enqueue((t, c) => t.OnJobLostAsync(jobId, reason, c)));

    /// <inheritdoc />
    public ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct) => new(Enqueue((t, c) => t.OnJobExitedAsync(jobId, succeeded, c)));
}
