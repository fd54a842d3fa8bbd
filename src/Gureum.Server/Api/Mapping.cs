using Gureum.Contracts.Api;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Server.Api;

/// <summary>Domain → API records. One place, no mapper framework.</summary>
internal static class Mapping
{
    public static NodeDto ToDto(this Node n) => new()
    {
        Id = n.Id,
        Offer = n.Offer.Id,
        InstanceType = n.Offer.InstanceType,
        Zone = n.Offer.Zone,
        Market = n.Market.ToString(),
        State = n.State.ToString(),
        GpuModel = n.Offer.GpuModel,
        Gpus = n.Offer.GpuCount,
        FreeGpus = n.GpuFreeMilli.Sum() / 1000.0,
        Cpus = n.Offer.VCpus,
        FreeCpus = n.FreeCpus,
        MemoryGiB = n.Offer.MemoryGiB,
        FreeMemoryGiB = n.FreeMemoryGiB,
        RunningJobs = n.RunningJobs,
        RequestedAt = n.RequestedAt,
        ReadyAt = n.ReadyAt,
        PricePerHour = n.Offer.PricePerHour(n.Market),
    };

    public static OfferDto ToDto(this Offer o) => new()
    {
        Id = o.Id,
        Cloud = o.Cloud,
        Region = o.Region,
        Zone = o.Zone,
        InstanceType = o.InstanceType,
        GpuModel = o.GpuModel,
        GpuCount = o.GpuCount,
        VCpus = o.VCpus,
        MemoryGiB = o.MemoryGiB,
        OnDemandPerHour = o.OnDemandPerHour,
        SpotPerHour = o.SpotPerHour,
    };
}
