using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling;

/// <summary>
/// Capacity on its way during one autoscaling decision: booting nodes and the nodes the decision
/// buys, with waiting jobs packed into them. A job goes to the first node (in the order nodes were
/// added) that its policy allows and it fits, exactly as a scan of the list would choose, but the
/// nodes are grouped by offer and market with an upper bound on what each group has free, so a job
/// that fits no group costs one check per group instead of one per node. With 10,000 waiting jobs
/// and thousands of booting nodes that is the difference between seconds and milliseconds.
/// </summary>
internal sealed class InFlightCapacity
{
    private readonly List<Node> _nodes = [];
    private readonly List<Free> _free = []; // what _nodes[i] has free with this decision's packing
    private readonly List<Group> _groups = [];
    private readonly Dictionary<(string Offer, Market Market), Group> _byKey = [];

    /// <summary>Nodes held (booting plus bought in this decision).</summary>
    public int Count => _nodes.Count;

    /// <summary>The nodes as added, in that order (their records do not change: what has been
    /// packed into them is in <see cref="Packed"/>).</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Node <paramref name="index"/> with what has been packed into it taken (a new record;
    /// for diagnostics and tests).</summary>
    public Node Packed(int index)
    {
        var f = _free[index];
        var n = _nodes[index];
        return f.Slices == 0 ? n : n with
        {
            GpuFreeMilli = (int[])f.Gpus.Clone(), FreeCpus = f.Cpus, FreeMemoryGiB = f.Memory,
            RunningJobs = n.RunningJobs + f.Slices, IdleSince = null,
        };
    }

    /// <summary>Adds a node after all nodes added before it.</summary>
    public void Add(Node node)
    {
        var key = (node.Offer.Id, node.Market);
        if (!_byKey.TryGetValue(key, out var g))
        {
            g = new Group(node.Offer, node.Market);
            _byKey[key] = g;
            _groups.Add(g);
        }
        g.Members.Add(_nodes.Count);
        g.Widen(node.FreeCpus, node.FreeMemoryGiB, node.GpuFreeMilli);
        _nodes.Add(node);
        _free.Add(new Free(node));
    }

    /// <summary>
    /// Packs a request onto the first node whose group <paramref name="allows"/> (offer, market),
    /// that <paramref name="mayPackOnto"/> accepts and where it fits; takes the slice and returns
    /// true with the node's index in <paramref name="index"/>, or returns false (index −1) when no
    /// node qualifies.
    /// </summary>
    public bool TryPack(ResourceRequest r, Func<Offer, Market, bool> allows, Func<Node, bool> mayPackOnto, out int index)
    {
        index = -1;
        var bestIndex = int.MaxValue;
        Placement? bestSlice = null;
        foreach (var g in _groups)
        {
            if (!g.MayFit(r) || !allows(g.Offer, g.Market)) continue;
            var (first, slice) = g.FirstFit(r, _nodes, _free, mayPackOnto, bestIndex);
            if (slice is null || first >= bestIndex) continue;
            (bestIndex, bestSlice) = (first, slice);
        }
        if (bestSlice is null) return false;
        // The group's bounds stay valid: taking a slice only lowers what the node has free. The
        // node record stays as it was; its working copy of free resources is updated in place.
        _free[bestIndex].Take(_nodes[bestIndex].Id, bestSlice);
        index = bestIndex;
        return true;
    }

    /// <summary>A node's free resources during one decision (GPU array copied at the first slice).</summary>
    private sealed class Free(Node node)
    {
        public double Cpus = node.FreeCpus;
        public double Memory = node.FreeMemoryGiB;
        public int[] Gpus = node.GpuFreeMilli;
        public int Slices;

        public void Take(string nodeId, Placement p)
        {
            if (Slices++ == 0) Gpus = (int[])Gpus.Clone();
            (Cpus, Memory) = NodeAccounting.Take(nodeId, Gpus, Cpus, Memory, p);
        }
    }

    /// <summary>Nodes of one offer and market, with upper bounds on the most any one of them has
    /// free (exact after a full scan; allocations only lower the truth, so they stay bounds).</summary>
    private sealed class Group(Offer offer, Market market)
    {
        public Offer Offer { get; } = offer;
        public Market Market { get; } = market;
        public List<int> Members { get; } = [];
        private double _cpus, _memory;
        private int _wholeGpus, _milli;
        private readonly Dictionary<ResourceRequest, int> _cursor = [];

        public bool MayFit(ResourceRequest r) =>
            r.Cpus <= _cpus + 1e-9 && r.MemoryGiB <= _memory + 1e-9
            && (r.Gpus <= 0 || r.Gpus <= _wholeGpus)
            && (r.Gpus > 0 || r.GpuMilli <= 0 || r.GpuMilli <= _milli);

        public void Widen(double freeCpus, double freeMemoryGiB, int[] gpus)
        {
            _cpus = Math.Max(_cpus, freeCpus);
            _memory = Math.Max(_memory, freeMemoryGiB);
            var (whole, milli) = Gpus(gpus);
            _wholeGpus = Math.Max(_wholeGpus, whole);
            _milli = Math.Max(_milli, milli);
        }

        /// <summary>The first member before <paramref name="before"/> that accepts and fits the
        /// request. Members skipped because they lack room stay skipped for that request shape
        /// (a cursor per shape: within a decision nodes only fill up), so a run of jobs of one
        /// shape scans each member once. A scan of every member that finds none makes the bounds exact.</summary>
        public (int Index, Placement? Slice) FirstFit(ResourceRequest r, List<Node> nodes, List<Free> free, Func<Node, bool> mayPackOnto, int before)
        {
            var start = _cursor.GetValueOrDefault(r);
            var advancing = true; // every member before k lacks room for r
            double cpus = 0, memory = 0;
            int whole = 0, milli = 0;
            for (var k = start; k < Members.Count; k++)
            {
                var i = Members[k];
                if (i >= before)
                {
                    if (advancing) _cursor[r] = k;
                    return (-1, null);
                }
                var f = free[i];
                if (Fit.Fits(r, f.Cpus, f.Memory, f.Gpus))
                {
                    if (advancing) _cursor[r] = k;
                    advancing = false;
                    if (mayPackOnto(nodes[i])) return (i, Fit.Slice(r, nodes[i].Id, f.Cpus, f.Memory, f.Gpus));
                }
                cpus = Math.Max(cpus, f.Cpus);
                memory = Math.Max(memory, f.Memory);
                var (w, m) = Gpus(f.Gpus);
                whole = Math.Max(whole, w);
                milli = Math.Max(milli, m);
            }
            if (advancing) _cursor[r] = Members.Count;
            if (start == 0) (_cpus, _memory, _wholeGpus, _milli) = (cpus, memory, whole, milli);
            return (-1, null);
        }

        private static (int Whole, int Milli) Gpus(int[] gpus)
        {
            int whole = 0, milli = 0;
            foreach (var f in gpus)
            {
                if (f == 1000) whole++;
                milli = Math.Max(milli, f);
            }
            return (whole, milli);
        }
    }
}
