using Gureum.Core.Domain;

namespace Gureum.Simulation.Replay;

/// <summary>Kinds of simulated happenings.</summary>
public enum SimEventKind
{
    NodeReady,
    ProvisionFailed,
    NodeReclaimed,
    JobEnded,
    /// <summary>A job reached its time limit before its work was done (live sim only; see
    /// <see cref="SimulatedExecutor"/>).</summary>
    JobTimedOut,
    Wake,
}

/// <summary>One future happening in the replay.</summary>
public readonly record struct SimEvent(SimEventKind Kind, string? Id, long Token);

/// <summary>
/// Where the simulated cloud and executor schedule their future happenings: the replay's
/// <see cref="EventQueue"/>, or timers on a live <see cref="TimeProvider"/> (Gureum.Backends' sim backend).
/// </summary>
public interface ISimEventSink
{
    /// <summary>Schedule <paramref name="e"/> to happen at <paramref name="at"/>.</summary>
    void Push(DateTimeOffset at, SimEvent e);
}

/// <summary>Events ordered by time, then by insertion (deterministic ties).</summary>
public sealed class EventQueue : ISimEventSink
{
    private readonly PriorityQueue<SimEvent, (long Ticks, long Seq)> _queue = new();
    private long _seq;

    public int Count => _queue.Count;

    public void Push(DateTimeOffset at, SimEvent e) => _queue.Enqueue(e, (at.UtcTicks, _seq++));

    public bool TryPeekTime(out DateTimeOffset at)
    {
        if (_queue.TryPeek(out _, out var p)) { at = new DateTimeOffset(p.Ticks, TimeSpan.Zero); return true; }
        at = default;
        return false;
    }

    public SimEvent Pop() => _queue.Dequeue();
}
