using System.Collections.Concurrent;
using Gureum.Core.Control;

namespace Gureum.Core.Persistence;

/// <summary>
/// <see cref="IRunHandleStore"/> in memory, for tests and replay. Not durable: a handle lives as
/// long as this object. Thread-safe.
/// </summary>
public sealed class InMemoryRunHandleStore : IRunHandleStore
{
    private readonly ConcurrentDictionary<string, RunHandle> _handles = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask SaveAsync(RunHandle handle, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ct.ThrowIfCancellationRequested();
        _handles[handle.JobId] = handle;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RunHandle>> ListAsync(string backend, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        IReadOnlyList<RunHandle> list = _handles.Values.Where(h => h.Backend == backend).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(string jobId, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        _handles.TryRemove(jobId, out _);
        return ValueTask.CompletedTask;
    }
}
