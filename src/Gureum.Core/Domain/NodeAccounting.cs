namespace Gureum.Core.Domain;

/// <summary>
/// Pure bookkeeping of node resources: every store (in-memory, SQLite, PostgreSQL) and the
/// scheduler's tentative placements go through these two functions, so a GPU is counted one way.
/// </summary>
public static class NodeAccounting
{
    /// <summary>The node with a placement's resources taken. Throws if they are not free: a
    /// decision that over-allocates is a bug, not an expected outcome.</summary>
    /// <param name="node">The node.</param>
    /// <param name="p">The slice to take.</param>
    /// <param name="inPlace">The caller owns <paramref name="node"/>'s GPU array (a working copy no
    /// one else holds, e.g. during one decision's packing): update it instead of copying it.</param>
    public static Node Allocate(Node node, Placement p, bool inPlace = false)
    {
        var gpus = inPlace ? node.GpuFreeMilli : node.GpuFreeMilli.AsSpan().ToArray(); // cheaper than Array.Clone for small arrays
        foreach (var i in p.GpuIndices)
        {
            if (gpus[i] < p.MilliPerGpu)
                throw new InvalidOperationException($"Over-allocation: node {node.Id} GPU {i} has {gpus[i]} milli free, placement wants {p.MilliPerGpu}.");
            gpus[i] -= p.MilliPerGpu;
        }
        if (node.FreeCpus + 1e-9 < p.Cpus || node.FreeMemoryGiB + 1e-9 < p.MemoryGiB)
            throw new InvalidOperationException($"Over-allocation: node {node.Id} has {node.FreeCpus} CPUs / {node.FreeMemoryGiB} GiB free, placement wants {p.Cpus} / {p.MemoryGiB}.");
        return node with
        {
            GpuFreeMilli = gpus,
            FreeCpus = node.FreeCpus - p.Cpus,
            FreeMemoryGiB = node.FreeMemoryGiB - p.MemoryGiB,
            RunningJobs = node.RunningJobs + 1,
            IdleSince = null,
        };
    }

    /// <summary>The node with a placement's resources returned.</summary>
    public static Node Release(Node node, Placement p, DateTimeOffset now)
    {
        var gpus = node.GpuFreeMilli.AsSpan().ToArray();
        foreach (var i in p.GpuIndices)
        {
            gpus[i] += p.MilliPerGpu;
            if (gpus[i] > 1000) throw new InvalidOperationException($"Double release on node {node.Id} GPU {i}.");
        }
        var running = node.RunningJobs - 1;
        return node with
        {
            GpuFreeMilli = gpus,
            FreeCpus = Math.Min(node.Offer.VCpus, node.FreeCpus + p.Cpus),
            FreeMemoryGiB = Math.Min(node.Offer.MemoryGiB, node.FreeMemoryGiB + p.MemoryGiB),
            RunningJobs = running,
            IdleSince = running == 0 ? now : null,
        };
    }
}
