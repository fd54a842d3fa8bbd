using System.Globalization;
using System.Text.Json;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Planning;
using Gureum.Core.Domain;
using Gureum.Simulation.Replay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gureum.Backends.Sim;

/// <summary>Options of <see cref="SimBackend"/>.</summary>
public sealed record SimBackendOptions
{
    /// <summary>Spot market: availability of new spot nodes, reclaims of running ones, spot prices.
    /// Default <see cref="CalmSpotMarket"/> (always available, never reclaimed, catalog prices); pass a
    /// trace-driven <c>SpotMarket</c> to see reclaims.</summary>
    public ISpotMarket Spot { get; init; } = CalmSpotMarket.Instance;

    /// <summary>Minimum billed time per node. Default 60 s, as in replay.</summary>
    public TimeSpan MinimumBilled { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Each spot market's record is published over this window before the time asked
    /// (<see cref="ISpotHistorySource"/>), as in replay. Default 30 days; zero publishes nothing.</summary>
    public TimeSpan SpotHistoryWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Added to every run of a job after its first. Default 30 s, as in replay.</summary>
    public TimeSpan RestartOverhead { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The simulated cloud on the wall clock (pipeline in <c>Sim/README.md</c>): the replay's
/// <see cref="SimulatedCloud"/> and <see cref="SimulatedExecutor"/> with their future events turned
/// into timers on the injected <see cref="TimeProvider"/>. Nodes become ready after their offer's
/// boot delay and are billed from request to release with the replay's rules; spot nodes may be
/// refused or reclaimed by the spot market; a job ends after its declared duration (scaled to the
/// node's GPU), as failed at its time limit if that comes first, and without a duration it runs until
/// stopped or its limit.
/// </summary>
/// <remarks>
/// Thread-safe. Due events are reported to the observer from timer callbacks (or, when they fall due
/// inside a call of this backend, from the thread pool), never from inside a call to this backend, so
/// the host must serialize observer calls with its control loop. With a run-handle store, each run's
/// end is saved and <see cref="RecoverAsync"/> reschedules it after a restart (nodes are not
/// recovered: the ledger starts empty).
/// </remarks>
public sealed partial class SimBackend : INodeProvisioner, ISpotHistorySource, IRecoverableExecutor, IDisposable
{
    /// <summary>Backend name in run handles.</summary>
    public const string BackendName = "sim";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly IRunHandleStore? _handles;
    private readonly ILogger _log;
    private readonly SimulatedCloud _cloud;
    private readonly SimulatedExecutor _executor;
    private readonly Dictionary<long, ITimer> _timers = [];
    private long _timerSeq;
    private bool _disposed;
    private IClusterObserver? _observer;

    /// <summary>Creates the backend; call <see cref="Attach"/> before use.</summary>
    public SimBackend(TimeProvider time, SimBackendOptions? options = null, IRunHandleStore? handles = null, ILogger<SimBackend>? logger = null)
    {
        options ??= new SimBackendOptions();
        _time = time;
        _handles = handles;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        var sink = new TimerSink(this);
        _cloud = new SimulatedCloud(options.Spot, sink, time, options.MinimumBilled, options.SpotHistoryWindow);
        _executor = new SimulatedExecutor(sink, time, options.RestartOverhead, enforceTimeLimit: true);
    }

    /// <inheritdoc />
    public SpotHistory? History(Offer offer, DateTimeOffset before) => _cloud.History(offer, before);

    /// <summary>Sets where readiness, losses and exits are reported.</summary>
    public void Attach(IClusterObserver observer) => _observer = observer ?? throw new ArgumentNullException(nameof(observer));

    /// <summary>Timers waiting to fire (boot completions, job ends, reclaims).</summary>
    public int PendingEvents { get { lock (_gate) return _timers.Count; } }

    // ---------------------------------------------------------------- the ledger

    /// <summary>Every node bill so far, open ones with their start only (copies).</summary>
    public IReadOnlyList<NodeBill> Bills
    {
        get
        {
            lock (_gate) return _cloud.Bills.Select(Copy).OrderBy(b => b.Start).ThenBy(b => b.NodeId, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>USD owed now: closed bills plus open ones as if closed now (per second, minimum, spot price changes).</summary>
    public decimal AccruedUsd { get { lock (_gate) return _cloud.AccruedUsd(_time.GetUtcNow()); } }

    /// <summary>Sum of the hourly prices of the nodes being billed now.</summary>
    public decimal HourlyRate { get { lock (_gate) return _cloud.OpenHourlyRate; } }

    private static NodeBill Copy(NodeBill b)
    {
        var c = new NodeBill { NodeId = b.NodeId, Offer = b.Offer, Market = b.Market, Start = b.Start, End = b.End, StartPrice = b.StartPrice, Fixed = b.Fixed, BilledSeconds = b.BilledSeconds, BilledUsd = b.BilledUsd };
        c.PriceChanges.AddRange(b.PriceChanges);
        return c;
    }

    // ---------------------------------------------------------------- provisioner

    /// <inheritdoc />
    public ValueTask RequestAsync(Node node, CancellationToken ct)
    {
        RequireObserver();
        lock (_gate) return _cloud.RequestAsync(node, ct);
    }

    /// <inheritdoc />
    public ValueTask ReleaseAsync(Node node, CancellationToken ct)
    {
        lock (_gate) return _cloud.ReleaseAsync(node, ct);
    }

    // ---------------------------------------------------------------- executor

    /// <inheritdoc />
    public async ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct)
    {
        RequireObserver();
        (SimEventKind Kind, DateTimeOffset At)? end;
        lock (_gate) end = _executor.Schedule(job, nodes);
        if (_handles is not null)
        {
            var data = new SimHandleData(end?.Kind.ToString(), end?.At);
            await _handles.SaveAsync(new RunHandle(job.Id, BackendName, nodes.Count > 0 ? nodes[0].Id : "", JsonSerializer.Serialize(data, SimHandleJson.Default.SimHandleData), _time.GetUtcNow()), ct);
        }
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(JobView job, CancellationToken ct)
    {
        lock (_gate) _executor.StopAsync(job, ct);
        if (_handles is not null) await _handles.DeleteAsync(job.Id, ct);
    }

    /// <inheritdoc />
    /// <remarks>Reschedules the saved end of every run (at once when it is already past).</remarks>
    public async ValueTask RecoverAsync(IClusterObserver observer, CancellationToken ct)
    {
        _observer ??= observer;
        if (_handles is null) return;
        foreach (var h in await _handles.ListAsync(BackendName, ct))
        {
            var data = JsonSerializer.Deserialize(h.Data, SimHandleJson.Default.SimHandleData);
            if (data?.EndKind is not { } k || data.EndsAt is not { } at || !Enum.TryParse<SimEventKind>(k, out var kind)) continue; // runs until stopped
            lock (_gate) _executor.Resume(h.JobId, kind, at);
            LogResumed(h.JobId, kind.ToString(), at.ToString("O", CultureInfo.InvariantCulture));
        }
    }

    private void RequireObserver()
    {
        if (_observer is null) throw new InvalidOperationException("SimBackend.Attach(observer) must be called first.");
    }

    // ---------------------------------------------------------------- timers

    private void Schedule(DateTimeOffset at, SimEvent e)
    {
        // Called under _gate (from SimulatedCloud / SimulatedExecutor).
        if (_disposed) return;
        var id = ++_timerSeq;
        var due = at - _time.GetUtcNow();
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        var timer = _time.CreateTimer(static s => { var (b, i, ev) = ((SimBackend, long, SimEvent))s!; b.OnTimer(i, ev); }, (this, id, e), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timers[id] = timer;
        timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer(long id, SimEvent e)
    {
        // A timer that falls due inside one of our own calls (FakeTimeProvider fires zero-delay timers
        // at once) must not report from inside it: the caller may be the control loop itself.
        if (_gate.IsHeldByCurrentThread) { _ = Task.Run(() => OnTimer(id, e)); return; }
        _ = DispatchAsync(id, e);
    }

    private async Task DispatchAsync(long id, SimEvent e)
    {
        try
        {
            SimReport? report;
            lock (_gate)
            {
                if (!_timers.Remove(id, out var timer)) return; // disposed
                timer.Dispose();
                report = SimEventDispatch.Apply(e, _cloud, _executor, _time.GetUtcNow());
            }
            if (report is not { } r || _observer is not { } observer) return;
            if (r.Kind is SimEventKind.JobEnded or SimEventKind.JobTimedOut && _handles is not null) await _handles.DeleteAsync(r.Id, CancellationToken.None);
            LogReport(r.Kind.ToString(), r.Id);
            await SimEventDispatch.SendAsync(r, observer, CancellationToken.None);
        }
        catch (Exception ex) { LogDispatchFailed(e.Kind.ToString(), e.Id, ex); }
    }

    /// <summary>Cancels every pending timer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var t in _timers.Values) t.Dispose();
            _timers.Clear();
        }
    }

    private sealed class TimerSink(SimBackend backend) : ISimEventSink
    {
        public void Push(DateTimeOffset at, SimEvent e) => backend.Schedule(at, e);
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Debug, Message = "Sim backend: {Kind} {Id}")]
    private partial void LogReport(string kind, string id);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Error, Message = "Sim backend: reporting {Kind} {Id} failed")]
    private partial void LogDispatchFailed(string kind, string? id, Exception e);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Sim backend: job {JobId} resumed, {Kind} at {At}")]
    private partial void LogResumed(string jobId, string kind, string at);
}

/// <summary>The sim backend's <see cref="RunHandle.Data"/>: when and how the run ends (null: runs until stopped).</summary>
internal sealed record SimHandleData(string? EndKind, DateTimeOffset? EndsAt);

[System.Text.Json.Serialization.JsonSerializable(typeof(SimHandleData))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class SimHandleJson : System.Text.Json.Serialization.JsonSerializerContext;
