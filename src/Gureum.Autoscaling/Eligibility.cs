using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling;

/// <summary>Whether a job may use an offer in a market at all (shape, GPU model, zone, spot preference).</summary>
public static class Eligibility
{
    public static bool Allows(JobSpec job, Offer offer, Market market)
    {
        if (offer.PricePerHour(market) is null) return false;
        if (job.Spot == SpotPreference.Never && market == Market.Spot) return false;
        if (job.Spot == SpotPreference.Always && market == Market.OnDemand) return false;
        return ShapeAllows(job, offer);
    }

    /// <summary>Market-free part: the job fits the offer's shape when empty, on an allowed GPU model, in an allowed zone.</summary>
    public static bool ShapeAllows(JobSpec job, Offer offer)
    {
        var r = job.Resources;
        if (!Fit.FitsEmpty(r, offer.GpuCount, offer.VCpus, offer.MemoryGiB)) return false;
        if (r.MilliGpusPerNode > 0 && job.GpuModels.Count > 0 && !job.GpuModels.Contains(offer.GpuModel ?? "", StringComparer.OrdinalIgnoreCase)) return false;
        return job.Zones.Count == 0 || job.Zones.Any(z => string.Equals(z, offer.Zone, StringComparison.OrdinalIgnoreCase) || string.Equals(z, offer.Region, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Whether the node could hold the job when empty.</summary>
    public static bool Allows(JobSpec job, Node node) =>
        Allows(job, node.Offer, node.Market) || (node.Fixed && AllowsFixed(job, node));

    // Fixed fleet nodes may carry no market price in the catalog sense; judge the shape only.
    private static bool AllowsFixed(JobSpec job, Node node)
    {
        var r = job.Resources;
        if (!Fit.FitsEmpty(r, node.Offer.GpuCount, node.Offer.VCpus, node.Offer.MemoryGiB)) return false;
        if (r.MilliGpusPerNode > 0 && job.GpuModels.Count > 0 && !job.GpuModels.Contains(node.Offer.GpuModel ?? "", StringComparer.OrdinalIgnoreCase)) return false;
        return job.Spot != SpotPreference.Always || node.Market == Market.Spot;
    }
}
