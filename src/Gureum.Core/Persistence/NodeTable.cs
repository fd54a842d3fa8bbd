using System.Collections;
using Gureum.Core.Domain;

namespace Gureum.Core.Persistence;

/// <summary>
/// The alive nodes of a store, in creation order, with cheap frozen copies for snapshots: nodes
/// live in chunks of 64; a snapshot shares the chunks and a later change copies only the chunk it
/// touches (copy on write), so a decision costs O(nodes / 64) instead of copying every node.
/// Removal shifts indices and rebuilds (O(nodes)); nodes are removed far less often than changed.
/// </summary>
internal sealed class NodeTable
{
    private const int Shift = 6;
    private const int ChunkSize = 1 << Shift;

    private readonly List<Node[]> _chunks = [];
    // A chunk is shared with a frozen view when its generation is older than the current one:
    // freezing is then O(1) for the flags (bump the generation) instead of marking every chunk.
    private readonly List<long> _chunkGeneration = [];
    private long _generation;
    private Frozen? _frozen;

    public int Count { get; private set; }

    public Node this[int i] => _chunks[i >> Shift][i & (ChunkSize - 1)];

    public void Add(Node node)
    {
        if ((Count & (ChunkSize - 1)) == 0)
        {
            _chunks.Add(new Node[ChunkSize]);
            _chunkGeneration.Add(_generation);
        }
        Writable(Count >> Shift)[Count & (ChunkSize - 1)] = node;
        Count++;
        _frozen = null;
    }

    public void Set(int i, Node node)
    {
        Writable(i >> Shift)[i & (ChunkSize - 1)] = node;
        _frozen = null;
    }

    public void RemoveAt(int index)
    {
        var rest = new List<Node>(Count - 1);
        for (var i = 0; i < Count; i++) if (i != index) rest.Add(this[i]);
        _chunks.Clear();
        _chunkGeneration.Clear();
        Count = 0;
        foreach (var n in rest) Add(n);
        _frozen = null;
    }

    /// <summary>An immutable view of the current contents (the same instance until the next change).</summary>
    public IReadOnlyList<Node> Freeze()
    {
        if (_frozen is not null) return _frozen;
        _generation++;
        return _frozen = new Frozen(_chunks.ToArray(), Count);
    }

    private Node[] Writable(int c)
    {
        if (_chunkGeneration[c] != _generation)
        {
            _chunks[c] = (Node[])_chunks[c].Clone();
            _chunkGeneration[c] = _generation;
        }
        return _chunks[c];
    }

    private sealed class Frozen(Node[][] chunks, int count) : IReadOnlyList<Node>
    {
        public Node this[int index] => (uint)index < (uint)count
            ? chunks[index >> Shift][index & (ChunkSize - 1)]
            : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => count;

        public IEnumerator<Node> GetEnumerator()
        {
            for (var i = 0; i < count; i++) yield return chunks[i >> Shift][i & (ChunkSize - 1)];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
