using System.Collections.Immutable;
using System.Text;
using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Core.Control;

/// <summary>Options of the control loop.</summary>
public sealed record ControlLoopOptions
{
    /// <summary>Time a restarted job spends before it makes progress again (container start,
    /// checkpoint load). Default 30 s, Pollux's re-scale penalty. Used for work accounting only.</summary>
    public TimeSpan RestartOverhead { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Record a <see cref="EventKind.Decision"/> event for every non-empty plan. Default false.</summary>
    public bool RecordDecisions { get; init; }

    /// <summary>Most wait reasons written per decision. Only reasons that changed since the last
    /// decision are written, oldest job first; the rest follow at the next decisions. Default 1,000,
    /// which bounds a decision's writes when a whole long queue's reasons change at once (a quota
    /// or a node that many jobs wait for).</summary>
    public int MaxWaitReasonWrites { get; init; } = 1000;

    /// <summary>How often the spot markets' published records are read again when the provisioner
    /// publishes them (<see cref="ISpotHistorySource"/>). Default 1 h.</summary>
    public TimeSpan SpotHistoryRefresh { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// The one loop that runs Gureum, live and in replay: snapshot the store, decide (pure), apply the
/// plan through the backends, record what changed. Backends report back through the
/// <see cref="IClusterObserver"/> methods. Which store, backends and <see cref="TimeProvider"/> it
/// gets is the only difference between live and replay.
/// </summary>
/// <remarks>Not thread-safe: the host serializes calls (live: one hosted service; replay: the event loop).</remarks>
public sealed class ControlLoop(
    IClusterStore store,
    IDecisionCore core,
    INodeProvisioner provisioner,
    IExecutor executor,
    TimeProvider time,
    ControlLoopOptions? options = null) : IClusterObserver
{
    private readonly ControlLoopOptions _options = options ?? new ControlLoopOptions();

    /// <summary>The policy this loop runs.</summary>
    public IDecisionCore Core => core;

    /// <summary>The store this loop reads and writes.</summary>
    public IClusterStore Store => store;

    /// <summary>Decisions taken so far.</summary>
    public long Decisions { get; private set; }

    // The spot markets' records last read (ISpotHistorySource) and when.
    private ImmutableDictionary<string, SpotHistory>? _spotHistory;
    private DateTimeOffset _spotHistoryAt;

    // The last decision's wait reasons being committed behind it (null when none is outstanding).
    private Task? _reasonsWrite;

    /// <summary>Waits until the wait reasons of the last decision are committed (they are written
    /// behind the decision: see <see cref="RunOnceAsync"/>) and surfaces a failure to write them.</summary>
    public async Task FlushAsync()
    {
        if (_reasonsWrite is not { } pending) return;
        _reasonsWrite = null;
        await pending;
    }

    /// <summary>Accept a job. It is in the store (durably, for a database store) when this returns.</summary>
    public async ValueTask<JobView> SubmitAsync(JobSpec spec, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var view = await store.AddJobAsync(spec, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobSubmitted, spec.Id, null, "submitted"), ct);
        return view;
    }

    /// <summary>
    /// Cancel a job: a pending job leaves the queue; a running job is stopped through the executor
    /// and its run ends as <see cref="RunOutcome.Cancelled"/> (work saved up to its last checkpoint
    /// is recorded). Records a <see cref="EventKind.JobCancelled"/> event with the reason. A job
    /// that already ended is returned unchanged and nothing is recorded (idempotent). Returns null
    /// for an unknown job.
    /// </summary>
    public async ValueTask<JobView?> CancelAsync(string jobId, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var job = await store.GetJobAsync(jobId, ct);
        switch (job?.Status)
        {
            case null:
                return null;
            case JobStatus.Pending:
                job = await store.CancelJobAsync(jobId, reason, now, ct);
                break;
            case JobStatus.Running:
                await executor.StopAsync(job, ct);
                var saved = Progress.WorkSavedAt(job, now, Progress.SlowestModel(await NodesOfAsync(job, ct)), _options.RestartOverhead);
                job = await store.EndRunAsync(jobId, RunOutcome.Cancelled, saved, now, ct);
                break;
            default:
                return job; // already ended
        }
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobCancelled, jobId, null, reason), ct);
        return job;
    }

    /// <summary>
    /// Hold a pending job: it stays pending and the decision core skips it until
    /// <see cref="ReleaseAsync"/>. Records <see cref="EventKind.JobHeld"/> with the reason. A job
    /// that is not pending, or already held with this reason, is returned unchanged and nothing is
    /// recorded. Null for an unknown job.
    /// </summary>
    public async ValueTask<JobView?> HoldAsync(string jobId, string reason, CancellationToken ct)
    {
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Status: JobStatus.Pending } || job.Hold == reason) return job;
        job = await store.SetHoldAsync(jobId, reason, ct);
        await store.AppendEventAsync(new ClusterEvent(time.GetUtcNow(), EventKind.JobHeld, jobId, null, reason), ct);
        return job;
    }

    /// <summary>
    /// Release a held job so the next decision may start it; records <see cref="EventKind.JobReleased"/>
    /// with the reason. A job that is not held is returned unchanged and nothing is recorded
    /// (idempotent). Null for an unknown job.
    /// </summary>
    public async ValueTask<JobView?> ReleaseAsync(string jobId, string reason, CancellationToken ct)
    {
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Status: JobStatus.Pending, Hold: not null }) return job;
        job = await store.SetHoldAsync(jobId, null, ct);
        await store.AppendEventAsync(new ClusterEvent(time.GetUtcNow(), EventKind.JobReleased, jobId, null, reason), ct);
        return job;
    }

    /// <summary>One decision: snapshot, decide, apply. Returns the plan that was applied: every
    /// action taken, and everything that must be durable before an action (job starts, nodes to buy)
    /// committed. The plan's wait reasons, which only inform, are in the store's working set at once
    /// and committed behind the decision (a durable store's writer takes them next); the next
    /// decision, or <see cref="FlushAsync"/>, waits for that commit before it writes anything.</summary>
    public async ValueTask<Plan> RunOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var snapshot = await store.SnapshotAsync(now, ct);
        if (provisioner is ISpotHistorySource source) snapshot = snapshot with { Spot = snapshot.Spot with { History = SpotHistoryAsOf(source, now) } };
        var plan = core.Decide(snapshot);
        Decisions++;
        await ApplyAsync(snapshot, plan, now, ct);
        return plan;
    }

    /// <summary>The spot markets' records as of <paramref name="now"/>, read again every
    /// <see cref="ControlLoopOptions.SpotHistoryRefresh"/> (one per zone and GPU model on sale).</summary>
    private ImmutableDictionary<string, SpotHistory> SpotHistoryAsOf(ISpotHistorySource source, DateTimeOffset now)
    {
        if (_spotHistory is { } known && now >= _spotHistoryAt && now - _spotHistoryAt < _options.SpotHistoryRefresh) return known;
        var b = ImmutableDictionary.CreateBuilder<string, SpotHistory>(StringComparer.Ordinal);
        foreach (var offer in store.Offers)
        {
            if (offer.SpotPerHour is null) continue;
            var key = SpotSignals.Key(offer.Zone, offer.GpuModel);
            if (!b.ContainsKey(key) && source.History(offer, now) is { } h) b[key] = h;
        }
        (_spotHistory, _spotHistoryAt) = (b.ToImmutable(), now);
        return _spotHistory;
    }

    /// <summary>Stores the plan's wait reasons that differ from what the jobs carry: one pass over
    /// the queue (a dictionary lookup per job), no write for a reason that did not change.</summary>
    private async ValueTask RecordWaitReasonsAsync(ClusterSnapshot snapshot, Plan plan, DateTimeOffset now, CancellationToken ct)
    {
        if (plan.WaitReasons.Count == 0) return;
        List<KeyValuePair<string, string>>? changed = null;
        foreach (var job in snapshot.Pending)
        {
            if (!plan.WaitReasons.TryGetValue(job.Id, out var reason) || string.Equals(reason, job.WaitReason, StringComparison.Ordinal)) continue;
            (changed ??= []).Add(new(job.Id, reason));
            if (changed.Count >= _options.MaxWaitReasonWrites) break;
        }
        if (changed is not null) await store.SetWaitReasonsAsync(changed, now, ct);
    }

    private async ValueTask ApplyAsync(ClusterSnapshot snapshot, Plan plan, DateTimeOffset now, CancellationToken ct)
    {
        await FlushAsync(); // the last decision's reasons, committed while this one was decided
        // Order matters: free resources before placing on them, place before buying more.
        foreach (var a in plan.Actions) if (a is PreemptJob p) await PreemptAsync(p, now, ct);
        foreach (var a in plan.Actions)
        {
            switch (a)
            {
                case TerminateNode t: await TerminateAsync(t.NodeId, t.Reason, now, ct); break;
                case DrainNode d: await DrainAsync(d, now, ct); break;
            }
        }
        await StartAllAsync(plan, now, ct);

        // Everything else is store writes with no side effect until they are durable, so they are
        // committed together (one flush, not one per write): the decision record, rejections and
        // the nodes to buy, which are recorded before they are requested (write-ahead).
        var requested = new List<Node>();
        await using (store.DeferCommits())
        {
            if (plan.Actions.Count > 0 && _options.RecordDecisions)
                await store.AppendEventAsync(new ClusterEvent(now, EventKind.Decision, null, null, $"{core.Name}: {plan.Actions.Count} actions"), ct);
            foreach (var a in plan.Actions) if (a is RejectJob r) await RejectAsync(r, now, ct);
            foreach (var a in plan.Actions)
            {
                if (a is not ProvisionNode p) continue;
                var node = Node.Create(store.NewNodeId(), p.Offer, p.Market, NodeState.Requested, now);
                await store.AddNodeAsync(node, ct);
                foreach (var e in NodeRequestEvents.Of(p, node.Id, now)) await store.AppendEventAsync(e, ct);
                requested.Add(node);
            }
        }
        foreach (var node in requested) await provisioner.RequestAsync(node, ct);

        // Wait reasons last, committed behind the decision: no action waits for them, and with a long
        // queue they are the biggest write (up to MaxWaitReasonWrites rows). Jobs this plan started
        // or rejected have none.
        var reasons = RecordWaitReasonsAsync(snapshot, plan, now, ct);
        if (reasons.IsCompleted) await reasons; // in-memory stores: done already
        else _reasonsWrite = reasons.AsTask();
    }

    private async ValueTask RejectAsync(RejectJob r, DateTimeOffset now, CancellationToken ct)
    {
        await store.RejectJobAsync(r.JobId, r.Reason, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobRejected, r.JobId, null, r.Reason), ct);
    }

    private async ValueTask PreemptAsync(PreemptJob p, DateTimeOffset now, CancellationToken ct)
    {
        var job = await store.GetJobAsync(p.JobId, ct);
        if (job is not { Status: JobStatus.Running }) return;
        await executor.StopAsync(job, ct);
        await EndInterruptedRunAsync(job, RunOutcome.Preempted, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobPreempted, job.Id, null, p.Reason), ct);
    }

    private async ValueTask EndInterruptedRunAsync(JobView job, RunOutcome outcome, DateTimeOffset now, CancellationToken ct)
    {
        var nodes = await NodesOfAsync(job, ct);
        var saved = Progress.WorkSavedAt(job, now, Progress.SlowestModel(nodes), _options.RestartOverhead);
        await store.EndRunAsync(job.Id, outcome, saved, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobRequeued, job.Id, null, $"requeued after {outcome}, resumes from {saved.TotalSeconds:F0} s of work"), ct);
    }

    private async ValueTask<List<Node>> NodesOfAsync(JobView job, CancellationToken ct)
    {
        var nodes = new List<Node>(job.Placements.Count);
        foreach (var pl in job.Placements)
            if (await store.GetNodeAsync(pl.NodeId, ct) is { } n) nodes.Add(n);
        return nodes;
    }

    private async ValueTask TerminateAsync(string nodeId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var node = await store.GetNodeAsync(nodeId, ct);
        if (node is null || node.State == NodeState.Terminated) return;
        foreach (var job in await store.JobsOnNodeAsync(nodeId, ct))
        {
            await executor.StopAsync(job, ct);
            await EndInterruptedRunAsync(job, RunOutcome.NodeLost, now, ct);
        }
        await provisioner.ReleaseAsync(node, ct);
        await store.SetNodeStateAsync(nodeId, NodeState.Terminated, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.NodeTerminated, null, nodeId, reason), ct);
    }

    private async ValueTask DrainAsync(DrainNode d, DateTimeOffset now, CancellationToken ct)
    {
        await store.SetNodeStateAsync(d.NodeId, NodeState.Draining, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.NodeDraining, null, d.NodeId, d.Reason), ct);
    }

    private async ValueTask StartAllAsync(Plan plan, DateTimeOffset now, CancellationToken ct)
    {
        var started = new List<(StartJob Action, JobView Job)>();
        await using (store.DeferCommits())
            foreach (var a in plan.Actions)
                if (a is StartJob s) started.Add((s, await store.StartJobAsync(s.JobId, s.Placements, now, ct)));
        if (started.Count == 0) return;
        var message = new StringBuilder(); // one buffer for every start's message: a decision may start thousands
        await using (store.DeferCommits())
        {
            foreach (var (s, job) in started)
            {
                var nodes = await NodesOfAsync(job, ct);
                await executor.StartAsync(job, nodes, ct);
                AppendWhere(message.Clear().Append(s.Reason).Append("; "), nodes, job.Placements);
                await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobStarted, s.JobId, s.Placements[0].NodeId, message.ToString()), ct);
            }
        }
    }

    /// <summary>Appends where a run is, for its start event: node, offer, market, zone and the GPUs taken,
    /// e.g. <c>on n000003 (aws/us-east-1a/p4d.24xlarge, Spot, zone us-east-1a, 4×A100 of 8)</c>.</summary>
    private static StringBuilder AppendWhere(StringBuilder text, IReadOnlyList<Node> nodes, IReadOnlyList<Placement> placements)
    {
        text.Append("on ");
        for (var i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            var p = i < placements.Count ? placements[i] : null;
            if (i > 0) text.Append(" + ");
            text.Append($"{n.Id} ({n.Offer.Id}, {n.Market}, zone {n.Offer.Zone}, ");
            if (p is null || n.Offer.GpuCount == 0) text.Append("no GPU");
            else if (p.MilliPerGpu < 1000) text.Append($"{p.MilliGpus / 1000.0:0.###} of one {n.Offer.GpuModel}");
            else text.Append($"{p.GpuIndices.Length}×{n.Offer.GpuModel} of {n.Offer.GpuCount}");
            text.Append(')');
        }
        return text;
    }

    /// <inheritdoc />
    public async ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var node = await store.GetNodeAsync(nodeId, ct);
        if (node is null || node.State == NodeState.Terminated) return;
        await store.SetNodeStateAsync(nodeId, NodeState.Ready, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.NodeReady, null, nodeId, "ready"), ct);
    }

    /// <inheritdoc />
    public async ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var node = await store.GetNodeAsync(nodeId, ct);
        if (node is null || node.State == NodeState.Terminated) return;
        if (node.Market == Cloud.Market.Spot) await store.RecordSpotTroubleAsync(node.Offer.Zone, node.Offer.GpuModel, now, ct);
        await store.SetNodeStateAsync(nodeId, NodeState.Terminated, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.NodeProvisionFailed, null, nodeId, reason), ct);
    }

    /// <inheritdoc />
    public async ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var node = await store.GetNodeAsync(nodeId, ct);
        if (node is null || node.State == NodeState.Terminated) return;
        if (node.Market == Cloud.Market.Spot) await store.RecordSpotTroubleAsync(node.Offer.Zone, node.Offer.GpuModel, now, ct);
        foreach (var job in await store.JobsOnNodeAsync(nodeId, ct))
        {
            await executor.StopAsync(job, ct); // a gang's other members stop too
            await EndInterruptedRunAsync(job, RunOutcome.NodeLost, now, ct);
        }
        await store.SetNodeStateAsync(nodeId, NodeState.Terminated, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.NodeLost, null, nodeId, reason), ct);
    }

    /// <inheritdoc />
    public async ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Status: JobStatus.Running }) return;
        await store.EndRunAsync(jobId, succeeded ? RunOutcome.Completed : RunOutcome.Failed, TimeSpan.Zero, now, ct);
        await store.AppendEventAsync(new ClusterEvent(now, succeeded ? EventKind.JobCompleted : EventKind.JobFailed, jobId, null, succeeded ? "completed" : "failed"), ct);
    }

    /// <inheritdoc />
    public async ValueTask OnJobLostAsync(string jobId, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var job = await store.GetJobAsync(jobId, ct);
        if (job is not { Status: JobStatus.Running }) return;
        await store.AppendEventAsync(new ClusterEvent(now, EventKind.JobLost, jobId, job.Placements.Count > 0 ? job.Placements[0].NodeId : null, reason), ct);
        await EndInterruptedRunAsync(job, RunOutcome.NodeLost, now, ct);
    }
}
