using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Plugins;

/// <summary>
/// Bin-packing: prefer the node that is fullest after placement (GPU share for GPU jobs, CPU share
/// otherwise), so whole nodes stay free for big jobs and idle ones can be released.
/// </summary>
public sealed class BinPackScore : IScorePlugin
{
    public string Name => "binpack";
    public double Score(JobView job, Node node, SchedulingContext ctx) => 100 * Utilization(job, node);

    internal static double Utilization(JobView job, Node node)
    {
        var r = job.Spec.Resources;
        if (r.MilliGpusPerNode > 0 && node.Offer.GpuCount > 0)
        {
            long free = 0;
            foreach (var f in node.GpuFreeMilli) free += f;
            var total = node.Offer.GpuCount * 1000.0;
            return (total - free + r.MilliGpusPerNode) / total;
        }
        return node.Offer.VCpus <= 0 ? 0 : (node.Offer.VCpus - node.FreeCpus + r.Cpus) / node.Offer.VCpus;
    }
}

/// <summary>Spreading: prefer the emptiest node (the opposite of <see cref="BinPackScore"/>).</summary>
public sealed class SpreadScore : IScorePlugin
{
    public string Name => "spread";
    public double Score(JobView job, Node node, SchedulingContext ctx) => 100 * (1 - BinPackScore.Utilization(job, node));
}

/// <summary>Prefer faster GPUs (relative speed over the fastest known model).</summary>
public sealed class FastGpuScore : IScorePlugin
{
    private static readonly double MaxSpeed = GpuModels.Speed.Values.Max();
    public string Name => "fast-gpu";
    public double Score(JobView job, Node node, SchedulingContext ctx) => 100 * GpuModels.SpeedOf(node.Offer.GpuModel) / MaxSpeed;
}
