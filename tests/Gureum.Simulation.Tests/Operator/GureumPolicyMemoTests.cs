using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Reports;
using Gureum.Simulation.Tests.Replay;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Operator;

/// <summary>The gureum policy's memos (GureumPolicy.Memo.cs) must not change a decision.</summary>
public sealed class GureumPolicyMemoTests
{
    private static readonly Offer V100A = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
    private static readonly Offer V100B = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 2.00m, zone: "z-b");

    private static ClusterSnapshot Snapshot(IReadOnlyList<Offer> offers, SpotSignals? spot = null, double atS = 0) => new()
    {
        Now = B.T0.AddSeconds(atS), Pending = [], Running = System.Collections.Immutable.ImmutableSortedDictionary<long, JobView>.Empty, Nodes = [],
        Offers = offers, Labs = new Dictionary<string, LabShare>(), Spot = spot ?? SpotSignals.Empty,
    };

    private static JobView View(JobSpec spec) => new() { Seq = 1, Spec = spec, Status = JobStatus.Pending, QueuedSince = B.T0 };

    private static (Offer, Market)? Pick(GureumPolicy p, JobView job, ClusterSnapshot s) =>
        p.Best(job, s, null, out _) is { } e ? (e.Offer, e.Market) : null;

    [Fact]
    public void Best_HazardLearnedBetweenCalls_AnswerFollowsTheNewHazard()
    {
        var policy = new GureumPolicy();
        var job = View(B.Job("s", 0, 20 * 3600) with { Kind = JobKind.Service });
        IReadOnlyList<Offer> offers = [V100A, V100B];
        var snapshot = Snapshot(offers);
        Assert.Equal((V100A, Market.Spot), Pick(policy, job, snapshot));
        // Same offers and snapshot; z-a's spot is now lost every few minutes of exposure.
        policy.Models.Spot.AddExposure("z-a", "V100", 1);
        for (var i = 0; i < 200; i++) policy.Models.Spot.AddLoss("z-a", "V100");
        var fresh = new GureumPolicy(models: policy.Models) { UseMemos = false };
        var after = Pick(policy, job, snapshot);
        Assert.Equal(Pick(fresh, job, snapshot), after);
        Assert.NotEqual((V100A, Market.Spot), after);
    }

    [Fact]
    public void Best_SpotTroubleAtTheSameInstant_ZoneInCooldownIsNotChosen()
    {
        var policy = new GureumPolicy();
        var job = View(B.Job("s", 0, 20 * 3600) with { Kind = JobKind.Service });
        IReadOnlyList<Offer> offers = [V100A, V100B];
        Assert.Equal((V100A, Market.Spot), Pick(policy, job, Snapshot(offers, atS: 600)));
        var trouble = new SpotSignals(SpotSignals.Empty.LastTroubleByZoneModel.SetItem(SpotSignals.Key("z-a", "V100"), B.T0));
        Assert.Equal((V100B, Market.Spot), Pick(policy, job, Snapshot(offers, trouble, atS: 600)));
        // After the cooldown the cheap zone is back.
        Assert.Equal((V100A, Market.Spot), Pick(policy, job, Snapshot(offers, trouble, atS: 3600)));
    }

    [Fact]
    public void Best_NewOfferList_CandidatesComeFromIt()
    {
        var policy = new GureumPolicy();
        var job = View(B.Job("s", 0, 20 * 3600) with { Kind = JobKind.Service });
        Assert.Equal((V100B, Market.Spot), Pick(policy, job, Snapshot([V100B])));
        Assert.Equal((V100A, Market.Spot), Pick(policy, job, Snapshot([V100B, V100A])));
    }

    [Fact]
    public async Task Replay_MemosOnAndOff_SameScheduleByteForByte()
    {
        // A mix that reaches every memo: services (re-placed every 10 min), CPU-only jobs (the price
        // cap's cheapest fit), GPU-model and zone constraints, checkpoints, and spot reclaims that put
        // zones in cooldown and teach the hazard model.
        var offers = new List<Offer>
        {
            V100A, V100B,
            B.Offer("p3.8xlarge", "V100", 4, 12.24m, spot: 3.70m, zone: "z-a", vcpus: 32, mem: 244),
            B.Offer("g4dn.xlarge", "T4", 1, 0.53m, spot: 0.16m, zone: "z-b", vcpus: 4, mem: 16),
            B.Offer("p4d.24xlarge", "A100", 8, 32.77m, spot: 9.80m, zone: "z-c", vcpus: 96, mem: 1152),
            B.Offer("a2-highgpu-1g", "A100", 1, 3.67m, spot: 1.10m, zone: "z-c", vcpus: 12, mem: 85),
            B.Offer("a2-highgpu-1g", "A100", 1, 3.67m, spot: 1.40m, zone: "z-d", vcpus: 12, mem: 85),
            B.Offer("c5.4xlarge", null, 0, 0.68m, spot: 0.25m, zone: "z-a", vcpus: 16, mem: 32),
            B.Offer("c5.4xlarge", null, 0, 0.68m, spot: 0.30m, zone: "z-d", vcpus: 16, mem: 32),
        };
        var generated = TraceGenerator.Generate(new TraceGeneratorOptions
        {
            Jobs = 300, Seed = 7, Epoch = B.T0, RatePerHour = 40, MedianDurationSeconds = 1800, ServiceShare = 0.2,
            CheckpointShare = 0.3, GpuModelConstraintShare = 0.2, GpuMix = "0:0.2,0.5:0.2,1:0.4,2:0.1,4:0.1",
        }).ToList();
        var longServices = Enumerable.Range(0, 4).Select(i => B.Job($"svc{i}", i * 60, 12 * 3600) with { Kind = JobKind.Service, Zones = i % 2 == 0 ? ["z-a", "z-b"] : [] });
        var jobs = generated.Concat(longServices).OrderBy(j => j.SubmitTime).ThenBy(j => j.Id, StringComparer.Ordinal).ToList();
        var spot = new ScriptedSpotMarket(new()
        {
            ["z-a"] = [1800, 9000, 20_000],
            ["z-c"] = Enumerable.Range(1, 20).Select(i => i * 2700.0).ToArray(),
        });

        async Task<(ReplayOutcome Outcome, string Dir)> Run(bool memos)
        {
            var policy = new GureumPolicy { UseMemos = memos };
            var o = await ReplayEngine.RunAsync(new ReplaySetup
            {
                Core = PolicyCatalog.CreateGureumWith(policy), Jobs = jobs, Offers = offers, FixedFleet = [], Spot = spot,
                Options = new ReplayOptions { KeepEvents = true },
            });
            var dir = Path.Combine(Path.GetTempPath(), $"gureum-memo-{Guid.NewGuid():N}", memos ? "on" : "off");
            ReplayReport.WriteSchedule(dir, o);
            return (o, dir);
        }

        var (on, onDir) = await Run(true);
        var (_, offDir) = await Run(false);
        try
        {
            foreach (var f in new[] { "jobs", "nodes", "events" })
                Assert.Equal(File.ReadAllText(Path.Combine(offDir, $"gureum.{f}.csv")), File.ReadAllText(Path.Combine(onDir, $"gureum.{f}.csv")));
            // The case exercises what the memos serve: losses, service moves and CPU-only jobs.
            Assert.Contains(on.Events, e => e.Kind == Core.Control.EventKind.NodeLost);
            Assert.Contains(on.Events, e => e.Message.Contains("moves to cheaper capacity", StringComparison.Ordinal));
            Assert.Contains(on.Jobs, j => j.Spec.Resources.MilliGpusPerNode == 0);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(onDir)!, true);
            Directory.Delete(Path.GetDirectoryName(offDir)!, true);
        }
    }
}
