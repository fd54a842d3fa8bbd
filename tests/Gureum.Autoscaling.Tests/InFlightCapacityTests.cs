using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling.Tests;

public sealed class InFlightCapacityTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Offer Offer(string id, int gpus, double cpus, double memory) => new()
    {
        Cloud = "t", Region = "r", Zone = "z", InstanceType = id, GpuModel = gpus > 0 ? "A100" : null, GpuCount = gpus,
        VCpus = cpus, MemoryGiB = memory, OnDemandPerHour = 1m + gpus, SpotPerHour = 0.5m + gpus,
    };

    /// <summary>The reference: a scan of every node in order, the first allowed one that fits.</summary>
    private static int NaiveFirstFit(List<Node> nodes, ResourceRequest r, Func<Offer, Market, bool> allows, Func<Node, bool> mayPackOnto)
    {
        for (var i = 0; i < nodes.Count; i++)
            if (allows(nodes[i].Offer, nodes[i].Market) && mayPackOnto(nodes[i]) && Fit.Slice(r, nodes[i]) is not null) return i;
        return -1;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void TryPack_RandomJobsAndNodes_ChoosesTheSameNodeAsAFullScan(int seed)
    {
        var rng = new Random(seed);
        Offer[] offers = [Offer("g1", 1, 8, 32), Offer("g4", 4, 32, 128), Offer("g8", 8, 96, 768), Offer("cpu", 0, 16, 64)];
        ResourceRequest[] shapes =
        [
            ResourceRequest.FromTrace(1, 0, 4, 16), ResourceRequest.FromTrace(2, 0, 8, 32), ResourceRequest.FromTrace(4, 0, 16, 64),
            ResourceRequest.FromTrace(0, 500, 2, 8), ResourceRequest.FromTrace(0, 250, 1, 4), ResourceRequest.FromTrace(0, 0, 4, 8),
            ResourceRequest.FromTrace(8, 0, 90, 700),
        ];
        var capacity = new InFlightCapacity();
        var reference = new List<Node>();
        void Add(Node n) { capacity.Add(n); reference.Add(n); }
        for (var i = 0; i < 40; i++)
            Add(Node.Create($"n{i}", offers[rng.Next(offers.Length)], rng.Next(2) == 0 ? Market.Spot : Market.OnDemand, NodeState.Requested, T0));

        var packed = 0;
        for (var step = 0; step < 3000; step++)
        {
            var r = shapes[rng.Next(shapes.Length)];
            var noSpot = rng.Next(3) == 0;
            var avoid = $"n{rng.Next(60)}"; // a policy that refuses one node (per job)
            bool Allows(Offer o, Market m) => !(noSpot && m == Market.Spot);
            bool MayPackOnto(Node n) => n.Id != avoid;

            var expected = NaiveFirstFit(reference, r, Allows, MayPackOnto);
            Assert.Equal(expected >= 0, capacity.TryPack(r, Allows, MayPackOnto, out var index));
            Assert.Equal(expected, index);
            if (expected >= 0)
            {
                reference[expected] = NodeAccounting.Allocate(reference[expected], Fit.Slice(r, reference[expected])!);
                packed++;
            }
            // A different choice leaves a different node filled for good, so checking every few steps suffices.
            if (step % 20 == 0) Assert.Equal(reference.Select(Describe), Snapshot(capacity));
            if (rng.Next(25) == 0) // capacity bought mid-decision joins at the end
                Add(Node.Create($"n{reference.Count}", offers[rng.Next(offers.Length)], Market.OnDemand, NodeState.Requested, T0));
        }
        Assert.Equal(reference.Select(Describe), Snapshot(capacity));
        Assert.InRange(packed, 100, 2999); // the run exercised both outcomes
    }

    private static string Describe(Node n) => $"{n.Id}:{string.Join(',', n.GpuFreeMilli)}:{n.FreeCpus}:{n.FreeMemoryGiB}";

    private static List<string> Snapshot(InFlightCapacity c) => Enumerable.Range(0, c.Count).Select(i => Describe(c.Packed(i))).ToList();
}
