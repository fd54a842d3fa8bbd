using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Core.Planning;

namespace Gureum.Simulation.Replay;

/// <summary>Options of one replay.</summary>
public sealed record ReplayOptions
{
    /// <summary>Time before a restarted job makes progress again. Default 30 s.</summary>
    public TimeSpan RestartOverhead { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Minimum billed time per node. Default 60 s (AWS/GCP per-second billing minimum).</summary>
    public TimeSpan MinimumBilled { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Sampling period of the fleet/queue/spend time series. Default 10 min of simulated time.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>The replay stops this long after the last submission even if jobs remain. Default 365 days.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(365);
    /// <summary>The simulated cloud publishes each spot market's record over this window before the
    /// decision time (reclaims and hours up, read off the market's trace: <see cref="SpotHistory"/>),
    /// as AWS's Spot Advisor publishes the trailing month's interruption frequency. Default 30 days;
    /// zero publishes nothing.</summary>
    public TimeSpan SpotHistoryWindow { get; init; } = TimeSpan.FromDays(30);
    /// <summary>Keep the full event log in memory. Default false.</summary>
    public bool KeepEvents { get; init; }
    /// <summary>
    /// Called at every instant at which jobs were submitted, after they are queued and before that
    /// instant's decision, with the snapshot the decision sees and the jobs just submitted (for
    /// predictors that learn from a replay, e.g. the wait-time ETA). Must not block or mutate
    /// anything. Default null: no extra snapshot is taken.
    /// </summary>
    public Action<ClusterSnapshot, IReadOnlyList<JobSpec>>? OnSubmitted { get; init; }
    /// <summary>Fair-share and quota settings of the store.</summary>
    public InMemoryStoreOptions Store { get; init; } = new() { KeepEvents = false };
    /// <summary>Stop as soon as this job has started (or can no longer start: rejected, cancelled).
    /// Dry runs need nothing after it: of the decision that starts it, only what its start needs is
    /// carried out (that start, and the preemptions, terminations and drains that may make room for
    /// it), so the jobs the same decision starts besides it stay queued in the outcome. Default
    /// null: run to the end.</summary>
    public string? StopWhenStarted { get; init; }
}

/// <summary>Everything one replay needs.</summary>
public sealed record ReplaySetup
{
    public required IDecisionCore Core { get; init; }
    /// <summary>Jobs sorted by submission time.</summary>
    public required IReadOnlyList<JobSpec> Jobs { get; init; }
    public required IReadOnlyList<Offer> Offers { get; init; }
    /// <summary>Nodes present and billed from the start (the static policy's fleet); empty otherwise.</summary>
    public IReadOnlyList<Node> FixedFleet { get; init; } = [];
    public ISpotMarket Spot { get; init; } = CalmSpotMarket.Instance;
    public ReplayOptions Options { get; init; } = new();
}

/// <summary>One point of the replay's time series.</summary>
public readonly record struct ReplaySample(DateTimeOffset At, int Nodes, int Gpus, int Pending, int Running, decimal SpendUsd);

/// <summary>What a replay produced: final job states and runs, node bills, time series.</summary>
public sealed record ReplayOutcome
{
    public required string Policy { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public required IReadOnlyList<JobView> Jobs { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<JobRun>> Runs { get; init; }
    public required IReadOnlyList<NodeBill> Bills { get; init; }
    public required IReadOnlyList<ReplaySample> Samples { get; init; }
    public required IReadOnlyDictionary<EventKind, long> EventCounts { get; init; }
    public required IReadOnlyList<ClusterEvent> Events { get; init; }
    public required long Decisions { get; init; }
    /// <summary>Offers the policy could use (for lower bounds): the catalog, or the fixed fleet's.</summary>
    public required IReadOnlyList<Offer> UsableOffers { get; init; }
}

/// <summary>
/// Discrete-event replay: drives the very same <see cref="ControlLoop"/> as the server, at event
/// times, with a <see cref="SimulationTimeProvider"/>, the in-memory store, the simulated cloud and
/// the simulated executor. Events at one instant are applied together, then one decision is taken.
/// Deterministic: same inputs and seed (in the spot market), same outcome.
/// </summary>
public static class ReplayEngine
{
    /// <summary>Runs a replay to the end. <paramref name="progress"/> gets the share of jobs submitted.</summary>
    public static async Task<ReplayOutcome> RunAsync(ReplaySetup setup, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var jobs = setup.Jobs;
        var opt = setup.Options;
        var start = jobs.Count > 0 ? jobs[0].SubmitTime : DateTimeOffset.UnixEpoch;
        var time = new SimulationTimeProvider(start);
        var events = new EventQueue();
        var store = new InMemoryClusterStore(setup.Offers, opt.Store with { KeepEvents = opt.KeepEvents });
        var cloud = new SimulatedCloud(setup.Spot, events, time, opt.MinimumBilled, opt.SpotHistoryWindow);
        var executor = new SimulatedExecutor(events, time, opt.RestartOverhead);
        var core = opt.StopWhenStarted is { } last ? new StopAtStart(setup.Core, last) : setup.Core;
        var loop = new ControlLoop(store, core, cloud, executor, time, new ControlLoopOptions { RestartOverhead = opt.RestartOverhead });

        foreach (var n in setup.FixedFleet)
        {
            var node = n with { RequestedAt = start, ReadyAt = start, IdleSince = start, State = NodeState.Ready, Fixed = true };
            await store.AddNodeAsync(node, ct);
            cloud.Open(node, start);
        }

        var samples = new List<ReplaySample>();
        var nextSample = start;
        var lastSampleAt = start;
        decimal spend = 0;
        DateTimeOffset? scheduledWake = null;
        var horizon = (jobs.Count > 0 ? jobs[^1].SubmitTime : start) + opt.Horizon;
        var next = 0;
        var lastReported = -1;

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var hasEvent = events.TryPeekTime(out var eventAt);
            var hasSubmit = next < jobs.Count;
            if (!hasEvent && !hasSubmit) break;
            if (!hasSubmit && store.PendingCount == 0 && store.RunningCount == 0 && !HasElasticNodes(store)) break;
            var now = hasSubmit && (!hasEvent || jobs[next].SubmitTime <= eventAt) ? jobs[next].SubmitTime : eventAt;
            if (now > horizon) break;

            // Spend integrates the hourly rate of billed nodes between instants.
            spend += cloud.OpenHourlyRate * (decimal)(now - lastSampleAt).TotalHours;
            lastSampleAt = now;
            time.AdvanceTo(now);

            var firstSubmitted = next;
            while (next < jobs.Count && jobs[next].SubmitTime == now)
                await loop.SubmitAsync(jobs[next++], ct);
            while (events.TryPeekTime(out var at) && at == now)
                await HandleAsync(events.Pop(), loop, cloud, executor, now, ct);
            if (opt.OnSubmitted is { } onSubmitted && next > firstSubmitted)
                onSubmitted(await store.SnapshotAsync(now, ct), Slice(jobs, firstSubmitted, next).ToArray());

            var plan = await loop.RunOnceAsync(ct);
            if (plan.WakeAt is { } wake && wake > now && (scheduledWake is not { } s || s <= now || wake < s))
            {
                events.Push(wake, new SimEvent(SimEventKind.Wake, null, 0));
                scheduledWake = wake;
            }

            if (opt.StopWhenStarted is { } stopWhen && await store.GetJobAsync(stopWhen, ct) is { Status: not JobStatus.Pending })
                break;

            if (now >= nextSample)
            {
                samples.Add(Sample(now, store, spend));
                nextSample = now + opt.SampleInterval;
            }
            if (progress is not null && jobs.Count > 0)
            {
                var pct = (int)(100L * next / jobs.Count);
                if (pct != lastReported) { progress.Report(pct / 100.0); lastReported = pct; }
            }
        }

        var end = time.GetUtcNow();
        cloud.CloseAll(end);
        samples.Add(Sample(end, store, spend));
        var runs = new Dictionary<string, IReadOnlyList<JobRun>>(jobs.Count, StringComparer.Ordinal);
        foreach (var j in store.AllJobs) runs[j.Id] = store.RunsOf(j.Id);
        return new ReplayOutcome
        {
            Policy = setup.Core.Name,
            Start = start,
            End = end,
            Jobs = BySeq(store.AllJobs),
            Runs = runs,
            Bills = cloud.Bills.OrderBy(b => b.NodeId, StringComparer.Ordinal).ToList(),
            Samples = samples,
            EventCounts = new Dictionary<EventKind, long>(store.EventCounts),
            Events = store.Events,
            Decisions = loop.Decisions,
            UsableOffers = setup.FixedFleet.Count > 0 ? setup.FixedFleet.Select(n => n.Offer).DistinctBy(o => o.Id).ToList() : setup.Offers,
        };
    }

    /// <summary>
    /// The policy, with the plan that starts <paramref name="jobId"/> cut down to that start and the
    /// actions that may make room for it (applied before starts): the replay stops after that
    /// decision and reads nothing else of it, and a long queue's last decision may start thousands
    /// of jobs. The start's placement and reason are the policy's, and the jobs started before it
    /// in the plan only took resources, so it starts exactly as with the whole plan.
    /// </summary>
    private sealed class StopAtStart(IDecisionCore policy, string jobId) : IDecisionCore
    {
        public string Name => policy.Name;

        public Plan Decide(ClusterSnapshot snapshot)
        {
            var plan = policy.Decide(snapshot);
            var start = -1;
            for (var i = 0; i < plan.Actions.Count && start < 0; i++)
                if (plan.Actions[i] is StartJob s && s.JobId == jobId) start = i;
            if (start < 0) return plan;
            var kept = new List<PlanAction>();
            for (var i = 0; i < plan.Actions.Count; i++)
                if (i == start || plan.Actions[i] is PreemptJob or TerminateNode or DrainNode) kept.Add(plan.Actions[i]);
            return plan with { Actions = kept };
        }
    }

    /// <summary>Jobs in <see cref="JobView.Seq"/> order. The store's jobs usually are (they are kept
    /// in order of arrival): then no sort (a stable one would return the same list).</summary>
    private static List<JobView> BySeq(IEnumerable<JobView> jobs)
    {
        var list = jobs.ToList();
        for (var i = 1; i < list.Count; i++)
            if (list[i - 1].Seq > list[i].Seq) return list.OrderBy(j => j.Seq).ToList();
        return list;
    }

    private static IEnumerable<JobSpec> Slice(IReadOnlyList<JobSpec> jobs, int from, int to)
    {
        for (var i = from; i < to; i++) yield return jobs[i];
    }

    private static bool HasElasticNodes(InMemoryClusterStore store)
    {
        foreach (var n in store.AliveNodes) if (!n.Fixed) return true;
        return false;
    }

    private static ReplaySample Sample(DateTimeOffset now, InMemoryClusterStore store, decimal spend)
    {
        var gpus = 0;
        foreach (var n in store.AliveNodes) gpus += n.Offer.GpuCount;
        return new ReplaySample(now, store.AliveNodes.Count, gpus, store.PendingCount, store.RunningCount, spend);
    }

    private static async ValueTask HandleAsync(SimEvent e, ControlLoop loop, SimulatedCloud cloud, SimulatedExecutor executor, DateTimeOffset now, CancellationToken ct)
    {
        if (SimEventDispatch.Apply(e, cloud, executor, now) is { } report)
            await SimEventDispatch.SendAsync(report, loop, ct);
    }
}
