namespace Gureum.Core.Cloud;

/// <summary>Which price a node pays.</summary>
public enum Market
{
    OnDemand,
    Spot,
}

/// <summary>
/// One purchasable node shape in one zone, with its prices: the stateless "what is offered and at
/// what price" (SkyPilot's catalog), apart from getting a node (<see cref="Control.INodeProvisioner"/>).
/// </summary>
public sealed record Offer
{
    // Id is read on every node change, bill and event: built when its parts are set (also by
    // `with`), not on every read. A function of the three parts, so equality is unchanged.
    private string _id = "";

    /// <summary>Stable id: <c>cloud/zone/instance-type</c>.</summary>
    public string Id => _id;
    public required string Cloud { get; init { field = value; _id = $"{value}/{Zone}/{InstanceType}"; } }
    public required string Region { get; init; }
    /// <summary>Zone, or the region where a cloud prices per region (Azure, Lambda).</summary>
    public required string Zone { get; init { field = value; _id = $"{Cloud}/{value}/{InstanceType}"; } }
    public required string InstanceType { get; init { field = value; _id = $"{Cloud}/{Zone}/{value}"; } }
    /// <summary>Canonical GPU model (<see cref="Domain.GpuModels"/>), null for CPU-only offers.</summary>
    public string? GpuModel { get; init; }
    public int GpuCount { get; init; }
    public double GpuMemoryGiB { get; init; }
    public required double VCpus { get; init; }
    public required double MemoryGiB { get; init; }
    /// <summary>On-demand USD per node-hour; null when the cloud publishes none.</summary>
    public decimal? OnDemandPerHour { get; init; }
    /// <summary>Spot USD per node-hour; null when no spot market is offered.</summary>
    public decimal? SpotPerHour { get; init; }
    /// <summary>Time from request to ready. Defaults per cloud are documented in the catalog loader.</summary>
    public TimeSpan BootDelay { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Most nodes of this offer that can be held at once (null = unlimited).</summary>
    public int? CapacityLimit { get; init; }

    /// <summary>Price per node-hour in a market, or null if the offer is not sold there.</summary>
    public decimal? PricePerHour(Market market) => market == Market.Spot ? SpotPerHour : OnDemandPerHour;
}
