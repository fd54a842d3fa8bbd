using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Plugins;

/// <summary>The node's GPU model must be one the job allows (jobs without GPUs run anywhere).</summary>
public sealed class GpuModelFilter : IFilterPlugin
{
    public string Name => "gpu-model";

    public Status Filter(JobView job, Node node, SchedulingContext ctx)
    {
        var r = job.Spec.Resources;
        if (r.MilliGpusPerNode == 0) return Status.Ok;
        if (node.Offer.GpuCount == 0) return Status.Never("node has no GPU");
        var allowed = job.Spec.GpuModels;
        if (allowed.Count == 0) return Status.Ok;
        foreach (var m in allowed)
            if (string.Equals(m, node.Offer.GpuModel, StringComparison.OrdinalIgnoreCase)) return Status.Ok;
        return Status.Never($"node GPU {node.Offer.GpuModel} not in {string.Join('|', allowed)}");
    }
}

/// <summary>Respects the job's spot preference: <c>never</c> jobs avoid spot nodes, <c>always</c> jobs avoid on-demand.</summary>
public sealed class MarketFilter : IFilterPlugin
{
    public string Name => "market";

    public Status Filter(JobView job, Node node, SchedulingContext ctx) => (job.Spec.Spot, node.Market) switch
    {
        (SpotPreference.Never, Market.Spot) => Status.Never("job refuses spot"),
        (SpotPreference.Always, Market.OnDemand) => Status.Never("job wants spot only"),
        _ => Status.Ok,
    };
}

/// <summary>The node must be in one of the job's zones, when it names any.</summary>
public sealed class ZoneFilter : IFilterPlugin
{
    public string Name => "zone";

    public Status Filter(JobView job, Node node, SchedulingContext ctx)
    {
        var zones = job.Spec.Zones;
        if (zones.Count == 0) return Status.Ok;
        foreach (var z in zones)
            if (string.Equals(z, node.Offer.Zone, StringComparison.OrdinalIgnoreCase) || string.Equals(z, node.Offer.Region, StringComparison.OrdinalIgnoreCase))
                return Status.Ok;
        return Status.Never($"zone {node.Offer.Zone} not allowed");
    }
}

/// <summary>CPU-only jobs keep off GPU nodes when the fleet has CPU nodes, so GPUs are not
/// stranded behind their CPUs (optional plugin).</summary>
public sealed class GpuNodeReservedFilter : IFilterPlugin
{
    public string Name => "gpu-for-gpu-jobs";

    public Status Filter(JobView job, Node node, SchedulingContext ctx) =>
        job.Spec.Resources.MilliGpusPerNode == 0 && node.Offer.GpuCount > 0 ? Status.No("GPU nodes are kept for GPU jobs") : Status.Ok;
}

/// <summary>
/// A job that has already started <see cref="MaxRuns"/> times keeps off spot nodes (SkyPilot-style
/// fallback to on-demand after repeated spot losses), unless it wants spot only.
/// </summary>
public sealed class SpotRetryLimitFilter(int maxRuns = SpotRetryLimitFilter.DefaultMaxRuns) : IFilterPlugin
{
    /// <summary>Default number of runs after which spot is avoided: 2.</summary>
    public const int DefaultMaxRuns = 2;

    public string Name => "spot-retry-limit";
    public int MaxRuns => maxRuns;

    public Status Filter(JobView job, Node node, SchedulingContext ctx) =>
        node.Market == Market.Spot && job.Spec.Spot != SpotPreference.Always && job.Attempts >= maxRuns
            ? Status.Never($"lost {job.Attempts} runs already: on-demand only")
            : Status.Ok;
}
