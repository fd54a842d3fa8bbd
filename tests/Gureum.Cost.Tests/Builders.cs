using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Replay;

namespace Gureum.Cost.Tests;

/// <summary>Test data builders.</summary>
internal static class B
{
    public static readonly DateTimeOffset T0 = new(2024, 1, 1, 22, 0, 0, TimeSpan.Zero);

    public static Offer Offer(string type, string? gpu, int gpus, decimal onDemand, decimal? spot = null, string zone = "z-a", double vcpus = 8, double mem = 64, int bootS = 120) => new()
    {
        Cloud = "test", Region = "r1", Zone = zone, InstanceType = type, GpuModel = gpu, GpuCount = gpus, VCpus = vcpus, MemoryGiB = mem,
        OnDemandPerHour = onDemand, SpotPerHour = spot, BootDelay = TimeSpan.FromSeconds(bootS),
    };

    public static JobSpec Job(string id, double submitS, double durationS, int gpus = 1, int milli = 0, string lab = "lab-a", int nodes = 1, double cpus = 1, double mem = 4,
        string project = "p", double? checkpointS = null) => new()
    {
        Id = id, User = "u-" + lab, Lab = lab, Project = project, SubmitTime = T0.AddSeconds(submitS),
        Resources = ResourceRequest.FromTrace(gpus, milli, cpus, mem, nodes), Duration = TimeSpan.FromSeconds(durationS),
        CheckpointInterval = checkpointS is { } c ? TimeSpan.FromSeconds(c) : null,
    };

    public static Node FleetNode(string id, Offer offer) => Node.Create(id, offer, Market.OnDemand, NodeState.Ready, T0, isFixed: true);

    public static Task<ReplayOutcome> Run(string policy, IReadOnlyList<JobSpec> jobs, IReadOnlyList<Offer> offers, IReadOnlyList<Node>? fleet = null, ISpotMarket? spot = null) =>
        ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = PolicyCatalog.Create(policy),
            Jobs = jobs.OrderBy(j => j.SubmitTime).ThenBy(j => j.Id, StringComparer.Ordinal).ToList(),
            Offers = offers,
            FixedFleet = fleet ?? [],
            Spot = spot ?? CalmSpotMarket.Instance,
        });
}

/// <summary>A spot market with scripted reclaims (zone z-a) and a price that changes every hour.</summary>
internal sealed class HourlySpotMarket(double[] reclaimSeconds) : ISpotMarket
{
    public bool IsAvailable(Offer offer, DateTimeOffset t) => offer.SpotPerHour is not null;
    public DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after) =>
        offer.Zone == "z-a" ? reclaimSeconds.Order().Select(s => B.T0.AddSeconds(s)).Where(t => t > after).Cast<DateTimeOffset?>().FirstOrDefault() : null;
    public decimal SpotPrice(Offer offer, DateTimeOffset t) => offer.SpotPerHour!.Value * (1 + 0.1m * (int)((t - B.T0).TotalHours % 3));
    public IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to)
    {
        var list = new List<(DateTimeOffset, decimal)>();
        for (var h = Math.Floor((from - B.T0).TotalHours) + 1; B.T0.AddHours(h) < to; h++) list.Add((B.T0.AddHours(h), SpotPrice(offer, B.T0.AddHours(h))));
        return list;
    }
    public Gureum.Core.Planning.SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window) => null; // publishes no records
    public string Describe() => "hourly";
}
