using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>Test data builders for replays.</summary>
internal static class B
{
    public static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Offer Offer(string type, string? gpu, int gpus, decimal onDemand, decimal? spot = null, string zone = "z-a", double vcpus = 8, double mem = 64, int bootS = 120) => new()
    {
        Cloud = "test",
        Region = "r1",
        Zone = zone,
        InstanceType = type,
        GpuModel = gpu,
        GpuCount = gpus,
        VCpus = vcpus,
        MemoryGiB = mem,
        OnDemandPerHour = onDemand,
        SpotPerHour = spot,
        BootDelay = TimeSpan.FromSeconds(bootS),
    };

    public static JobSpec Job(string id, double submitS, double durationS, int gpus = 1, int milli = 0, string lab = "lab-a", int priority = 0,
        double? checkpointS = null, double? limitS = null, int nodes = 1, double cpus = 1, double mem = 4) => new()
    {
        Id = id,
        User = "u-" + lab,
        Lab = lab,
        SubmitTime = T0.AddSeconds(submitS),
        Resources = ResourceRequest.FromTrace(gpus, milli, cpus, mem, nodes),
        Duration = TimeSpan.FromSeconds(durationS),
        Priority = priority,
        CheckpointInterval = checkpointS is { } c ? TimeSpan.FromSeconds(c) : null,
        TimeLimit = limitS is { } l ? TimeSpan.FromSeconds(l) : null,
    };

    public static Node FleetNode(string id, Offer offer) => Node.Create(id, offer, Market.OnDemand, NodeState.Ready, T0, isFixed: true);

    public static Task<ReplayOutcome> Run(string policy, IReadOnlyList<JobSpec> jobs, IReadOnlyList<Offer> offers, IReadOnlyList<Node>? fleet = null,
        ISpotMarket? spot = null, ProfileConfig? profile = null, ReplayOptions? options = null) =>
        ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = PolicyCatalog.Create(policy, profile),
            Jobs = jobs.OrderBy(j => j.SubmitTime).ThenBy(j => j.Id, StringComparer.Ordinal).ToList(),
            Offers = offers,
            FixedFleet = fleet ?? [],
            Spot = spot ?? CalmSpotMarket.Instance,
            Options = options ?? new ReplayOptions(),
        });
}

/// <summary>A spot market scripted by the test: reclaims per zone at given times, prices per zone.</summary>
internal sealed class ScriptedSpotMarket(Dictionary<string, double[]> reclaimSecondsByZone, IReadOnlySet<string>? unavailableZones = null) : ISpotMarket
{
    public bool IsAvailable(Offer offer, DateTimeOffset t) => offer.SpotPerHour is not null && unavailableZones?.Contains(offer.Zone) != true;
    public DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after) =>
        reclaimSecondsByZone.TryGetValue(offer.Zone, out var times)
            ? times.Select(s => B.T0.AddSeconds(s)).Where(t => t > after).Cast<DateTimeOffset?>().FirstOrDefault()
            : null;
    public decimal SpotPrice(Offer offer, DateTimeOffset t) => offer.SpotPerHour!.Value;
    public IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to) => [];
    public Gureum.Core.Planning.SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window) => null; // publishes no records
    public string Describe() => "scripted";
}
