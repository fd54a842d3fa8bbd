using System.Collections.Immutable;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Simulation.Tests.Replay;

namespace Gureum.Simulation.Tests.Operator;

/// <summary>What the gureum policy's online models learn from the snapshots they are shown: spot
/// exposure and reclaims, ended and requeued runs, whether or not the store keeps a node index.</summary>
public sealed class OperatorModelsTests
{
    private static readonly Offer SpotV100 = B.Offer("v.1", "V100", 1, 3.00m, 0.90m, zone: "z-a");

    public static TheoryData<bool> WithAndWithoutNodeIndex => new() { true, false };

    private static ClusterSnapshot Snap(double hours, IReadOnlyList<Node> nodes, bool index,
        ImmutableSortedDictionary<long, JobView>? running = null, IReadOnlyList<JobView>? pending = null) => new()
    {
        Now = B.T0.AddHours(hours),
        Pending = pending ?? [],
        Running = running ?? ImmutableSortedDictionary<long, JobView>.Empty,
        Nodes = nodes,
        NodeIndex = index ? nodes.Select((n, i) => (n.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal) : null,
        Offers = [SpotV100],
        Labs = new Dictionary<string, LabShare>(),
    };

    [Theory]
    [MemberData(nameof(WithAndWithoutNodeIndex))]
    public void Observe_SpotNodesOverTime_ExposureIsReadyNodeHours_ReclaimIsALoss_OwnReleaseIsNot(bool index)
    {
        var models = new OperatorModels(spot: new SpotHazardEstimator { HalfLife = null }); // exact sums, no fading
        var s1 = Node.Create("s1", SpotV100, Market.Spot, NodeState.Ready, B.T0);
        var s2 = Node.Create("s2", SpotV100, Market.Spot, NodeState.Ready, B.T0);
        var booting = Node.Create("s3", SpotV100, Market.Spot, NodeState.Booting, B.T0);
        var onDemand = Node.Create("od", SpotV100, Market.OnDemand, NodeState.Ready, B.T0);
        IReadOnlyList<Node> all = [s1, s2, booting, onDemand];

        models.Observe(Snap(0, all, index));
        models.Observe(Snap(1, all, index)); // the same node list: 2 ready spot nodes × 1 h
        Assert.Equal((2.0, 0.0), models.Spot.Stats("z-a", "V100"));

        models.Observe(Snap(2, [s2, booting with { State = NodeState.Ready }, onDemand], index)); // s1 gone: reclaimed
        Assert.Equal((4.0, 1.0), models.Spot.Stats("z-a", "V100"));

        models.ReleasedByPolicy("s2");
        models.Observe(Snap(3, [booting with { State = NodeState.Ready }, onDemand], index)); // s2 released by the policy
        Assert.Equal((6.0, 1.0), models.Spot.Stats("z-a", "V100"));
        Assert.Equal(1, models.SpotLossesObserved);
    }

    [Fact]
    public void SpotHazard_AMassReclaimFades_TheZoneIsAcceptableAgainAfterDays_WithoutFadingNever()
    {
        // 1,000 nodes lost 3 minutes after they booted in z-a; z-b held 1,000 node-hours without a loss.
        // A service (30-s restart) accepts spot while hazard × 30 s ≤ 10% of its time: under 12 losses an hour.
        static SpotHazardEstimator Seen(TimeSpan? halfLife)
        {
            var e = new SpotHazardEstimator { HalfLife = halfLife };
            e.Advance(B.T0);
            e.AddExposure("z-b", "V100", 1000);
            e.AddExposure("z-a", "V100", 0.05, nodes: 1000);
            for (var i = 0; i < 1000; i++) e.AddLoss("z-a", "V100");
            return e;
        }
        var fading = Seen(TimeSpan.FromHours(24));
        var keeping = Seen(null);
        Assert.True(fading.Hazard("z-a", "V100") > 12 && keeping.Hazard("z-a", "V100") > 12);

        var before = fading.Hazard("z-a", "V100");
        var revision = fading.Revision;
        fading.Advance(B.T0.AddDays(1));
        Assert.True(fading.Revision > revision, "fading must invalidate what callers keep");
        Assert.True(fading.Hazard("z-a", "V100") < before);
        Assert.Equal(500, fading.Stats("z-a", "V100").Losses, 6); // half after one half-life
        fading.Advance(B.T0.AddDays(3));
        Assert.True(fading.Hazard("z-a", "V100") < 12, $"after 3 days: {fading.Hazard("z-a", "V100")}");
        fading.Advance(B.T0.AddDays(2)); // time does not go back: nothing changes
        Assert.Equal(125, fading.Stats("z-a", "V100").Losses, 6);

        keeping.Advance(B.T0.AddDays(30));
        Assert.Equal(before, keeping.Hazard("z-a", "V100"), 9);
    }

    [Fact]
    public void Observe_PublishedSpotRecords_SetEachMarketsPrior_CappedAtAMonth_OwnLossesStillCount()
    {
        // Nothing seen yet: both markets sit at the pooled prior (one loss per 12 h).
        var models = new OperatorModels(spot: new SpotHazardEstimator { HalfLife = null });
        models.Observe(Snap(0, [], index: false));
        Assert.Equal(1 / 12.0, models.Spot.Hazard("z-a", "V100"), 9);
        Assert.Equal(1 / 12.0, models.Spot.Hazard("z-b", "V100"), 9);

        // z-a's record: 1,440 h up without a reclaim; z-b's: 100 h up, 10 reclaims.
        var history = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, SpotHistory>
        {
            [SpotSignals.Key("z-a", "V100")] = new(1440, 0, TimeSpan.FromDays(60)),
            [SpotSignals.Key("z-b", "V100")] = new(100, 10, TimeSpan.FromDays(30)),
        });
        var withRecords = Snap(1, [], index: false) with { Spot = SpotSignals.Empty with { History = history } };
        models.Observe(withRecords);
        Assert.Equal(1.0 / (720 + 12), models.Spot.Hazard("z-a", "V100"), 9); // 1,440 h weigh as 720 h
        Assert.Equal((10 + 1) / (100.0 + 12), models.Spot.Hazard("z-b", "V100"), 9); // under the cap: as published
        Assert.Equal(1 / 12.0, models.Spot.Hazard("z-c", "V100"), 9); // no record: the pooled prior

        // A loss of its own in z-a still raises it.
        var n = Node.Create("s1", SpotV100, Market.Spot, NodeState.Ready, B.T0);
        models.Observe(Snap(2, [n], index: false) with { Spot = withRecords.Spot });
        models.Observe(Snap(3, [], index: false) with { Spot = withRecords.Spot });
        Assert.True(models.Spot.Hazard("z-a", "V100") > 1.0 / 720, $"{models.Spot.Hazard("z-a", "V100")}");
    }

    [Theory]
    [MemberData(nameof(WithAndWithoutNodeIndex))]
    public void Observe_RunsEndOrAreRequeued_OnlyEndedRunsAreLearned_ARequeuedRunIsAFloorOnItsLength(bool index)
    {
        var learned = new Recorder();
        var models = new OperatorModels(learned);
        var node = Node.Create("n", SpotV100, Market.OnDemand, NodeState.Ready, B.T0);
        IReadOnlyList<Node> nodes = [node];
        JobView Running(string id, long seq) => new()
        {
            Seq = seq, Spec = B.Job(id, 0, 3600), Status = JobStatus.Running, QueuedSince = B.T0,
            RunStartedAt = B.T0, Attempts = 1, Placements = [new Placement("n", [0], 1000, 1, 4)],
        };
        var a = Running("a", 1);
        var b = Running("b", 2);
        var both = ImmutableSortedDictionary<long, JobView>.Empty.Add(1, a).Add(2, b);

        models.Observe(Snap(0, nodes, index, both));
        models.Observe(Snap(1, nodes, index, both)); // nothing changed
        Assert.Equal(0, models.EndedObserved);

        // At 2 h, a has ended and b is back in the queue (its node was lost).
        var requeued = b with { Status = JobStatus.Pending, RunStartedAt = null, Placements = [] };
        models.Observe(Snap(2, nodes, index, ImmutableSortedDictionary<long, JobView>.Empty, [requeued]));
        Assert.Equal(1, models.EndedObserved);
        Assert.Equal([("a", 2 * 3600.0)], learned.Seen); // ran 2 h on a V100, the reference GPU
        // b ran 2 h on the reference GPU: it is at least that long, and guessed as long again.
        Assert.True(models.PredictRemainingSeconds(requeued, B.T0.AddHours(2)).Estimate >= 4 * 3600);
        Assert.True(models.PredictRemainingSeconds(requeued, B.T0.AddHours(2)).Low >= 2 * 3600);
    }

    /// <summary>Records what it is taught; predicts an hour.</summary>
    private sealed class Recorder : Gureum.Prediction.IDurationPredictor
    {
        public List<(string Id, double Seconds)> Seen { get; } = [];
        public string Name => "recorder";
        public string Version => "1";
        public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt) => Seen.Add((spec.Id, actual.TotalSeconds));
        public Gureum.Prediction.Interval PredictSeconds(JobSpec spec, DateTimeOffset now) => new(3600, 1800, 7200);
    }
}
