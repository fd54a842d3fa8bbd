namespace Gureum.Core.Domain;

/// <summary>
/// What one job asks for on each node it runs on. A job uses either <see cref="Gpus"/> whole GPUs
/// or a fraction <see cref="GpuMilli"/> (1..999 milli-GPU) of a single GPU shared with other jobs
/// (openb's <c>gpu_milli</c>), never both. Multi-node jobs ask for <see cref="Nodes"/> identical
/// slices, placed all or nothing (gang).
/// </summary>
public readonly record struct ResourceRequest(int Gpus, int GpuMilli, double Cpus, double MemoryGiB, int Nodes = 1)
{
    /// <summary>Whole GPUs per node, or a fractional share when <see cref="Gpus"/> is 0.</summary>
    public bool IsFractional => Gpus == 0 && GpuMilli > 0;

    /// <summary>GPUs per node in milli-GPU (whole GPUs × 1000, or the fraction).</summary>
    public int MilliGpusPerNode => Gpus * 1000 + GpuMilli;

    /// <summary>GPUs over all nodes as a decimal count (0.5 for a half GPU).</summary>
    public double TotalGpus => MilliGpusPerNode * Nodes / 1000.0;

    /// <summary>The share of one node of <paramref name="offer"/> a slice needs by its binding
    /// resource: max(GPUs ÷ node GPUs, vCPUs ÷ node vCPUs, memory ÷ node memory), the share DESIGN.md's
    /// cost lower bound charges (not clamped: above 1 when the slice does not fit).</summary>
    public double ShareOf(Cloud.Offer offer)
    {
        var gpu = offer.GpuCount > 0 ? MilliGpusPerNode / 1000.0 / offer.GpuCount : 0;
        var cpu = offer.VCpus > 0 ? Cpus / offer.VCpus : 0;
        var mem = offer.MemoryGiB > 0 ? MemoryGiB / offer.MemoryGiB : 0;
        return Math.Max(gpu, Math.Max(cpu, mem));
    }

    /// <summary>
    /// Builds a request from a whole-GPU count and a milli-GPU share as traces carry them:
    /// (1, 460) is 460 milli of one GPU; (1, 1000), (1, 0) and (2, 0) are whole GPUs.
    /// </summary>
    public static ResourceRequest FromTrace(int gpus, int gpuMilli, double cpus, double memoryGiB, int nodes = 1)
    {
        if (gpus < 0) throw new ArgumentOutOfRangeException(nameof(gpus), gpus, "GPU count cannot be negative.");
        if (gpuMilli < 0 || gpuMilli > 1000) throw new ArgumentOutOfRangeException(nameof(gpuMilli), gpuMilli, "gpu_milli must be within 0..1000.");
        if (gpus <= 1 && gpuMilli is > 0 and < 1000) return new ResourceRequest(0, gpuMilli, cpus, memoryGiB, nodes);
        return new ResourceRequest(gpus, 0, cpus, memoryGiB, nodes);
    }
}
