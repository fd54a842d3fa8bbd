using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Autoscaling.Operator;

/// <summary>What running one job on a new node of an offer in a market is expected to cost and take.</summary>
/// <param name="Offer">The offer.</param>
/// <param name="Market">Spot or on-demand.</param>
/// <param name="Speed">GPU speed relative to the job's reference GPU.</param>
/// <param name="WallHours">Run time on this GPU without losses.</param>
/// <param name="ExpectedHours">Run time including expected work lost to spot reclaims and restarts.</param>
/// <param name="Occupants">Jobs expected to share the node (1 = the job pays the whole node).</param>
/// <param name="ExpectedUsd">Expected cost charged to the job: node price × (boot + expected hours) / occupants.</param>
/// <param name="Survival">Probability a spot node survives the run (1 on demand).</param>
public readonly record struct OfferEstimate(Offer Offer, Market Market, double Speed, double WallHours, double ExpectedHours, double Occupants, double ExpectedUsd, double Survival)
{
    /// <summary>Expected slowdown from losses: expected ÷ loss-free time − 1.</summary>
    public double LossOverhead => WallHours > 0 ? ExpectedHours / WallHours - 1 : 0;

    public override string ToString() =>
        $"{Offer.Id} {Market} ({Offer.GpuModel ?? "cpu"} {Speed:0.##}× ref): ~${ExpectedUsd:0.###} over {ExpectedHours:0.##} h, sharing with {Occupants - 1:0} job(s), survival {Survival:P0}";
}

/// <summary>
/// Expected cost of a job per offer and market: price per unit of work (price ÷ GPU speed) ×
/// expected time including work lost to preemptions, shared by the jobs expected on the node.
/// Lost work on spot with loss hazard λ per hour: a job that does not checkpoint restarts from zero,
/// so a run of length T takes (e^{λT} − 1)/λ in expectation; one that checkpoints every c loses
/// about c/2 plus the restart overhead per loss, so T·(1 + λ(c/2 + overhead)); a service
/// (<see cref="JobKind.Service"/>) loses only the restart overhead, T·(1 + λ·overhead).
/// </summary>
public static class CostModel
{
    /// <summary>Cap on λT in the restart-from-zero formula (beyond it a spot run is hopeless anyway).</summary>
    private const double MaxExponent = 30;

    /// <summary>How many copies of a job's slice fit on an empty node of the offer.</summary>
    public static int CopiesThatFit(ResourceRequest r, Offer o)
    {
        var byGpu = r.Gpus > 0 ? o.GpuCount / r.Gpus : r.GpuMilli > 0 ? o.GpuCount * (1000 / r.GpuMilli) : int.MaxValue;
        var byCpu = r.Cpus > 0 ? (int)Math.Floor(o.VCpus / r.Cpus + 1e-9) : int.MaxValue;
        var byMem = r.MemoryGiB > 0 ? (int)Math.Floor(o.MemoryGiB / r.MemoryGiB + 1e-9) : int.MaxValue;
        var k = Math.Min(byGpu, Math.Min(byCpu, byMem));
        return k == int.MaxValue ? 64 : Math.Max(1, k);
    }

    /// <summary>How much faster than on its reference GPU a job runs on the offer's GPU (1 for a job
    /// that needs no GPU): its run time there is the reference run time ÷ this.</summary>
    public static double Speed(JobSpec job, Offer offer) =>
        job.Resources.MilliGpusPerNode > 0 ? GpuModels.SpeedOf(offer.GpuModel) / GpuModels.SpeedOf(job.ReferenceGpu) : 1.0;

    /// <summary>Estimate for one offer and market. <paramref name="hazardPerHour"/> is ignored on demand.</summary>
    public static OfferEstimate Estimate(JobSpec job, double remainingRefSeconds, Offer offer, Market market, double hazardPerHour, int othersWaiting, TimeSpan restartOverhead)
    {
        var price = (double)(offer.PricePerHour(market) ?? 0);
        var speed = Speed(job, offer);
        var wall = remainingRefSeconds / 3600 / speed;
        double expected = wall, survival = 1;
        if (market == Market.Spot)
        {
            var lambda = hazardPerHour;
            survival = Math.Exp(-lambda * wall);
            expected = job.Kind == JobKind.Service ? wall * (1 + lambda * restartOverhead.TotalHours)
                : job.IsCheckpointable ? wall * (1 + lambda * (job.CheckpointInterval!.Value.TotalHours / 2 + restartOverhead.TotalHours))
                : (Math.Exp(Math.Min(lambda * wall, MaxExponent)) - 1) / Math.Max(lambda, 1e-12);
        }
        var occupants = Math.Min(CopiesThatFit(job.Resources, offer), 1 + Math.Max(0, othersWaiting));
        var usd = price * (offer.BootDelay.TotalHours + expected) / occupants * job.Resources.Nodes;
        return new OfferEstimate(offer, market, speed, wall, expected, occupants, usd, survival);
    }
}
