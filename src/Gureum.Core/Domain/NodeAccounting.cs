namespace Gureum.Core.Domain;

/// <summary>
/// Pure bookkeeping of node resources: every store (in-memory, SQLite, PostgreSQL) and the
/// scheduler's tentative placements go through these two functions, so a GPU is counted one way.
/// </summary>
public static class NodeAccounting
{
    /// <summary>The node with a placement's resources taken. Throws if they are not free: a
    /// decision that over-allocates is a bug, not an expected outcome.</summary>
    public static Node Allocate(Node node, Placement p)
    {
        var gpus = node.GpuFreeMilli.AsSpan().ToArray(); // cheaper than Array.Clone for small arrays
        var (cpus, memory) = Take(node.Id, gpus, node.FreeCpus, node.FreeMemoryGiB, p);
        return node with
        {
            GpuFreeMilli = gpus,
            FreeCpus = cpus,
            FreeMemoryGiB = memory,
            RunningJobs = node.RunningJobs + 1,
            IdleSince = null,
        };
    }

    /// <summary>Takes a placement's slice from free resources held apart from a node record (a
    /// decision's working copy): <paramref name="gpus"/> is updated in place; returns the CPUs and
    /// memory left. Throws if the slice is not free, as <see cref="Allocate"/> does.</summary>
    public static (double FreeCpus, double FreeMemoryGiB) Take(string nodeId, int[] gpus, double freeCpus, double freeMemoryGiB, Placement p)
    {
        foreach (var i in p.GpuIndices)
            if (gpus[i] < p.MilliPerGpu)
                throw new InvalidOperationException($"Over-allocation: node {nodeId} GPU {i} has {gpus[i]} milli free, placement wants {p.MilliPerGpu}.");
        if (freeCpus + 1e-9 < p.Cpus || freeMemoryGiB + 1e-9 < p.MemoryGiB)
            throw new InvalidOperationException($"Over-allocation: node {nodeId} has {freeCpus} CPUs / {freeMemoryGiB} GiB free, placement wants {p.Cpus} / {p.MemoryGiB}.");
        foreach (var i in p.GpuIndices) gpus[i] -= p.MilliPerGpu;
        return (freeCpus - p.Cpus, freeMemoryGiB - p.MemoryGiB);
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
