using System.Diagnostics;
using Gureum.Core.Control;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Budgets;
using Gureum.Server.Api;
using Gureum.Persistence;
using Gureum.Server.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gureum.Server.Hosting;

/// <summary>
/// The live control loop: the same <see cref="ControlLoop"/> as replay, run by a hosted service on
/// the wall clock. It decides only while this replica holds the leader lease (one active loop per
/// database). On taking the lease it reloads the cluster state from the database, re-adopts the
/// backend's running work (<see cref="IRecoverableExecutor.RecoverAsync"/>) and records that it
/// took over. Then, each time the tick passes or something wakes it (a submission, a cancel, a job
/// exit, a node change), it syncs what other replicas committed, applies queued backend reports,
/// acts on cancel requests and takes one decision, timed into <see cref="ServerMetrics"/>.
/// </summary>
public sealed partial class ControlLoopService(
    IControlPlaneStore store,
    ControlPlaneRuntime runtime,
    ServerOptions options,
    LoopSignal signal,
    ServerMetrics metrics,
    TimeProvider time,
    ILogger<ControlLoopService> log) : BackgroundService
{
    /// <summary>Pause before trying again after a failure of the loop (database down, backend error).</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lease = await store.TryAcquireLeaseAsync(runtime.ReplicaId, time.GetUtcNow(), stoppingToken);
                if (lease is null)
                {
                    // Another replica leads; try again shortly (this bounds the takeover time).
                    await Task.Delay(options.LeaseRetry, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                await LeadAsync(term.Token);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                LogLeaseLost(log, runtime.ReplicaId);
            }
            catch (Exception e)
            {
                LogLoopFailed(log, e);
                await Task.Delay(RetryDelay, time, stoppingToken).ConfigureAwait(false);
            }
            finally
            {
                metrics.IsLeader = false;
                runtime.Detach();
            }
        }
    }

    private async Task LeadAsync(CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        metrics.IsLeader = true;
        metrics.ObserveTakeover();
        var term = await runtime.OpenTermAsync(ct);
        var snapshot = await term.Cluster.SnapshotAsync(time.GetUtcNow(), ct);
        await term.Cluster.AppendEventAsync(new ClusterEvent(time.GetUtcNow(), EventKind.Decision, null, null,
            $"leader: replica {runtime.ReplicaId} took over; reloaded {snapshot.Pending.Count} pending and {snapshot.Running.Count} running jobs, {snapshot.Nodes.Count} nodes"), ct);
        await RecoverAsync(term, ct);
        _firedAlerts = await CostService.FiredAlertsAsync(store, ct);
        _lastBudgetCheck = DateTimeOffset.MinValue;
        _lastAnomalyHour = SpendAnomalies.Floor(time.GetUtcNow()); // the first check waits for the next hour to end
        LogLeading(log, runtime.ReplicaId, sw.ElapsedMilliseconds);

        try
        {
            while (!ct.IsCancellationRequested)
            {
                await TickAsync(term, ct);
                var wait = options.Tick;
                if (term.WakeAt is { } at && at - time.GetUtcNow() is var untilWake && untilWake < wait)
                    wait = untilWake > TimeSpan.Zero ? untilWake : TimeSpan.FromMilliseconds(1);
                await signal.WaitAsync(wait, time, ct);
            }
        }
        finally
        {
            // The last decision's wait reasons, committed behind it. A failure here only loses
            // those (the next leader recomputes them); the term's own outcome is what propagates.
            try { await term.Loop.FlushAsync(); }
            catch (Exception e) { LogReasonsNotWritten(log, e); }
        }
    }

    /// <summary>
    /// Re-adopt work that survived us (or the previous leader): the backend reports exits that
    /// happened while no one watched and processes that vanished; every job the store still has
    /// running after that was re-adopted, and the event log says so.
    /// </summary>
    private async Task RecoverAsync(LeaderTerm term, CancellationToken ct)
    {
        if (term.Backend.Executor is not IRecoverableExecutor recoverable) return;
        using var step = runtime.Observer.EnterStep();
        await recoverable.RecoverAsync(runtime.Observer, ct);
        await runtime.Observer.DrainAsync(term.Loop, ct);
        var now = time.GetUtcNow();
        var handles = (await store.ListAsync(options.Backend, ct)).ToDictionary(h => h.JobId, StringComparer.Ordinal);
        var snapshot = await term.Cluster.SnapshotAsync(now, ct);
        foreach (var job in snapshot.Running.Values)
        {
            if (!handles.TryGetValue(job.Id, out var h))
            {
                // The store says running but the backend never saved a handle: the previous leader
                // died between committing the start and launching it (handles are saved before the
                // process starts), so nothing runs. Requeue it rather than wait for an exit that
                // cannot come.
                await term.Loop.OnJobLostAsync(job.Id, $"not launched: the previous leader stopped between recording the start and starting it; requeued by replica {runtime.ReplicaId}", ct);
                continue;
            }
            await term.Cluster.AppendEventAsync(new ClusterEvent(now, EventKind.Decision, job.Id, job.Placements.FirstOrDefault()?.NodeId,
                $"re-adopted by replica {runtime.ReplicaId} after a restart or failover; still running ({h.Data})"), ct);
        }
    }

    private async Task TickAsync(LeaderTerm term, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var step = runtime.Observer.EnterStep();
        var now = time.GetUtcNow();
        var sync = await term.Cluster.SyncAsync(now, ct);
        await runtime.Observer.DrainAsync(term.Loop, ct);
        foreach (var c in sync.CancelRequests)
            await term.Loop.CancelAsync(c.JobId, c.Reason, ct);
        var plan = await term.Loop.RunOnceAsync(ct);
        term.WakeAt = plan.WakeAt;
        metrics.ObserveDecision(Stopwatch.GetElapsedTime(started));
        var after = await term.Cluster.SnapshotAsync(now, ct); // O(1) for jobs; nodes only when changed
        metrics.Pending = after.Pending.Count;
        metrics.Running = after.Running.Count;
        metrics.Nodes = after.Nodes.Count;
        if (now - _lastBudgetCheck >= options.BudgetCheckInterval)
        {
            _lastBudgetCheck = now;
            await CheckBudgetsAsync(term, now, ct);
        }
        if (SpendAnomalies.Floor(now) is var hour && hour != _lastAnomalyHour)
        {
            _lastAnomalyHour = hour;
            await CheckSpendAnomaliesAsync(term, hour, ct);
        }
    }

    private DateTimeOffset _lastAnomalyHour = DateTimeOffset.MinValue;

    /// <summary>The metrics the leader watches live once an hour, and the event each flagged hour appends.</summary>
    internal static readonly IReadOnlyList<(AnomalyMetric Metric, string By, EventKind Event)> LiveAnomalyMetrics =
    [
        (AnomalyMetric.Spend, "lab", EventKind.SpendAnomaly),
        (AnomalyMetric.IdleGpuHours, "pool", EventKind.MetricAnomaly),
    ];

    /// <summary>
    /// Once an hour, when an hour has ended: each lab's hourly spend and each pool's idle GPU-hours
    /// over the 14 days before (<see cref="CostEndpoints.AnomalyLookback"/>) are scored by the
    /// streaming detector (<see cref="MetricAnomalies"/>); if the hour that just ended is flagged,
    /// one <see cref="EventKind.SpendAnomaly"/> (spend) or <see cref="EventKind.MetricAnomaly"/>
    /// (idle GPU-hours) event per lab or pool and a warning, not repeated after a restart.
    /// </summary>
    private async Task CheckSpendAnomaliesAsync(LeaderTerm term, DateTimeOffset hour, CancellationToken ct)
    {
        foreach (var (metric, by, kind) in LiveAnomalyMetrics)
        {
            var series = await CostService.HourlyAsync(store, metric, by, hour - CostEndpoints.AnomalyLookback, hour, ct);
            foreach (var a in MetricAnomalies.DetectAll(metric, series))
            {
                if (a.Hour != hour.AddHours(-1) || !_firedAlerts.Add(CostService.AnomalyKey(a))) continue;
                var message = CostService.AnomalyMessage(a);
                await term.Cluster.AppendEventAsync(new ClusterEvent(hour, kind, null, null, message), ct);
                LogSpendAnomaly(log, message);
            }
        }
    }

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Anomaly: {Message}")]
    private static partial void LogSpendAnomaly(ILogger logger, string message);

    private HashSet<string> _firedAlerts = [];
    private DateTimeOffset _lastBudgetCheck = DateTimeOffset.MinValue;

    /// <summary>
    /// Budget alerts: each lab with a monthly budget whose month-to-date spend reached a threshold
    /// (its own, else 50/80/100 %: <see cref="CostService.ThresholdsOf"/>) gets one <see cref="EventKind.BudgetAlert"/> event and
    /// one log line per threshold per month. Alerts already in the event log (earlier terms, other
    /// replicas) are not repeated.
    /// </summary>
    private async Task CheckBudgetsAsync(LeaderTerm term, DateTimeOffset now, CancellationToken ct)
    {
        var all = await store.ListLabsAsync(ct);
        var labs = all.Where(l => l.MonthlyBudgetUsd is > 0).ToList();
        var spent = labs.Count == 0 ? null : await CostService.SpentThisMonthAsync(store, now, ct);
        // Budget holds: a new month, a raised or removed budget, or jobs that ended cheaper than
        // predicted may let held jobs in; released ones are picked up by the next sync.
        var released = await CostEndpoints.ReevaluateHoldsAsync(store, runtime.Offers, all, spent, now, ct);
        foreach (var r in released) LogHoldReleased(log, r.Id, r.Spec.Lab);
        if (released.Count > 0) signal.Set();
        if (spent is null) return;
        var month = DateOnly.FromDateTime(CostService.MonthStart(now).UtcDateTime);
        foreach (var lab in labs)
        {
            var budget = CostService.BudgetOf(lab)!;
            foreach (var alert in BudgetAlerts.Crossed(budget, 0, spent.GetValueOrDefault(lab.Name), month, now))
            {
                if (!_firedAlerts.Add(CostService.AlertKey(alert.Lab, alert.Month, alert.Threshold))) continue;
                await term.Cluster.AppendEventAsync(new ClusterEvent(now, EventKind.BudgetAlert, null, null, CostService.AlertMessage(alert)), ct);
                LogBudgetAlert(log, alert.Message);
            }
        }
    }

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Budget hold of job {JobId} (lab {Lab}) released: the lab's budget now allows it")]
    private static partial void LogHoldReleased(ILogger logger, string jobId, string lab);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Budget alert: {Message}")]
    private static partial void LogBudgetAlert(ILogger logger, string message);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Replica {Replica} is leader; state reloaded and backend recovered in {Ms} ms")]
    private static partial void LogLeading(ILogger logger, string replica, long ms);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Replica {Replica} lost the leader lease; waiting to take it again")]
    private static partial void LogLeaseLost(ILogger logger, string replica);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "The last decision's wait reasons were not written when the term ended")]
    private static partial void LogReasonsNotWritten(ILogger log, Exception e);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Control loop failed; retrying in 1 s")]
    private static partial void LogLoopFailed(ILogger logger, Exception e);
}
