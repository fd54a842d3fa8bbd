using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Core.Planning;

/// <summary>
/// What a node offers a job, without its identity: its offer, its market and its free resources
/// (free milli-GPU per GPU as a multiset, free CPUs, free memory). Two ready nodes with the same
/// shape are interchangeable to every filter and score plugin, so the scheduler evaluates one node
/// per shape (the idea of kube-scheduler's equivalence cache).
/// </summary>
public sealed class NodeShape : IEquatable<NodeShape>
{
    private readonly int[] _freeDescending;
    private readonly int _hash;

    private NodeShape(Offer offer, Market market, int[] freeDescending, double freeCpus, double freeMemoryGiB)
    {
        Offer = offer;
        Market = market;
        _freeDescending = freeDescending;
        FreeCpus = freeCpus;
        FreeMemoryGiB = freeMemoryGiB;
        var h = new HashCode();
        h.Add(RuntimeHelpers.GetHashCode(offer));
        h.Add(market);
        foreach (var f in freeDescending) h.Add(f);
        h.Add(freeCpus);
        h.Add(freeMemoryGiB);
        _hash = h.ToHashCode();
        var whole = 0;
        foreach (var f in freeDescending) if (f == 1000) whole++;
        FreeWholeGpus = whole;
        MaxFreeMilli = freeDescending.Length == 0 ? 0 : freeDescending[0];
    }

    /// <summary>The node's offer (compared by reference: nodes of one offer share the instance).</summary>
    public Offer Offer { get; }
    public Market Market { get; }
    public double FreeCpus { get; }
    public double FreeMemoryGiB { get; }
    public int FreeWholeGpus { get; }
    public int MaxFreeMilli { get; }

    /// <summary>The shape of a node.</summary>
    public static NodeShape Of(Node node)
    {
        // Copy and sort ascending then reverse: the same order as a descending sort, without
        // Array.Clone's and a comparison delegate's overhead (this runs on every node change).
        var free = node.GpuFreeMilli.AsSpan().ToArray();
        Array.Sort(free);
        Array.Reverse(free);
        return new NodeShape(node.Offer, node.Market, free, node.FreeCpus, node.FreeMemoryGiB);
    }

    public bool Equals(NodeShape? other) =>
        other is not null && _hash == other._hash && ReferenceEquals(Offer, other.Offer) && Market == other.Market
        && FreeCpus.Equals(other.FreeCpus) && FreeMemoryGiB.Equals(other.FreeMemoryGiB)
        && _freeDescending.AsSpan().SequenceEqual(other._freeDescending);

    public override bool Equals(object? obj) => Equals(obj as NodeShape);
    public override int GetHashCode() => _hash;
}

/// <summary>A ready node in a <see cref="CapacityIndex"/> group: its creation ordinal (the order
/// of <see cref="ClusterSnapshot.Nodes"/>) and its id.</summary>
public readonly record struct NodeRef(long Ordinal, string Id);

/// <summary>
/// Ready nodes grouped by <see cref="NodeShape"/>, each group in creation order. Persistent
/// (immutable): the store updates it in O(log n) per node change and hands the current value to
/// every snapshot for free, so a decision looks at one node per shape instead of every node.
/// </summary>
public sealed class CapacityIndex
{
    private static readonly IComparer<NodeRef> ByOrdinal = Comparer<NodeRef>.Create(static (a, b) => a.Ordinal.CompareTo(b.Ordinal));

    /// <summary>No nodes.</summary>
    public static CapacityIndex Empty { get; } = new(ImmutableDictionary<NodeShape, ImmutableSortedSet<NodeRef>>.Empty);

    private CapacityIndex(ImmutableDictionary<NodeShape, ImmutableSortedSet<NodeRef>> groups) => Groups = groups;

    /// <summary>Ready nodes by shape; every set is non-empty and ordered by creation.</summary>
    public ImmutableDictionary<NodeShape, ImmutableSortedSet<NodeRef>> Groups { get; }

    private KeyValuePair<NodeShape, ImmutableSortedSet<NodeRef>>[]? _list;

    /// <summary><see cref="Groups"/> as an array (built once per index value: decisions walk it
    /// more than once and a dictionary enumerator is slow).</summary>
    public IReadOnlyList<KeyValuePair<NodeShape, ImmutableSortedSet<NodeRef>>> GroupList => _list ??= Groups.ToArray();

    /// <summary>The index after a node changed: <paramref name="before"/> (null if new) replaced by
    /// <paramref name="after"/> (null if gone). Only ready nodes are indexed.</summary>
    /// <param name="ordinal">The node's creation ordinal.</param>
    /// <param name="before">The node as indexed so far, or null.</param>
    /// <param name="beforeShape">Its shape if the caller kept it (saves recomputing), else null.</param>
    /// <param name="after">The node now, or null.</param>
    /// <param name="afterShape">The shape <paramref name="after"/> was indexed under (null when not indexed).</param>
    public CapacityIndex Update(long ordinal, Node? before, NodeShape? beforeShape, Node? after, out NodeShape? afterShape)
    {
        var groups = Groups;
        afterShape = null;
        if (before is { IsSchedulable: true })
        {
            var shape = beforeShape ?? NodeShape.Of(before);
            if (groups.TryGetValue(shape, out var set))
            {
                set = set.Remove(new NodeRef(ordinal, before.Id));
                groups = set.IsEmpty ? groups.Remove(shape) : groups.SetItem(shape, set);
            }
        }
        if (after is { IsSchedulable: true })
        {
            var shape = afterShape = NodeShape.Of(after);
            var set = groups.TryGetValue(shape, out var s) ? s : ImmutableSortedSet.Create(ByOrdinal);
            groups = groups.SetItem(shape, set.Add(new NodeRef(ordinal, after.Id)));
        }
        return ReferenceEquals(groups, Groups) ? this : new CapacityIndex(groups);
    }

    /// <summary>The index of exactly these ready nodes, each with its shape: the groups that updates
    /// from <see cref="Empty"/> adding them would give, built in one pass (for a batch of changes that
    /// touches most nodes, cheaper than editing the groups).</summary>
    public static CapacityIndex Of(IEnumerable<(NodeRef Node, NodeShape Shape)> nodes)
    {
        var groups = new Dictionary<NodeShape, List<NodeRef>>();
        foreach (var (node, shape) in nodes)
        {
            if (!groups.TryGetValue(shape, out var list)) groups[shape] = list = [];
            list.Add(node);
        }
        var index = ImmutableDictionary.CreateBuilder<NodeShape, ImmutableSortedSet<NodeRef>>();
        foreach (var (shape, list) in groups) index[shape] = ImmutableSortedSet.CreateRange(ByOrdinal, list);
        return new CapacityIndex(index.ToImmutable());
    }

    /// <summary>
    /// The index after several node changes at once, at most one per node (the first state
    /// indexed and the latest): the same groups as applying them one by one with
    /// <see cref="Update(long, Node?, NodeShape?, Node?, out NodeShape?)"/>, in any order. Groups are
    /// edited through builders, so a batch copies each touched path once instead of once per change
    /// (a decision that starts thousands of jobs changes every node several times).
    /// </summary>
    /// <param name="changes">The changes; <see cref="NodeChange.BeforeShape"/> as in the single update.</param>
    /// <param name="afterShapes">Filled with the shape each change's <see cref="NodeChange.After"/> was
    /// indexed under (null when not indexed); at least as long as <paramref name="changes"/>.</param>
    public CapacityIndex Update(IReadOnlyList<NodeChange> changes, NodeShape?[] afterShapes)
    {
        if (changes.Count == 0) return this;
        var groups = Groups.ToBuilder();
        var touched = new Dictionary<NodeShape, ImmutableSortedSet<NodeRef>.Builder>();
        ImmutableSortedSet<NodeRef>.Builder? Existing(NodeShape shape)
        {
            if (touched.TryGetValue(shape, out var b)) return b;
            if (!groups.TryGetValue(shape, out var set)) return null;
            return touched[shape] = set.ToBuilder();
        }
        for (var i = 0; i < changes.Count; i++)
        {
            var (ordinal, before, beforeShape, after) = changes[i];
            afterShapes[i] = null;
            if (before is { IsSchedulable: true })
                Existing(beforeShape ?? NodeShape.Of(before))?.Remove(new NodeRef(ordinal, before.Id));
            if (after is { IsSchedulable: true })
            {
                var shape = afterShapes[i] = NodeShape.Of(after);
                var set = Existing(shape);
                if (set is null) touched[shape] = set = ImmutableSortedSet.CreateBuilder(ByOrdinal);
                set.Add(new NodeRef(ordinal, after.Id));
            }
        }
        foreach (var (shape, set) in touched)
        {
            if (set.Count == 0) groups.Remove(shape);
            else groups[shape] = set.ToImmutable();
        }
        return new CapacityIndex(groups.ToImmutable());
    }
}

/// <summary>One node change for <see cref="CapacityIndex.Update(IReadOnlyList{NodeChange}, NodeShape?[])"/>:
/// the node's creation ordinal, the node as indexed so far (null if new) and its shape if known, and
/// the node now (null if gone).</summary>
public readonly record struct NodeChange(long Ordinal, Node? Before, NodeShape? BeforeShape, Node? After);
