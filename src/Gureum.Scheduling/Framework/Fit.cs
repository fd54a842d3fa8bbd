using Gureum.Core.Domain;

namespace Gureum.Scheduling.Framework;

/// <summary>Resource fitting of one job slice on one node; the only place GPUs are picked.</summary>
public static class Fit
{
    /// <summary>
    /// The slice a request would take on a node, or null if it does not fit now. Whole GPUs take
    /// the lowest free indices; a fractional share goes to the fullest GPU that still has room
    /// (best fit, which keeps whole GPUs free for whole-GPU jobs: fragmentation-aware).
    /// </summary>
    public static Placement? Slice(ResourceRequest r, Node node) => Slice(r, node.Id, node.FreeCpus, node.FreeMemoryGiB, node.GpuFreeMilli);

    /// <summary><see cref="Slice(ResourceRequest, Node)"/> on a node's free resources given apart
    /// (a working copy that a decision updates in place).</summary>
    public static Placement? Slice(ResourceRequest r, string nodeId, double freeCpus, double freeMemoryGiB, int[] gpus)
    {
        if (r.Cpus > freeCpus + 1e-9 || r.MemoryGiB > freeMemoryGiB + 1e-9) return null;
        if (r.Gpus > 0)
        {
            if (r.Gpus > gpus.Length) return null;
            var picked = new int[r.Gpus];
            var k = 0;
            for (var i = 0; i < gpus.Length && k < r.Gpus; i++)
                if (gpus[i] == 1000) picked[k++] = i;
            return k == r.Gpus ? new Placement(nodeId, picked, 1000, r.Cpus, r.MemoryGiB) : null;
        }
        if (r.GpuMilli > 0)
        {
            var best = -1;
            for (var i = 0; i < gpus.Length; i++)
                if (gpus[i] >= r.GpuMilli && (best < 0 || gpus[i] < gpus[best])) best = i;
            return best < 0 ? null : new Placement(nodeId, [best], r.GpuMilli, r.Cpus, r.MemoryGiB);
        }
        return new Placement(nodeId, [], 0, r.Cpus, r.MemoryGiB);
    }

    /// <summary>Whether <see cref="Slice(ResourceRequest, Node)"/> would succeed, without allocating.</summary>
    public static bool Fits(ResourceRequest r, Node node) => Fits(r, node.FreeCpus, node.FreeMemoryGiB, node.GpuFreeMilli);

    /// <summary><see cref="Fits(ResourceRequest, Node)"/> on free resources given apart.</summary>
    public static bool Fits(ResourceRequest r, double freeCpus, double freeMemoryGiB, int[] gpus)
    {
        if (r.Cpus > freeCpus + 1e-9 || r.MemoryGiB > freeMemoryGiB + 1e-9) return false;
        if (r.Gpus > 0)
        {
            var k = 0;
            foreach (var f in gpus) if (f == 1000 && ++k == r.Gpus) return true;
            return false;
        }
        if (r.GpuMilli > 0)
        {
            foreach (var f in gpus) if (f >= r.GpuMilli) return true;
            return false;
        }
        return true;
    }

    /// <summary>Whether a request fits a node of this shape when the node is empty.</summary>
    public static bool FitsEmpty(ResourceRequest r, int gpuCount, double vcpus, double memoryGiB) =>
        r.Cpus <= vcpus + 1e-9 && r.MemoryGiB <= memoryGiB + 1e-9
        && (r.Gpus > 0 ? r.Gpus <= gpuCount : r.GpuMilli == 0 || gpuCount > 0);
}
