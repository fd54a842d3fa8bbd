using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Core.Persistence;

/// <summary>Options of <see cref="InMemoryClusterStore"/>.</summary>
public sealed record InMemoryStoreOptions
{
    /// <summary>Keep every event in memory (<see cref="InMemoryClusterStore.Events"/>). Default true;
    /// large replays turn it off and keep only counts.</summary>
    public bool KeepEvents { get; init; } = true;

    /// <summary>With <see cref="KeepEvents"/>, keep only the events this accepts (a dry run needs a
    /// few of a long replay's many). Default null: every event. <see cref="InMemoryClusterStore.EventCounts"/>
    /// counts every event either way.</summary>
    public Func<ClusterEvent, bool>? KeepEvent { get; init; }

    /// <summary>Fair-share usage half-life. Default 7 days (Slurm's PriorityDecayHalfLife default).</summary>
    public TimeSpan FairShareHalfLife { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Fair-share weight per lab; labs not listed weigh 1.</summary>
    public IReadOnlyDictionary<string, double> LabWeights { get; init; } = new Dictionary<string, double>();

    /// <summary>Concurrent-GPU quota per lab; labs not listed have none.</summary>
    public IReadOnlyDictionary<string, double> LabGpuQuotas { get; init; } = new Dictionary<string, double>();
}

/// <summary>
/// The replay's store: all state in memory, snapshots in O(1) for the job collections (persistent
/// immutable collections, edited through builders) and O(nodes) only when a node changed. Not thread-safe.
/// </summary>
public sealed class InMemoryClusterStore(IReadOnlyList<Offer> offers, InMemoryStoreOptions? options = null) : IClusterStore
{
    private static readonly IComparer<JobView> BySeq = Comparer<JobView>.Create((a, b) => a.Seq.CompareTo(b.Seq));

    private readonly InMemoryStoreOptions _options = options ?? new InMemoryStoreOptions();
    private readonly Dictionary<string, JobView> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<JobRun>> _runs = new(StringComparer.Ordinal);
    // The queue and the running jobs are edited through builders and frozen by each snapshot
    // (O(1), and the first edit after it copies only the path it touches): between two snapshots
    // edits are in place instead of copying O(log n) nodes each.
    private readonly ImmutableList<JobView>.Builder _pending = ImmutableList.CreateBuilder<JobView>();
    private readonly ImmutableSortedDictionary<long, JobView>.Builder _running = ImmutableSortedDictionary.CreateBuilder<long, JobView>();
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private readonly NodeTable _alive = new();
    private readonly Dictionary<string, int> _aliveIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _jobsOnNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Ordinal, NodeShape? Shape)> _indexed = new(StringComparer.Ordinal);
    private CapacityIndex _capacity = CapacityIndex.Empty;
    // Node changes not yet in _capacity, at most one per node (first state indexed, latest state):
    // only snapshots read the index, so the changes between two snapshots are applied as one batch.
    private readonly List<NodeChange> _unindexed = [];
    private readonly Dictionary<string, int> _unindexedAt = new(StringComparer.Ordinal);
    // False once a change's "before" disagreed with what the index holds for the node (a node
    // restored as terminated keeps its entry): the index is then only ever edited, never rebuilt,
    // so that it stays exactly what one-by-one updates give.
    private bool _rebuildable = true;
    private long _nextOrdinal; // creation order of alive nodes, for the capacity index
    private Dictionary<string, int>? _indexCopy; // frozen copy of _aliveIndex for snapshots; null when stale
    private readonly Dictionary<string, LabState> _labs = new(StringComparer.Ordinal);
    private ImmutableDictionary<string, DateTimeOffset> _spotTrouble = SpotSignals.Empty.LastTroubleByZoneModel;
    private readonly List<ClusterEvent> _events = [];
    private readonly Dictionary<EventKind, long> _eventCounts = [];
    private long _jobSeq;
    private long _nodeSeq;

    private sealed class LabState
    {
        public double Decayed;
        public long RunningMilli;
        public DateTimeOffset Updated;
    }

    /// <inheritdoc />
    public IReadOnlyList<Offer> Offers => offers;

    /// <summary>Recorded events (empty when <see cref="InMemoryStoreOptions.KeepEvents"/> is off).</summary>
    public IReadOnlyList<ClusterEvent> Events => _events;

    /// <summary>How many events of each kind were recorded.</summary>
    public IReadOnlyDictionary<EventKind, long> EventCounts => _eventCounts;

    /// <summary>Every job ever added, in its latest state.</summary>
    public IEnumerable<JobView> AllJobs => _jobs.Values;

    /// <summary>Every node ever added, in its latest state.</summary>
    public IEnumerable<Node> AllNodes => _nodes.Values;

    /// <summary>Alive nodes in creation order.</summary>
    public IReadOnlyList<Node> AliveNodes => _alive.Freeze();

    /// <summary>Jobs queued now.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Jobs running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>The runs of a job so far.</summary>
    public IReadOnlyList<JobRun> RunsOf(string jobId) => _runs.TryGetValue(jobId, out var r) ? r : [];

    /// <summary>
    /// Put a node into the working set exactly as given (its free resources and running-job count
    /// included), replacing any node of the same id: used to rebuild state loaded from a database.
    /// Restore nodes before the jobs running on them.
    /// </summary>
    public void Restore(Node node)
    {
        _nodes.TryGetValue(node.Id, out var before);
        _nodes[node.Id] = node;
        if (!node.IsAlive) return;
        if (_aliveIndex.TryGetValue(node.Id, out var i))
        {
            _alive.Set(i, node);
            Reindex(node.Id, before, node);
        }
        else
        {
            _aliveIndex[node.Id] = _alive.Count;
            _alive.Add(node);
            _indexCopy = null;
            Reindex(node.Id, null, node, ordinal: _nextOrdinal++);
        }
    }

    /// <summary>
    /// Put a job into the working set exactly as given (its <see cref="JobView.Seq"/>, status,
    /// attempts and placements), for a job loaded from a database or accepted by another replica.
    /// A pending job joins the queue in <see cref="JobView.Seq"/> order; a running job holds its
    /// placements, whose nodes must already be restored with those resources taken. Throws
    /// <see cref="InvalidOperationException"/> if the job is already known.
    /// </summary>
    public void Restore(JobView job, DateTimeOffset now)
    {
        if (_jobs.ContainsKey(job.Id)) throw new InvalidOperationException($"Job {job.Id} already exists.");
        _jobs[job.Id] = job;
        if (job.Seq >= _jobSeq) _jobSeq = job.Seq + 1;
        switch (job.Status)
        {
            case JobStatus.Pending:
                var i = _pending.BinarySearch(job, BySeq);
                _pending.Insert(i < 0 ? ~i : i, job);
                Lab(job.Spec.Lab, now);
                break;
            case JobStatus.Running:
                foreach (var p in job.Placements)
                {
                    if (!_jobsOnNode.TryGetValue(p.NodeId, out var set)) _jobsOnNode[p.NodeId] = set = new HashSet<string>(StringComparer.Ordinal);
                    set.Add(job.Id);
                }
                _running.Add(job.Seq, job);
                Lab(job.Spec.Lab, now).RunningMilli += MilliOf(job.Placements);
                break;
        }
    }

    /// <summary>Make <see cref="NewNodeId"/> continue from <paramref name="next"/> (after a reload).</summary>
    public void SetNextNodeSeq(long next) => _nodeSeq = Math.Max(_nodeSeq, next);

    /// <inheritdoc />
    public ValueTask<ClusterSnapshot> SnapshotAsync(DateTimeOffset now, CancellationToken ct)
    {
        FlushIndex();
        _indexCopy ??= new Dictionary<string, int>(_aliveIndex, StringComparer.Ordinal);
        var labs = new Dictionary<string, LabShare>(_labs.Count, StringComparer.Ordinal);
        foreach (var (name, s) in _labs)
        {
            Decay(s, now);
            labs[name] = new LabShare(name, Weight(name), s.Decayed, s.RunningMilli, Quota(name));
        }
        return ValueTask.FromResult(new ClusterSnapshot
        {
            Now = now,
            Pending = _pending.ToImmutable(),
            Running = _running.ToImmutable(),
            Nodes = _alive.Freeze(),
            NodeIndex = _indexCopy,
            Capacity = _capacity,
            Offers = offers,
            Labs = labs,
            Spot = new SpotSignals(_spotTrouble),
        });
    }

    private double Weight(string lab) => _options.LabWeights.TryGetValue(lab, out var w) ? w : 1.0;
    private double? Quota(string lab) => _options.LabGpuQuotas.TryGetValue(lab, out var q) ? q : null;

    /// <summary>Decayed usage: exponential decay of the past plus the GPU-seconds used since the last update.</summary>
    private void Decay(LabState s, DateTimeOffset now)
    {
        var dt = (now - s.Updated).TotalSeconds;
        if (dt <= 0) return;
        var halfLife = _options.FairShareHalfLife.TotalSeconds;
        var f = Math.Pow(0.5, dt / halfLife);
        s.Decayed = s.Decayed * f + s.RunningMilli / 1000.0 * dt * (1 + f) / 2;
        s.Updated = now;
    }

    private LabState Lab(string name, DateTimeOffset now)
    {
        if (!_labs.TryGetValue(name, out var s)) _labs[name] = s = new LabState { Updated = now };
        Decay(s, now);
        return s;
    }

    /// <inheritdoc />
    public ValueTask<JobView> AddJobAsync(JobSpec spec, DateTimeOffset now, CancellationToken ct)
    {
        if (_jobs.ContainsKey(spec.Id)) throw new InvalidOperationException($"Job {spec.Id} already exists.");
        var view = new JobView { Seq = _jobSeq++, Spec = spec, Status = JobStatus.Pending, QueuedSince = now };
        _jobs[spec.Id] = view;
        _pending.Add(view); // arrival order = Seq order
        Lab(spec.Lab, now);
        return ValueTask.FromResult(view);
    }

    /// <inheritdoc />
    public ValueTask<JobView?> GetJobAsync(string jobId, CancellationToken ct) =>
        ValueTask.FromResult(_jobs.TryGetValue(jobId, out var j) ? j : null);

    /// <inheritdoc />
    public ValueTask<Node?> GetNodeAsync(string nodeId, CancellationToken ct) =>
        ValueTask.FromResult(_nodes.TryGetValue(nodeId, out var n) ? n : null);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<JobView>> JobsOnNodeAsync(string nodeId, CancellationToken ct)
    {
        IReadOnlyList<JobView> list = _jobsOnNode.TryGetValue(nodeId, out var ids)
            ? ids.Order(StringComparer.Ordinal).Select(id => _jobs[id]).ToList()
            : [];
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc />
    public ValueTask<JobView> StartJobAsync(string jobId, IReadOnlyList<Placement> placements, DateTimeOffset now, CancellationToken ct)
    {
        var job = _jobs[jobId];
        if (job.Status != JobStatus.Pending) throw new InvalidOperationException($"Job {jobId} is {job.Status}, not pending.");
        for (var k = 0; k < placements.Count; k++) // indexed: a foreach would box the list's enumerator
        {
            var p = placements[k];
            var node = _nodes[p.NodeId];
            if (node.State != NodeState.Ready) throw new InvalidOperationException($"Node {p.NodeId} is {node.State}, not ready.");
            ReplaceNode(NodeAccounting.Allocate(node, p));
            if (!_jobsOnNode.TryGetValue(p.NodeId, out var set)) _jobsOnNode[p.NodeId] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(jobId);
        }
        RemovePending(job);
        var running = job with
        {
            Status = JobStatus.Running,
            Attempts = job.Attempts + 1,
            RunStartedAt = now,
            FirstStartedAt = job.FirstStartedAt ?? now,
            Placements = placements,
            WaitReason = null,
        };
        _jobs[jobId] = running;
        _running.Add(running.Seq, running);
        Lab(job.Spec.Lab, now).RunningMilli += MilliOf(placements);
        return ValueTask.FromResult(running);
    }

    private static long MilliOf(IReadOnlyList<Placement> placements)
    {
        long m = 0;
        for (var k = 0; k < placements.Count; k++) m += placements[k].MilliGpus;
        return m;
    }

    private void RemovePending(JobView job)
    {
        var i = _pending.BinarySearch(job, BySeq);
        if (i < 0) throw new InvalidOperationException($"Job {job.Id} is not in the queue.");
        _pending.RemoveAt(i);
    }

    /// <inheritdoc />
    public ValueTask<JobView> EndRunAsync(string jobId, RunOutcome outcome, TimeSpan workSaved, DateTimeOffset now, CancellationToken ct)
    {
        var job = _jobs[jobId];
        if (job.Status != JobStatus.Running) throw new InvalidOperationException($"Job {jobId} is {job.Status}, not running.");
        var nodes = new Node[job.Placements.Count];
        for (var k = 0; k < nodes.Length; k++) nodes[k] = _nodes[job.Placements[k].NodeId];
        var model = Progress.SlowestModel(nodes);
        for (var k = 0; k < job.Placements.Count; k++)
        {
            var p = job.Placements[k];
            var node = _nodes[p.NodeId];
            // A lost node's resources vanish with it; only live nodes get them back.
            if (node.State != NodeState.Terminated) ReplaceNode(NodeAccounting.Release(node, p, now));
            _jobsOnNode[p.NodeId].Remove(jobId);
        }
        if (!_runs.TryGetValue(jobId, out var runs)) _runs[jobId] = runs = new List<JobRun>(1);
        var nodeIds = job.Placements.Count == 1 ? job.Placements[0].NodeId : string.Join('+', job.Placements.Select(p => p.NodeId));
        runs.Add(new JobRun(job.RunStartedAt!.Value, now, nodeIds, model, outcome));
        Lab(job.Spec.Lab, now).RunningMilli -= MilliOf(job.Placements);
        _running.Remove(job.Seq);

        JobView next;
        if (outcome is RunOutcome.Preempted or RunOutcome.NodeLost)
        {
            next = job with { Status = JobStatus.Pending, RunStartedAt = null, Placements = [], WorkSaved = workSaved, QueuedSince = now };
            var i = _pending.BinarySearch(next, BySeq);
            _pending.Insert(~i, next);
        }
        else
        {
            var status = outcome switch
            {
                RunOutcome.Completed => JobStatus.Completed,
                RunOutcome.Cancelled => JobStatus.Cancelled,
                _ => JobStatus.Failed,
            };
            next = job with { Status = status, RunStartedAt = null, WorkSaved = outcome == RunOutcome.Completed ? job.Spec.Duration ?? workSaved : workSaved };
        }
        _jobs[jobId] = next;
        return ValueTask.FromResult(next);
    }

    /// <inheritdoc />
    public ValueTask<JobView?> CancelJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        if (!_jobs.TryGetValue(jobId, out var job)) return ValueTask.FromResult<JobView?>(null);
        switch (job.Status)
        {
            case JobStatus.Pending:
                RemovePending(job);
                job = job with { Status = JobStatus.Cancelled, WaitReason = null };
                _jobs[jobId] = job;
                return ValueTask.FromResult<JobView?>(job);
            case JobStatus.Running:
                throw new InvalidOperationException($"Job {jobId} is running: stop it and end its run as {RunOutcome.Cancelled} (ControlLoop.CancelAsync does both).");
            default:
                return ValueTask.FromResult<JobView?>(job);
        }
    }

    /// <inheritdoc />
    public ValueTask<JobView?> SetHoldAsync(string jobId, string? hold, CancellationToken ct)
    {
        if (!_jobs.TryGetValue(jobId, out var job)) return ValueTask.FromResult<JobView?>(null);
        if (job.Status != JobStatus.Pending || job.Hold == hold) return ValueTask.FromResult<JobView?>(job);
        var next = job with { Hold = hold };
        _jobs[jobId] = next;
        var i = _pending.BinarySearch(job, BySeq);
        if (i < 0) throw new InvalidOperationException($"Job {jobId} is not in the queue.");
        _pending[i] = next;
        return ValueTask.FromResult<JobView?>(next);
    }

    public ValueTask SetWaitReasonsAsync(IReadOnlyList<KeyValuePair<string, string>> reasons, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var (id, reason) in reasons)
        {
            if (!_jobs.TryGetValue(id, out var job) || job.Status != JobStatus.Pending || job.WaitReason == reason) continue;
            var next = job with { WaitReason = reason };
            _jobs[id] = next;
            var i = _pending.BinarySearch(job, BySeq);
            if (i >= 0) _pending[i] = next;
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask RejectJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var job = _jobs[jobId];
        if (job.Status != JobStatus.Pending) return ValueTask.CompletedTask;
        RemovePending(job);
        _jobs[jobId] = job with { Status = JobStatus.Unschedulable, WaitReason = reason };
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask AddNodeAsync(Node node, CancellationToken ct)
    {
        if (_nodes.ContainsKey(node.Id)) throw new InvalidOperationException($"Node {node.Id} already exists.");
        _nodes[node.Id] = node;
        _aliveIndex[node.Id] = _alive.Count;
        _alive.Add(node);
        Reindex(node.Id, null, node, ordinal: _nextOrdinal++);
        _indexCopy = null;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<Node> SetNodeStateAsync(string nodeId, NodeState state, DateTimeOffset now, CancellationToken ct)
    {
        var node = _nodes[nodeId];
        var next = state switch
        {
            NodeState.Ready => node with { State = state, ReadyAt = now, IdleSince = node.RunningJobs == 0 ? now : null },
            NodeState.Terminated => node with { State = state, TerminatedAt = now },
            _ => node with { State = state },
        };
        if (state == NodeState.Terminated)
        {
            _nodes[nodeId] = next;
            Reindex(nodeId, node, null);
            var i = _aliveIndex[nodeId];
            _alive.RemoveAt(i);
            _aliveIndex.Remove(nodeId);
            for (var k = i; k < _alive.Count; k++) _aliveIndex[_alive[k].Id] = k;
                _indexCopy = null;
        }
        else
        {
            ReplaceNode(next);
        }
        return ValueTask.FromResult(next);
    }

    /// <summary>Records a node change for the capacity index (applied by <see cref="FlushIndex"/>).
    /// Successive changes of one node collapse into one, from the state indexed to the latest.</summary>
    private void Reindex(string nodeId, Node? before, Node? after, long? ordinal = null)
    {
        if (_unindexedAt.TryGetValue(nodeId, out var at))
        {
            var c = _unindexed[at];
            if (ordinal is null && ReferenceEquals(c.After, before))
            {
                _unindexed[at] = c with { After = after };
                return;
            }
            FlushIndex(); // not a continuation of the recorded change: apply what is recorded first
        }
        var (ord, shape) = ordinal is { } o ? (o, null) : _indexed[nodeId];
        if ((before is { IsSchedulable: true }) != (shape is not null)) _rebuildable = false;
        _unindexedAt[nodeId] = _unindexed.Count;
        _unindexed.Add(new NodeChange(ord, before, shape, after));
    }

    /// <summary>Applies the recorded node changes to the capacity index in one batch; rebuilds it
    /// when they are many (a quarter of the nodes or more: a decision that starts thousands of jobs).</summary>
    private void FlushIndex()
    {
        if (_unindexed.Count == 0) return;
        var shapes = new NodeShape?[_unindexed.Count];
        if (_rebuildable && _unindexed.Count * 4 >= _indexed.Count)
        {
            for (var i = 0; i < _unindexed.Count; i++)
                shapes[i] = _unindexed[i].After is { IsSchedulable: true } after ? NodeShape.Of(after) : null;
            foreach (var (id, i) in _unindexedAt) _indexed[id] = (_unindexed[i].Ordinal, shapes[i]);
            _capacity = CapacityIndex.Of(Indexed());
        }
        else
        {
            if (_unindexed.Count <= 8) // a few: one by one costs less than the builders (one change per node: same result)
                for (var i = 0; i < _unindexed.Count; i++)
                {
                    var (ordinal, before, beforeShape, after) = _unindexed[i];
                    _capacity = _capacity.Update(ordinal, before, beforeShape, after, out shapes[i]);
                }
            else
                _capacity = _capacity.Update(_unindexed, shapes);
            foreach (var (id, i) in _unindexedAt) _indexed[id] = (_unindexed[i].Ordinal, shapes[i]);
        }
        _unindexed.Clear();
        _unindexedAt.Clear();
    }

    private IEnumerable<(NodeRef, NodeShape)> Indexed()
    {
        foreach (var (id, (ordinal, shape)) in _indexed)
            if (shape is not null) yield return (new NodeRef(ordinal, id), shape);
    }

    private void ReplaceNode(Node node)
    {
        Reindex(node.Id, _nodes[node.Id], node);
        _nodes[node.Id] = node;
        if (_aliveIndex.TryGetValue(node.Id, out var i)) _alive.Set(i, node);
    }

    /// <inheritdoc />
    public string NewNodeId() => $"n{_nodeSeq++:D6}";

    /// <inheritdoc />
    public ValueTask RecordSpotTroubleAsync(string zone, string? gpuModel, DateTimeOffset at, CancellationToken ct)
    {
        _spotTrouble = _spotTrouble.SetItem(SpotSignals.Key(zone, gpuModel), at);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask AppendEventAsync(ClusterEvent e, CancellationToken ct)
    {
        _eventCounts[e.Kind] = _eventCounts.GetValueOrDefault(e.Kind) + 1;
        if (_options.KeepEvents && (_options.KeepEvent is not { } keep || keep(e))) _events.Add(e);
        return ValueTask.CompletedTask;
    }
}
