using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Metrics;

/// <summary>
/// Lower bounds as DESIGN.md defines them. A job's cost bound is the least, over the offers it may
/// use, of hourly price × the share of that node it needs by its binding resource × its run time on
/// that node's GPU (× its node count): perfect packing, no idle, no boot, no preemption. Its JCT
/// bound is its run time on the fastest eligible GPU.
/// </summary>
public sealed class LowerBounds(IReadOnlyList<Offer> offers)
{
    private readonly Dictionary<(ResourceRequest, string, string, string, bool), (double Usd, double Speed)> _memo = [];

    /// <summary>Cost bound in USD for a job, spot prices allowed or on-demand only; null when no offer fits.</summary>
    public double? Cost(JobSpec job, bool allowSpot)
    {
        var (perRefHour, _) = Best(job, allowSpot);
        return double.IsPositiveInfinity(perRefHour) ? null : perRefHour * (job.Duration ?? TimeSpan.Zero).TotalHours;
    }

    /// <summary>JCT bound: run time on the fastest eligible GPU (any market).</summary>
    public TimeSpan? Jct(JobSpec job)
    {
        var d = job.Duration ?? TimeSpan.Zero;
        if (job.Resources.MilliGpusPerNode == 0) return d;
        var (_, speed) = Best(job, allowSpot: true);
        return speed <= 0 ? null : TimeSpan.FromTicks((long)(d.Ticks * GpuModels.SpeedOf(job.ReferenceGpu) / speed));
    }

    /// <summary>(least USD per hour of reference run time, fastest eligible GPU speed).</summary>
    private (double Usd, double Speed) Best(JobSpec job, bool allowSpot)
    {
        var key = (job.Resources, string.Join('|', job.GpuModels), string.Join('|', job.Zones), job.ReferenceGpu + "/" + job.Spot, allowSpot);
        if (_memo.TryGetValue(key, out var v)) return v;
        var best = double.PositiveInfinity;
        var fastest = 0.0;
        var r = job.Resources;
        foreach (var o in offers)
        {
            if (!Autoscaling.Eligibility.ShapeAllows(job, o)) continue;
            var speedFactor = r.MilliGpusPerNode > 0 ? GpuModels.SpeedOf(job.ReferenceGpu) / GpuModels.SpeedOf(o.GpuModel) : 1.0;
            if (r.MilliGpusPerNode > 0) fastest = Math.Max(fastest, GpuModels.SpeedOf(o.GpuModel));
            var share = r.ShareOf(o);
            foreach (var market in allowSpot ? [Market.OnDemand, Market.Spot] : new[] { Market.OnDemand })
            {
                if (job.Spot == SpotPreference.Never && market == Market.Spot) continue;
                if (job.Spot == SpotPreference.Always && market == Market.OnDemand) continue;
                if (o.PricePerHour(market) is not { } price) continue;
                var usd = (double)price * share * speedFactor * r.Nodes;
                if (usd < best) best = usd;
            }
        }
        return _memo[key] = (best, fastest);
    }
}
