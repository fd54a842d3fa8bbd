namespace Gureum.Simulation.Replay;

/// <summary>
/// The replay's clock: a <see cref="TimeProvider"/> that stands still until the event loop moves it
/// to the next event. The control loop reads it exactly as it reads the wall clock live.
/// </summary>
public sealed class SimulationTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves time forward. Time never goes back.</summary>
    public void AdvanceTo(DateTimeOffset t)
    {
        if (t < _now) throw new InvalidOperationException($"Simulation time cannot go back from {_now:O} to {t:O}.");
        _now = t;
    }
}
