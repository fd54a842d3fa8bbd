using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Scheduling.Framework;

/// <summary>
/// One decision's working state over a frozen snapshot: the snapshot's nodes plus the tentative
/// placements and preemptions made so far in this decision (an overlay; the snapshot is never
/// touched). Created per decision; not thread-safe.
/// </summary>
public sealed class SchedulingContext
{
    // Tentative node states by node index (allocated at the first change; arrays, not dictionaries:
    // a decision that starts thousands of jobs changes every node), and the changed indices in order.
    private Node?[]? _overlay;
    private readonly List<int> _changed = [];
    private Dictionary<string, List<JobView>>? _runningByNode;
    private Dictionary<string, List<JobView>>? _placedByNode;
    private readonly HashSet<long> _preempted = [];
    private readonly Dictionary<string, long> _labMilli = new(StringComparer.Ordinal);

    private readonly IReadOnlyList<IFilterPlugin> _filters;

    /// <summary>A context over a snapshot, filtering nodes with the profile's filter plugins.</summary>
    public SchedulingContext(ClusterSnapshot snapshot, IReadOnlyList<IFilterPlugin> filters)
    {
        Snapshot = snapshot;
        _filters = filters;
    }

    public ClusterSnapshot Snapshot { get; }
    public DateTimeOffset Now => Snapshot.Now;
    public int NodeCount => Snapshot.Nodes.Count;

    private (int Whole, int Milli, double Cpus, double Mem)? _bounds;

    /// <summary>Upper bounds of free resources on any one schedulable node at the start of the
    /// decision (computed on first use); placements only lower the truth, so a job above them
    /// cannot fit anywhere.</summary>
    private (int Whole, int Milli, double Cpus, double Mem) Bounds => _bounds ??= UsefulIndex is { } c ? ComputeBounds(c) : ComputeBounds(Snapshot.Nodes);

    /// <summary>The snapshot's capacity index when it pays: with more than one shape per two
    /// nodes (a heterogeneous fleet) walking the groups costs more than scanning the nodes.</summary>
    private CapacityIndex? UsefulIndex => Snapshot.Capacity is { } c && c.Groups.Count * 2 <= NodeCount ? c : null;

    private static (int, int, double, double) ComputeBounds(CapacityIndex capacity)
    {
        int whole = 0, milli = 0;
        double cpus = 0, mem = 0;
        foreach (var (s, _) in capacity.GroupList)
        {
            whole = Math.Max(whole, s.FreeWholeGpus);
            milli = Math.Max(milli, s.MaxFreeMilli);
            cpus = Math.Max(cpus, s.FreeCpus);
            mem = Math.Max(mem, s.FreeMemoryGiB);
        }
        return (whole, milli, cpus, mem);
    }

    private static (int, int, double, double) ComputeBounds(IReadOnlyList<Node> nodes)
    {
        int whole = 0, milli = 0;
        double cpus = 0, mem = 0;
        foreach (var n in nodes)
        {
            if (!n.IsSchedulable) continue;
            whole = Math.Max(whole, n.FreeWholeGpus);
            milli = Math.Max(milli, n.MaxFreeMilli);
            cpus = Math.Max(cpus, n.FreeCpus);
            mem = Math.Max(mem, n.FreeMemoryGiB);
        }
        return (whole, milli, cpus, mem);
    }

    private IReadOnlyDictionary<string, int> IndexById => Snapshot.IndexById();

    /// <summary>Runs the filter chain; the first failure wins.</summary>
    public Status Filter(JobView job, Node node)
    {
        for (var i = 0; i < _filters.Count; i++) // indexed: a foreach would box the list's enumerator
        {
            var s = _filters[i].Filter(job, node, this);
            if (!s.IsSuccess) return s;
        }
        return Status.Ok;
    }

    /// <summary>The node at an index, with this decision's tentative changes.</summary>
    public Node NodeAt(int i) => _overlay?[i] ?? Snapshot.Nodes[i];

    private bool IsChanged(int i) => _overlay?[i] is not null;

    /// <summary>A node by id with tentative changes, or null if not alive.</summary>
    public Node? NodeById(string id) => IndexById.TryGetValue(id, out var i) ? NodeAt(i) : null;

    /// <summary>
    /// Fills <paramref name="into"/> (cleared first) with the indices of the nodes a placement must consider. With a <see cref="CapacityIndex"/> in the
    /// snapshot (and at most one shape per two nodes): the first node (by creation) of every shape group that this decision has not
    /// changed and the first (lowest index) changed node of every shape; or, when
    /// <paramref name="everyMember"/>, every unchanged member and every changed node. Without one: every node. Filter and score plugins see nodes of one shape
    /// as interchangeable (their contract), so one node per shape is enough for a single-node
    /// placement; callers break score ties on the lower index, as a full scan in index order does.
    /// </summary>
    public void CandidateIndices(bool everyMember, List<int> into)
    {
        into.Clear();
        if (UsefulIndex is not { } capacity)
        {
            for (var i = 0; i < NodeCount; i++) into.Add(i);
            return;
        }
        if (!everyMember)
        {
            // One node per shape, for the unchanged nodes and for the changed ones alike (the
            // contract above holds for a changed node too: its shape is what plugins see). A
            // decision that places thousands of jobs would otherwise look at every changed node
            // for every job.
            var groups = capacity.GroupList;
            _firstUnchanged ??= new int[groups.Count];
            if (_firstUnchangedIndex is null)
            {
                _firstUnchangedIndex = new int[groups.Count];
                Array.Fill(_firstUnchangedIndex, -1);
            }
            for (var g = 0; g < groups.Count; g++)
            {
                // Changed nodes stay changed for the whole decision: the first unchanged member
                // of a group only moves forward, so each group is walked once per decision.
                var group = groups[g].Value;
                ref var k = ref _firstUnchanged[g];
                ref var index = ref _firstUnchangedIndex[g]; // node index of group[k], -1 until looked up
                while (k < group.Count)
                {
                    if (index < 0) index = IndexById[group[k].Id];
                    if (!IsChanged(index)) break;
                    k++;
                    index = -1;
                }
                if (k < group.Count) into.Add(index);
            }
            foreach (var changed in _changedByShape.Values) into.Add(changed.Min);
            return;
        }
        foreach (var (_, group) in capacity.GroupList)
            foreach (var member in group)
            {
                var i = IndexById[member.Id];
                if (!IsChanged(i)) into.Add(i);
            }
        into.AddRange(_changed);
    }

    // Single-node candidates as of change number _singleVersion, and upper bounds of their free
    // resources as of change number _freeVersion.
    private readonly List<int> _single = [];
    private int _version;
    private int _singleVersion = -1;
    private int _freeVersion = -1;
    private (int Whole, int Milli, double Cpus, double Mem) _singleFree;

    /// <summary>
    /// The candidates of a single-node placement (<see cref="CandidateIndices"/> without every
    /// member), computed once per state of this decision: a placement or eviction changes it, a run
    /// of jobs that fit nowhere reuses it (<paramref name="reused"/>). Valid until the next change.
    /// </summary>
    public IReadOnlyList<int> SingleNodeCandidates(out bool reused)
    {
        reused = _singleVersion == _version;
        if (!reused)
        {
            CandidateIndices(everyMember: false, _single);
            _singleVersion = _version;
        }
        return _single;
    }

    /// <summary>Whether a request could fit one of the <see cref="SingleNodeCandidates"/> by the
    /// maxima of their free resources (computed once per state): false means
    /// <see cref="Fit.Fits(ResourceRequest, Node)"/> fails on every one of them.</summary>
    public bool MightFitCandidate(ResourceRequest r)
    {
        if (_freeVersion != _version)
        {
            int whole = 0, milli = 0;
            double cpus = 0, mem = 0;
            foreach (var i in SingleNodeCandidates(out _))
            {
                var n = NodeAt(i);
                if (!n.IsSchedulable) continue;
                whole = Math.Max(whole, n.FreeWholeGpus);
                milli = Math.Max(milli, n.MaxFreeMilli);
                cpus = Math.Max(cpus, n.FreeCpus);
                mem = Math.Max(mem, n.FreeMemoryGiB);
            }
            _singleFree = (whole, milli, cpus, mem);
            _freeVersion = _version;
        }
        var free = _singleFree;
        // Fit.Fits's failures, on the maxima: CPUs or memory short, else whole GPUs, else a share of one.
        return !(r.Cpus > free.Cpus + 1e-9 || r.MemoryGiB > free.Mem + 1e-9
            || (r.Gpus > 0 ? r.Gpus > free.Whole : r.GpuMilli > 0 && r.GpuMilli > free.Milli));
    }

    // Per group of the snapshot's capacity index: the position of its first member this decision
    // has not changed, and that member's node index (-1 until looked up).
    private int[]? _firstUnchanged;
    private int[]? _firstUnchangedIndex;
    // Changed schedulable nodes by shape (only kept when the capacity index is used), and each one's shape.
    private readonly Dictionary<NodeShape, ChangedOfShape> _changedByShape = [];
    private NodeShape?[]? _changedShape;

    /// <summary>Indices of the changed nodes of one shape, with the lowest kept at hand (every
    /// placement asks for it; a SortedSet's Min walks the tree).</summary>
    private sealed class ChangedOfShape
    {
        private readonly SortedSet<int> _set = [];

        public int Min { get; private set; }
        public int Count => _set.Count;

        public void Add(int i)
        {
            if (_set.Add(i) && (_set.Count == 1 || i < Min)) Min = i;
        }

        public void Remove(int i)
        {
            if (_set.Remove(i) && i == Min && _set.Count > 0) Min = _set.Min;
        }
    }

    /// <summary>Sets a node's tentative state and keeps the changed nodes grouped by shape.</summary>
    private void SetOverlay(int i, Node node)
    {
        _overlay ??= new Node?[NodeCount];
        _version++;
        if (_overlay[i] is null) _changed.Add(i);
        _overlay[i] = node;
        if (UsefulIndex is null) return;
        _changedShape ??= new NodeShape?[NodeCount];
        if (_changedShape[i] is { } before)
        {
            _changedShape[i] = null;
            if (_changedByShape.TryGetValue(before, out var old))
            {
                old.Remove(i);
                if (old.Count == 0) _changedByShape.Remove(before);
            }
        }
        if (!node.IsSchedulable) return;
        var shape = NodeShape.Of(node);
        _changedShape[i] = shape;
        if (!_changedByShape.TryGetValue(shape, out var set)) _changedByShape[shape] = set = new ChangedOfShape();
        set.Add(i);
    }

    /// <summary>Whether a job could fit anywhere by the upper bounds (cheap pre-check).</summary>
    public bool MightFitSomewhere(ResourceRequest r) =>
        r.Gpus <= Bounds.Whole && (r.GpuMilli == 0 || r.GpuMilli <= Bounds.Milli)
        && r.Cpus <= Bounds.Cpus + 1e-9 && r.MemoryGiB <= Bounds.Mem + 1e-9;

    /// <summary>Records a placement in the overlay.</summary>
    public void Commit(JobView job, IReadOnlyList<Placement> placements)
    {
        long milli = 0;
        for (var k = 0; k < placements.Count; k++) // indexed: a foreach would box the list's enumerator
        {
            var p = placements[k];
            var i = IndexById[p.NodeId];
            SetOverlay(i, NodeAccounting.Allocate(NodeAt(i), p));
            milli += p.MilliGpus;
            _placedByNode ??= new Dictionary<string, List<JobView>>(StringComparer.Ordinal);
            if (!_placedByNode.TryGetValue(p.NodeId, out var placed)) _placedByNode[p.NodeId] = placed = [];
            placed.Add(job);
        }
        (_placed ??= []).Add(job.Seq);
        _labMilli[job.Spec.Lab] = LabMilli(job.Spec.Lab) + milli;
    }

    private HashSet<long>? _placed;

    /// <summary>Whether this decision has placed the job (on any node) so far.</summary>
    public bool IsPlaced(JobView job) => _placed?.Contains(job.Seq) == true;

    /// <summary>Records a preemption in the overlay: its resources are free for this decision.</summary>
    public void Evict(JobView victim)
    {
        if (!_preempted.Add(victim.Seq)) return;
        foreach (var p in victim.Placements)
            if (IndexById.TryGetValue(p.NodeId, out var i)) SetOverlay(i, NodeAccounting.Release(NodeAt(i), p, Now));
        _labMilli[victim.Spec.Lab] = LabMilli(victim.Spec.Lab) - victim.Placements.Sum(p => (long)p.MilliGpus);
    }

    public bool IsEvicted(JobView job) => _preempted.Contains(job.Seq);

    /// <summary>Milli-GPUs a lab holds, counting this decision's placements and evictions.</summary>
    public long LabMilli(string lab) =>
        _labMilli.TryGetValue(lab, out var m) ? m : Snapshot.Labs.TryGetValue(lab, out var s) ? s.RunningMilliGpus : 0;

    private int? _lowestRunningPriority;

    /// <summary>Lowest priority among running jobs (int.MaxValue when none run): a job at or below
    /// it cannot preempt anyone.</summary>
    public int LowestRunningPriority => _lowestRunningPriority ??= Snapshot.Running.IsEmpty ? int.MaxValue : Snapshot.Running.Values.Min(j => j.Spec.Priority);

    /// <summary>Running jobs on a node (from the snapshot; built on first use).</summary>
    public IReadOnlyList<JobView> RunningOn(string nodeId)
    {
        if (_runningByNode is null)
        {
            _runningByNode = new Dictionary<string, List<JobView>>(StringComparer.Ordinal);
            foreach (var j in Snapshot.Running.Values)
                foreach (var p in j.Placements)
                {
                    if (!_runningByNode.TryGetValue(p.NodeId, out var l)) _runningByNode[p.NodeId] = l = [];
                    l.Add(j);
                }
        }
        return _runningByNode.TryGetValue(nodeId, out var list) ? list : [];
    }

    /// <summary>Jobs this decision has placed on a node so far (not yet in the snapshot's running set).</summary>
    public IReadOnlyList<JobView> PlacedOn(string nodeId) =>
        _placedByNode is not null && _placedByNode.TryGetValue(nodeId, out var list) ? list : [];

    /// <summary>Nodes whose state changed in this decision (placements or evictions).</summary>
    public IEnumerable<Node> ChangedNodes => _changed.Select(i => _overlay![i]!);
}
