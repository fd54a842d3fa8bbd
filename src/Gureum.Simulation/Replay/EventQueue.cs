using Gureum.Core.Domain;

namespace Gureum.Simulation.Replay;

/// <summary>Kinds of simulated happenings.</summary>
public enum SimEventKind
{
    NodeReady,
    ProvisionFailed,
    NodeReclaimed,
    JobEnded,
    Wake,
}

/// <summary>One future happening in the replay.</summary>
public readonly record struct SimEvent(SimEventKind Kind, string? Id, long Token);

/// <summary>Events ordered by time, then by insertion (deterministic ties).</summary>
public sealed class EventQueue
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
