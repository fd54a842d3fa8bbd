namespace Gureum.Server.Hosting;

/// <summary>
/// Wakes the control loop early: any number of <see cref="Set"/> calls before the loop waits
/// again collapse into one wake-up (the loop looks at the whole state each time, so nothing is lost).
/// Thread-safe.
/// </summary>
public sealed class LoopSignal
{
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests a decision as soon as possible.</summary>
    public void Set() => Volatile.Read(ref _tcs).TrySetResult();

    /// <summary>Waits until signalled or until <paramref name="timeout"/> passes on <paramref name="time"/>.
    /// Returns true when signalled. Resets the signal.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var tcs = Volatile.Read(ref _tcs);
        if (!tcs.Task.IsCompleted)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(timeout, time, cts.Token);
            await Task.WhenAny(tcs.Task, delay).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
        var signalled = tcs.Task.IsCompleted;
        if (signalled) Interlocked.CompareExchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), tcs);
        return signalled;
    }
}
