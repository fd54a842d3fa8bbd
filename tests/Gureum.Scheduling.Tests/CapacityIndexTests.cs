using System.Collections.Immutable;
using CsCheck;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Tests;

/// <summary>The capacity index is an optimisation only: scheduling over it must decide exactly
/// what a scan of every node decides.</summary>
public sealed class CapacityIndexTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Offer[] Offers =
    [
        new() { Cloud = "t", Region = "r", Zone = "z1", InstanceType = "v4", GpuModel = "V100", GpuCount = 4, VCpus = 32, MemoryGiB = 244, OnDemandPerHour = 12m, SpotPerHour = 4m },
        new() { Cloud = "t", Region = "r", Zone = "z2", InstanceType = "a8", GpuModel = "A100", GpuCount = 8, VCpus = 96, MemoryGiB = 1152, OnDemandPerHour = 32m, SpotPerHour = 10m },
        new() { Cloud = "t", Region = "r", Zone = "z1", InstanceType = "c16", GpuCount = 0, VCpus = 16, MemoryGiB = 64, OnDemandPerHour = 0.7m },
    ];

    private static readonly Gen<Node> GenNode =
        Gen.Select(Gen.Int[0, Offers.Length - 1], Gen.Bool, Gen.Int[0, 9], Gen.Int[0, 4].Array[8], Gen.Int[0, 8])
            .Select((o, spot, stateRoll, quarters, cpuUsed) =>
            {
                var offer = Offers[o];
                var node = Node.Create("x", offer, spot && offer.SpotPerHour is not null ? Market.Spot : Market.OnDemand,
                    stateRoll == 0 ? NodeState.Booting : NodeState.Ready, T0);
                // Few distinct levels so shapes repeat (the index groups them).
                var free = quarters.Take(offer.GpuCount).Select(q => q * 250).ToArray();
                return node with { GpuFreeMilli = free, FreeCpus = offer.VCpus - cpuUsed * 2, FreeMemoryGiB = offer.MemoryGiB - cpuUsed * 8 };
            });

    private static readonly Gen<JobSpec> GenJob =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3], Gen.Int[1, 2], Gen.Int[0, 2], Gen.Int[0, 3])
            .Select((gpus, milliQuarter, nodes, pref, zone) => new JobSpec
            {
                Id = "j",
                User = "u",
                Lab = zone % 2 == 0 ? "a" : "b",
                SubmitTime = T0,
                Resources = ResourceRequest.FromTrace(gpus == 5 ? 1 : gpus, gpus == 5 ? 250 * (milliQuarter + 1) % 1000 : 0, 1 + milliQuarter, 4) with { Nodes = gpus == 0 ? 1 : nodes },
                Spot = (SpotPreference)pref,
                Zones = zone == 3 ? ["z2"] : [],
                Duration = TimeSpan.FromMinutes(10 + gpus * 7),
                TimeLimit = TimeSpan.FromMinutes(20 + gpus * 9),
            });

    [Fact]
    public void Schedule_WithCapacityIndex_DecidesAsFullScan()
    {
        Gen.Select(GenNode.List[1, 40], GenJob.List[1, 25], Gen.Int[0, Profiles.All.Count - 1])
            .Sample((nodes, specs, profileIndex) =>
            {
                var (scan, indexed) = Snapshots(nodes, specs);
                var scheduler = new Scheduler(PluginRegistry.Default.Build(Profiles.All[profileIndex]));
                Assert.Equal(Describe(scheduler.Schedule(scan)), Describe(scheduler.Schedule(indexed)));
            }, iter: 400);
    }

    /// <summary>Fleets of a few shapes (so the index is used) and queues long enough that one decision
    /// places many jobs: the nodes it changes are grouped by shape too, and the first unchanged
    /// node of each group moves forward as the decision fills them.</summary>
    private static readonly Gen<Node> GenFewShapes =
        Gen.Select(Gen.Int[0, 1], Gen.Int[0, 7], Gen.Int[0, 2])
            .Select((o, stateRoll, used) =>
            {
                var offer = Offers[o];
                var node = Node.Create("x", offer, Market.OnDemand, stateRoll == 0 ? NodeState.Booting : NodeState.Ready, T0);
                return used == 0 ? node : node with { GpuFreeMilli = node.GpuFreeMilli.Select((f, g) => g < used ? 0 : f).ToArray(), FreeCpus = offer.VCpus - used };
            });

    [Fact]
    public void Schedule_ManyPlacementsInOneDecision_DecidesAsFullScan()
    {
        Gen.Select(GenFewShapes.List[10, 60], GenJob.List[20, 120], Gen.Int[0, Profiles.All.Count - 1])
            .Sample((nodes, specs, profileIndex) =>
            {
                var (scan, indexed) = Snapshots(nodes, specs);
                Assert.NotNull(indexed.Capacity);
                var scheduler = new Scheduler(PluginRegistry.Default.Build(Profiles.All[profileIndex]));
                Assert.Equal(Describe(scheduler.Schedule(scan)), Describe(scheduler.Schedule(indexed)));
            }, iter: 300);
    }

    private static (ClusterSnapshot Scan, ClusterSnapshot Indexed) Snapshots(IEnumerable<Node> nodes, IEnumerable<JobSpec> specs)
    {
        var named = nodes.Select((n, i) => n with { Id = $"n{i:D3}" }).ToArray();
        var capacity = CapacityIndex.Empty;
        for (var i = 0; i < named.Length; i++) capacity = capacity.Update(i, null, null, named[i], out _);
        var pending = specs.Select((s, i) => new JobView
        {
            Seq = i,
            Status = JobStatus.Pending,
            QueuedSince = T0,
            Spec = s with { Id = $"j{i}", SubmitTime = T0.AddSeconds(i) },
        }).ToList();
        var scan = new ClusterSnapshot
        {
            Now = T0.AddHours(1),
            Pending = pending,
            Running = ImmutableSortedDictionary<long, JobView>.Empty,
            Nodes = named,
            Offers = Offers,
            Labs = new Dictionary<string, LabShare>(),
        };
        return (scan, scan with
        {
            NodeIndex = named.Select((n, i) => (n.Id, i)).ToDictionary(p => p.Id, p => p.i),
            Capacity = capacity,
        });
    }

    [Fact]
    public void Update_NodeChanges_MovesItBetweenGroupsAndDropsEmptyOnes()
    {
        var node = Node.Create("n0", Offers[0], Market.OnDemand, NodeState.Ready, T0);
        var index = CapacityIndex.Empty.Update(0, null, null, node, out var shape);
        var busy = node with { GpuFreeMilli = [0, 1000, 1000, 1000] };
        var next = index.Update(0, node, shape, busy, out _);

        Assert.Single(index.Groups);
        Assert.Equal(4, Assert.Single(index.Groups).Key.FreeWholeGpus); // the old value is untouched
        Assert.Equal(3, Assert.Single(next.Groups).Key.FreeWholeGpus);
        Assert.Empty(next.Update(0, busy, null, busy with { State = NodeState.Draining }, out _).Groups);
    }

    [Fact]
    public void UpdateAndOf_BatchOfChanges_SameGroupsAsOneByOne()
    {
        // A fleet, then a run of changes (a node takes a new state, stops being schedulable, or is
        // gone); the store applies them as one batch per snapshot, one change per node from the
        // state indexed to the latest.
        var change = Gen.Select(Gen.Int[0, 29], GenFewShapes, Gen.Int[0, 5]);
        Gen.Select(GenFewShapes.List[1, 30], change.List[0, 80])
            .Sample((fleet, changes) =>
            {
                var nodes = fleet.Select((n, i) => (Node?)(n with { Id = $"n{i:D3}" })).ToArray();
                var shapes = new NodeShape?[nodes.Length];
                var start = CapacityIndex.Empty;
                for (var i = 0; i < nodes.Length; i++) start = start.Update(i, null, null, nodes[i], out shapes[i]);

                var oneByOne = start;
                var batch = new Dictionary<int, NodeChange>();
                foreach (var (pick, next, roll) in changes)
                {
                    var i = pick % nodes.Length;
                    var before = nodes[i];
                    var after = roll == 0 ? null : (roll == 1 ? next with { State = NodeState.Draining } : next) with { Id = $"n{i:D3}" };
                    batch[i] = batch.TryGetValue(i, out var c) ? c with { After = after } : new NodeChange(i, before, shapes[i], after);
                    oneByOne = oneByOne.Update(i, before, shapes[i], after, out shapes[i]);
                    nodes[i] = after;
                }
                var list = batch.Values.ToList();
                var batchShapes = new NodeShape?[list.Count];
                var batched = start.Update(list, batchShapes);

                Assert.Equal(Groups(oneByOne), Groups(batched));
                for (var k = 0; k < list.Count; k++) Assert.Equal(shapes[(int)list[k].Ordinal], batchShapes[k]);
                // Rebuilt from the nodes as they are now (in any order), it holds the same groups.
                var rebuilt = CapacityIndex.Of(nodes.Select((n, i) => (n, i)).Where(p => p.n is { IsSchedulable: true }).Reverse()
                    .Select(p => (new NodeRef(p.i, p.n!.Id), NodeShape.Of(p.n))));
                Assert.Equal(Groups(oneByOne), Groups(rebuilt));
            }, iter: 400);
    }

    private static List<string> Groups(CapacityIndex index) =>
        index.Groups.Select(g => $"{g.Key.Offer.InstanceType} {g.Key.FreeWholeGpus} {g.Key.FreeCpus} {g.Key.GetHashCode()}: {string.Join(",", g.Value.Select(r => $"{r.Ordinal}/{r.Id}"))}")
            .Order(StringComparer.Ordinal).ToList();

    private static string Describe(SchedulingResult r) =>
        string.Join("\n", r.Actions.Select(a => a switch
        {
            StartJob s => $"start {s.JobId} on {string.Join(",", s.Placements.Select(p => $"{p.NodeId}[{string.Join(' ', p.GpuIndices)}]x{p.MilliPerGpu}"))}",
            _ => a.ToString(),
        }).Concat(r.Waiting.Select(w => $"wait {w.Job.Id}: {w.Reason}")));
}
