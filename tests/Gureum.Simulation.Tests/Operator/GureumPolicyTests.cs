using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Operator;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Tests.Replay;

namespace Gureum.Simulation.Tests.Operator;

public sealed class GureumPolicyTests
{
    private static readonly Offer Slow = B.Offer("slow.1", "T4", 1, 0.30m, 0.10m, zone: "z-a");
    private static readonly Offer Fast = B.Offer("fast.1", "A100", 1, 1.20m, 0.40m, zone: "z-b");
    private static readonly Offer Fast8 = B.Offer("fast.8", "A100", 8, 9.60m, 3.20m, zone: "z-b", vcpus: 64, mem: 512);

    [Fact]
    public void Estimate_JobWithoutCheckpoint_ExpectedTimeGrowsExponentiallyWithHazard()
    {
        var job = B.Job("j", 0, 3600);
        var e = CostModel.Estimate(job, 4 * 3600, Fast, Market.Spot, hazardPerHour: 0.5, othersWaiting: 0, TimeSpan.FromSeconds(30));
        var wall = 4 / 2.2;
        Assert.Equal(wall, e.WallHours, 9);
        Assert.Equal((Math.Exp(0.5 * wall) - 1) / 0.5, e.ExpectedHours, 9);
        Assert.Equal(Math.Exp(-0.5 * wall), e.Survival, 9);
        var ckpt = B.Job("c", 0, 3600, checkpointS: 600);
        var c = CostModel.Estimate(ckpt, 4 * 3600, Fast, Market.Spot, 0.5, 0, TimeSpan.FromSeconds(30));
        Assert.Equal(wall * (1 + 0.5 * (300 + 30) / 3600.0), c.ExpectedHours, 9);
        var service = CostModel.Estimate(job with { Kind = JobKind.Service }, 4 * 3600, Fast, Market.Spot, 0.5, 0, TimeSpan.FromSeconds(30));
        Assert.Equal(wall * (1 + 0.5 * 30 / 3600.0), service.ExpectedHours, 9);
        Assert.True(service.LossOverhead < 0.01, $"{service.LossOverhead}");
    }

    [Fact]
    public void Estimate_ManyJobsWaiting_SharesABigNodeAmongThem()
    {
        var job = B.Job("j", 0, 3600, cpus: 4, mem: 16);
        Assert.Equal(8, CostModel.CopiesThatFit(job.Resources, Fast8));
        var alone = CostModel.Estimate(job, 3600, Fast8, Market.OnDemand, 0, 0, TimeSpan.Zero);
        var crowd = CostModel.Estimate(job, 3600, Fast8, Market.OnDemand, 0, 20, TimeSpan.Zero);
        Assert.Equal(1, alone.Occupants);
        Assert.Equal(8, crowd.Occupants);
        Assert.Equal(alone.ExpectedUsd / 8, crowd.ExpectedUsd, 9);
    }

    [Fact]
    public void HistoryDurationPredictor_DeclaredDurationIsNeverRead()
    {
        var p = new HistoryDurationPredictor();
        for (var i = 0; i < 10; i++) p.Observe(B.Job($"h{i}", 0, 100 * (i + 1)), TimeSpan.FromSeconds(100 * (i + 1)), B.T0);
        var a = p.PredictSeconds(B.Job("x", 0, 5) with { Duration = TimeSpan.FromDays(30) }, B.T0);
        var b = p.PredictSeconds(B.Job("x", 0, 5) with { Duration = null }, B.T0);
        Assert.Equal(a, b);
        Assert.Equal(500, a.Estimate);
        Assert.True(a.Low <= a.Estimate && a.Estimate <= a.High);
    }

    [Fact]
    public async Task Replay_SlowAndFastOffers_GureumRunsOnReferenceSpeedOrBetter_AndFinishesEverything()
    {
        var jobs = Enumerable.Range(0, 60).Select(i => B.Job($"j{i}", i * 300, 1800 + 60 * (i % 7), lab: i % 3 == 0 ? "lab-b" : "lab-a") with { ReferenceGpu = "V100" }).ToList();
        var o = await B.Run("gureum", jobs, [Slow, Fast, Fast8]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(60, m.JobsCompleted);
        Assert.All(o.Runs.Values.SelectMany(r => r), r => Assert.Equal("A100", r.GpuModel));
        Assert.True(m.JctOverRuntime < 1.0, $"JCT/run {m.JctOverRuntime}");
    }

    [Fact]
    public async Task Replay_SpotReclaimedOften_LongJobsWithoutCheckpointMoveToOnDemand_AndAllFinish()
    {
        // Spot in z-b is reclaimed every 20 minutes; jobs are 3 h long and do not checkpoint.
        var reclaims = Enumerable.Range(1, 400).Select(i => i * 1200.0).ToArray();
        var spot = new ScriptedSpotMarket(new Dictionary<string, double[]> { ["z-b"] = reclaims });
        var jobs = Enumerable.Range(0, 30).Select(i => B.Job($"j{i}", i * 600, 3 * 3600)).ToList();
        var o = await B.Run("gureum", jobs, [Fast], spot: spot);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(30, m.JobsCompleted);
        // Learning the hazard takes a few losses; after that the policy stops gambling.
        Assert.True(m.Preemptions <= 10, $"{m.Preemptions} runs lost");
        var late = o.Jobs.Where(j => j.Seq >= 20).ToList();
        Assert.All(late, j => Assert.Single(o.Runs[j.Id]));
    }

    [Fact]
    public async Task Replay_ServiceFellBackToDearerZone_MovesBackAfterTheCooldown_LosingNoWork()
    {
        // V100 spot: z-a $0.90/h, z-b $2.00/h. A 20-hour service starts in z-a; z-a reclaims it at
        // 1,800 s and is then in cooldown for an hour, so the replacement goes to z-b. Once the
        // cooldown is over a service check moves it back to z-a (> 25% cheaper for the life left).
        var a = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var b = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 2.00m, zone: "z-b");
        var service = B.Job("s", 0, 20 * 3600) with { Kind = JobKind.Service };
        var spot = new ScriptedSpotMarket(new() { ["z-a"] = [1800] });
        var o = await B.Run("gureum", [service], [a, b], spot: spot, options: new ReplayOptions { KeepEvents = true });

        var runs = o.Runs["s"];
        Assert.Equal([RunOutcome.NodeLost, RunOutcome.Preempted, RunOutcome.Completed], runs.Select(r => r.Outcome));
        Assert.Equal(["z-a", "z-b", "z-a"], runs.Select(r => o.Bills.Single(bl => bl.NodeId == r.NodeIds).Offer.Zone));
        Assert.InRange((runs[1].End - B.T0).TotalSeconds, 1800 + 3600, 1800 + 3600 + 600 + 1); // the first check after the cooldown
        var moved = Assert.Single(o.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
        Assert.Contains("moves to cheaper capacity", moved.Message);
        // Make before break: it served on in z-b while the z-a node booted, and moved the instant that node was ready.
        var replacement = o.Bills.Single(bl => bl.NodeId == runs[2].NodeIds);
        Assert.Equal(runs[1].End, runs[2].Start);
        Assert.Equal(replacement.Start + a.BootDelay, runs[2].Start);
        Assert.Equal<DateTimeOffset?>(runs[1].End, o.Bills.Single(bl => bl.NodeId == runs[1].NodeIds).End);
        // No work lost: the runs served 20 h in all, plus a restart overhead for each of the two restarts.
        Assert.Equal(20 * 3600 + 2 * 30, runs.Sum(r => (r.End - r.Start).TotalSeconds), 3);
        var m = ReplayMetrics.Compute(o);
        Assert.True((double)m.CostUsd < 2.00 * 20, $"cost {m.CostUsd}: staying in z-b would cost more than $40");
    }

    [Fact]
    public async Task Replay_TwoFractionalServicesLeftAloneOnTwoNodes_OneMovesBesideTheOther_AndItsNodeIsReleased()
    {
        // One 1-GPU V100 offer. A 1-h batch job (0.6 GPU) starts at 0 on node 1; service s1 (0.4 GPU,
        // 10 h) joins it at 300 s; service s2 (0.4 GPU, 10 h) finds node 1 full at 600 s and gets node 2.
        // When the batch job ends, each service is alone on a node with room for the other: a move
        // check puts one beside the other and releases its node, instead of two nodes for ~9 h.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var jobs = new List<JobSpec>
        {
            B.Job("b", 0, 3600, gpus: 0, milli: 600),
            B.Job("s1", 300, 10 * 3600, gpus: 0, milli: 400) with { Kind = JobKind.Service },
            B.Job("s2", 600, 10 * 3600, gpus: 0, milli: 400) with { Kind = JobKind.Service },
        };
        async Task<ReplayOutcome> Run(bool consolidate) => await ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = PolicyCatalog.CreateGureumWith(new GureumPolicy(new GureumOptions { ConsolidateIntoRunningNodes = consolidate })),
            Jobs = jobs, Offers = [v100], FixedFleet = [], Spot = CalmSpotMarket.Instance, Options = new ReplayOptions { KeepEvents = true },
        });
        var on = await Run(true);
        var off = await Run(false);

        Assert.All(on.Jobs, j => Assert.Equal(JobStatus.Completed, j.Status));
        Assert.Equal(2, on.Bills.Count);
        var moved = Assert.Single(on.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
        Assert.Contains("moves onto", moved.Message);
        var runs = on.Runs[moved.JobId!];
        Assert.Equal([RunOutcome.Preempted, RunOutcome.Completed], runs.Select(r => r.Outcome));
        // Within a move check (10 min) of the batch job's end; its old node is released at that instant.
        var batchEnd = on.Runs["b"].Single().End;
        Assert.InRange((runs[0].End - batchEnd).TotalSeconds, 0, 600 + 1);
        Assert.Equal<DateTimeOffset?>(runs[0].End, on.Bills.Single(bl => bl.NodeId == runs[0].NodeIds).End);
        var other = moved.JobId == "s1" ? "s2" : "s1";
        Assert.Equal(on.Runs[other].Single().NodeIds, runs[1].NodeIds);
        // No work lost: 10 h served in all, plus one restart overhead.
        Assert.Equal(10 * 3600 + 30, runs.Sum(r => (r.End - r.Start).TotalSeconds), 3);
        // Without consolidation both nodes stay up until their service ends: ~9 h more of a node.
        Assert.DoesNotContain(off.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
        var (mOn, mOff) = (ReplayMetrics.Compute(on), ReplayMetrics.Compute(off));
        Assert.True(mOn.CostUsd < mOff.CostUsd - 0.90m * 8, $"cost with consolidation {mOn.CostUsd}, without {mOff.CostUsd}");
    }

    [Fact]
    public async Task Replay_ServiceMoveToASpotZoneWithoutCapacity_RequestFails_ServiceRunsOnUninterrupted()
    {
        // z-a is cheaper but has no spot capacity all along: the first request fails, the service
        // starts in z-b, and every move check after the hour's cooldown buys a z-a replacement that
        // fails too. The service keeps serving in z-b: it is preempted only once a replacement is ready.
        var a = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var b = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 2.00m, zone: "z-b");
        var service = B.Job("s", 0, 5 * 3600) with { Kind = JobKind.Service };
        var spot = new ScriptedSpotMarket([], new HashSet<string> { "z-a" });
        var o = await B.Run("gureum", [service], [a, b], spot: spot, options: new ReplayOptions { KeepEvents = true });

        var run = Assert.Single(o.Runs["s"]);
        Assert.Equal(RunOutcome.Completed, run.Outcome);
        Assert.Equal("z-b", o.Bills.Single(bl => bl.NodeId == run.NodeIds).Offer.Zone);
        Assert.DoesNotContain(o.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
        var tries = o.Events.Count(e => e.Kind == Core.Control.EventKind.NodeRequested && e.Message.Contains("replacement for s", StringComparison.Ordinal));
        Assert.True(tries >= 2, $"{tries} replacements bought: a move is tried after each cooldown");
    }

    [Fact]
    public async Task Replay_CheckpointingJobFellBackToDearerZone_MovesBackRedoingOnlyWorkSinceItsCheckpoint_BatchJobStays()
    {
        // As for the service above, with a 20-hour job that checkpoints every 10 min: it moves back to
        // z-a after the cooldown and redoes at most one checkpoint interval per interruption. The same
        // job without checkpoints would lose everything by moving, so it is never moved.
        var a = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var b = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 2.00m, zone: "z-b");
        var job = B.Job("c", 0, 20 * 3600, checkpointS: 600);
        var o = await B.Run("gureum", [job], [a, b], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }), options: new ReplayOptions { KeepEvents = true });

        var runs = o.Runs["c"];
        Assert.Equal([RunOutcome.NodeLost, RunOutcome.Preempted, RunOutcome.Completed], runs.Select(r => r.Outcome));
        Assert.Equal(["z-a", "z-b", "z-a"], runs.Select(r => o.Bills.Single(bl => bl.NodeId == r.NodeIds).Offer.Zone));
        var moved = Assert.Single(o.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
        Assert.Contains("checkpointing job (redoes", moved.Message);
        var ran = runs.Sum(r => (r.End - r.Start).TotalSeconds);
        Assert.InRange(ran, 20 * 3600 + 2 * 30, 20 * 3600 + 2 * (30 + 600));
        Assert.True((double)ReplayMetrics.Compute(o).CostUsd < 2.00 * 20, "staying in z-b would cost more than $40");

        var batch = await B.Run("gureum", [B.Job("b", 0, 20 * 3600)], [a, b], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }), options: new ReplayOptions { KeepEvents = true });
        Assert.DoesNotContain(batch.Events, e => e.Kind == Core.Control.EventKind.JobPreempted);
    }

    [Fact]
    public async Task Replay_ExplainsEveryPurchaseWithExpectedCost()
    {
        var jobs = Enumerable.Range(0, 5).Select(i => B.Job($"j{i}", i * 60, 600)).ToList();
        var o = await B.Run("gureum", jobs, [Slow, Fast], options: new ReplayOptions { KeepEvents = true });
        var requested = o.Events.Where(e => e.Kind == Core.Control.EventKind.NodeRequested).ToList();
        Assert.NotEmpty(requested);
        Assert.All(requested, e => Assert.Contains("bought for j", e.Message));
        Assert.All(requested, e => Assert.Contains("~$", e.Message));
    }

    [Fact]
    public async Task DryRun_EmptyCluster_PredictsBootWaitDurationAndCostWithOrderedIntervals()
    {
        var p = new HistoryDurationPredictor();
        for (var i = 1; i <= 20; i++) p.Observe(B.Job($"h{i}", 0, 0), TimeSpan.FromSeconds(600 * i), B.T0);
        var snapshot = new Core.Planning.ClusterSnapshot
        {
            Now = B.T0, Pending = [], Running = System.Collections.Immutable.ImmutableSortedDictionary<long, JobView>.Empty, Nodes = [], Offers = [Fast],
            Labs = new Dictionary<string, LabShare>(),
        };
        var est = await DryRun.EstimateAsync(snapshot, B.Job("new", 0, 1) with { Duration = null }, () => PolicyCatalog.Create("gureum"), p);
        Assert.Equal(Fast.Id, est.Offer);
        Assert.Equal(120, est.StartInSeconds.Estimate, 3); // the boot delay
        Assert.True(est.DurationSeconds.Low <= est.DurationSeconds.Estimate && est.DurationSeconds.Estimate <= est.DurationSeconds.High);
        Assert.True(est.CostUsd.Low < est.CostUsd.High);
        // Estimate: the predictor's median (6,000 s on V100) on an A100 (2.2×) at $1.20/h on demand or cheaper.
        Assert.Equal(p.PredictSeconds(B.Job("new", 0, 1), B.T0).Estimate / 2.2, est.DurationSeconds.Estimate, 0);
        Assert.True(est.CostUsd.Estimate <= 1.20 * est.DurationSeconds.Estimate / 3600 + 1e-6);
    }
    private static Core.Planning.ClusterSnapshot Snapshot(IReadOnlyList<Offer> offers, Core.Planning.SpotSignals? spot = null, double atS = 0) => new()
    {
        Now = B.T0.AddSeconds(atS), Pending = [], Running = System.Collections.Immutable.ImmutableSortedDictionary<long, JobView>.Empty, Nodes = [],
        Offers = offers, Labs = new Dictionary<string, LabShare>(), Spot = spot ?? Core.Planning.SpotSignals.Empty,
    };

    private static JobView View(JobSpec spec) => new() { Seq = 1, Spec = spec, Status = JobStatus.Pending, QueuedSince = B.T0 };

    [Fact]
    public void Suitable_EmptyNodeFarBiggerThanALongJob_Refused_UnlessWaitingJobsFillItOrNoSmallerNodeExists()
    {
        // Fast8 on demand is $9.60/h; alone a 10-h (V100) on-demand job would keep it up for
        // 10/2.2 h ≈ $44, against about $5.5 on a Fast (1 A100) node of its own, boot included.
        static GureumPolicy Trained(double hours)
        {
            var history = new HistoryDurationPredictor();
            for (var i = 0; i < 20; i++) history.Observe(B.Job($"h{i}", 0, 0), TimeSpan.FromHours(hours), B.T0);
            return new GureumPolicy(models: new OperatorModels(history));
        }
        var empty8 = Node.Create("n8", Fast8, Market.OnDemand, NodeState.Ready, B.T0);
        var job = View(B.Job("j", 0, 10 * 3600, cpus: 4, mem: 16) with { Spot = SpotPreference.Never });
        var why = Trained(10).Suitable(job, empty8, Snapshot([Fast, Fast8]));
        Assert.NotNull(why);
        Assert.Contains("keep empty", why);

        // With seven more of its shape waiting, its share of the node (1/8, ≈ $5.5) is no dearer
        // than a node of its own: it may start there. With three more (1/4, ≈ $11) it may not.
        Core.Planning.ClusterSnapshot Waiting(int more) => Snapshot([Fast, Fast8]) with { Pending = [job, .. Enumerable.Range(2, more).Select(i => View(job.Spec with { Id = $"w{i}" }) with { Seq = i })] };
        Assert.Null(Trained(10).Suitable(job, empty8, Waiting(7)));
        Assert.NotNull(Trained(10).Suitable(job, empty8, Waiting(3)));

        // With no smaller node to buy, the empty big node is as good as a new one.
        Assert.Null(Trained(10).Suitable(job, empty8, Snapshot([Fast8])));

        // A node already running a job is not this rule's business; a 4-GPU job has no smaller node
        // to go to, so the empty node costs it no more than a new one.
        Assert.Null(Trained(10).Suitable(job, empty8 with { RunningJobs = 1 }, Snapshot([Fast, Fast8])));
        var big = View(B.Job("big", 0, 10 * 3600, gpus: 4, cpus: 32, mem: 256) with { Spot = SpotPreference.Never });
        Assert.Null(Trained(10).Suitable(big, empty8, Snapshot([Fast, Fast8]) with { Pending = [big] }));
        // Turned off by option.
        Assert.Null(new GureumPolicy(new GureumOptions { OversizedNodeMaxCostRatio = 0 }).Suitable(job, empty8, Snapshot([Fast, Fast8])));
    }

    /// <summary>History: lab "short" jobs ran 1 h, lab "long" jobs 20 h (V100), twenty of each.</summary>
    private static HistoryDurationPredictor ShortAndLongHistory()
    {
        var history = new HistoryDurationPredictor();
        for (var i = 0; i < 20; i++)
        {
            history.Observe(B.Job($"s{i}", 0, 0, lab: "short"), TimeSpan.FromHours(1), B.T0);
            history.Observe(B.Job($"l{i}", 0, 0, lab: "long"), TimeSpan.FromHours(20), B.T0);
        }
        return history;
    }

    [Fact]
    public void OutlivesNode_LongJobBesideJobsEndingSoonOnABigNode_Refused_UnlessOthersLastAsLongOrItIsAService()
    {
        // On Fast8 (8 A100 = 2.2× V100, $9.60/h on demand) a short job runs, predicted to end in
        // 1/2.2 h; the long one would take 20/2.2 ≈ 9.1 h: ~8.6 h more of the whole node (~$83)
        // against ~$11 on a Fast (1 A100, $1.20/h) node of its own.
        var policy = new GureumPolicy(models: new OperatorModels(ShortAndLongHistory()));
        var node = Node.Create("n8", Fast8, Market.OnDemand, NodeState.Ready, B.T0) with { RunningJobs = 1 };
        var running = new JobView
        {
            Seq = 1, Spec = B.Job("r", 0, 3600, lab: "short") with { Spot = SpotPreference.Never }, Status = JobStatus.Running,
            QueuedSince = B.T0, RunStartedAt = B.T0, Attempts = 1, Placements = [new Placement("n8", [0], 1000, 1, 4)],
        };
        var snapshot = Snapshot([Fast, Fast8]) with { Nodes = [node], Running = System.Collections.Immutable.ImmutableSortedDictionary<long, JobView>.Empty.Add(1, running) };
        JobView Waiting(string id, string lab, long seq, int milli = 0) =>
            View(B.Job(id, 0, 1, gpus: milli > 0 ? 0 : 1, milli: milli, lab: lab) with { Spot = SpotPreference.Never }) with { Seq = seq };
        var longJob = Waiting("long-1", "long", 2);

        var ctx = new SchedulingContext(snapshot, []);
        var why = policy.OutlivesNode(longJob, node, ctx);
        Assert.NotNull(why);
        Assert.Contains("after the jobs on it are predicted to end", why);
        // A short job ends with the node's job; a service moves without loss: both may join.
        Assert.Null(policy.OutlivesNode(Waiting("short-1", "short", 3), node, ctx));
        Assert.Null(policy.OutlivesNode(longJob with { Spec = longJob.Spec with { Kind = JobKind.Service } }, node, ctx));
        // Once this decision placed one long job there, another may join it: they end together.
        ctx.Commit(longJob, [new Placement("n8", [1], 1000, 1, 4)]);
        Assert.Null(policy.OutlivesNode(Waiting("long-2", "long", 4), node, ctx));

        // On a 1-GPU node the rule does not apply (at most one GPU kept up), nor when turned off.
        var fresh = new SchedulingContext(snapshot, []);
        var one = Node.Create("n1", Fast, Market.OnDemand, NodeState.Ready, B.T0) with { RunningJobs = 1 };
        Assert.Null(policy.OutlivesNode(Waiting("long-3", "long", 5, milli: 500), one, fresh));
        var off = new GureumPolicy(new GureumOptions { NodeLifeExtensionMaxCostRatio = 0 }, new OperatorModels(ShortAndLongHistory()));
        Assert.Null(off.OutlivesNode(longJob, node, fresh));
    }

    [Fact]
    public void Decide_LongJobFirstInQueue_IsNotCreditedWithSharingABigNodeWithShortOnes()
    {
        // A 20-h job (V100) first in the queue (higher priority) and seven 1-h jobs of its shape. An
        // 8-A100 node at $0.80 a GPU-hour is cheaper per job than a 1-A100 node at $1.20 only when
        // shared. Credited with the seven short jobs as sharers, the long job would get the big node
        // and keep it up ~8.6 h after them; it is credited with none and gets a node of its own,
        // while the short jobs share a big one.
        var big8 = B.Offer("big.8", "A100", 8, 6.40m, zone: "z-b", vcpus: 64, mem: 512);
        var longJob = View(B.Job("long", 0, 1, lab: "long", priority: 1) with { Spot = SpotPreference.Never }) with { Seq = 1 };
        var shorts = Enumerable.Range(0, 7).Select(i => View(B.Job($"s{i}", 0, 1, lab: "short") with { Spot = SpotPreference.Never }) with { Seq = 2 + i });
        var snapshot = Snapshot([Fast, big8]) with { Pending = [longJob, .. shorts] };
        Dictionary<string, string> Bought(double ratio)
        {
            var core = PolicyCatalog.CreateGureumWith(new GureumPolicy(new GureumOptions { NodeLifeExtensionMaxCostRatio = ratio }, new OperatorModels(ShortAndLongHistory())));
            return core.Decide(snapshot).Actions.OfType<Core.Planning.ProvisionNode>()
                .SelectMany(p => p.ForJobs.Select(j => (j, p.Offer.InstanceType))).ToDictionary(x => x.j, x => x.InstanceType);
        }
        var on = Bought(1);
        Assert.Equal("fast.1", on["long"]);
        Assert.All(Enumerable.Range(0, 7), i => Assert.Equal("big.8", on[$"s{i}"]));
        // Without the rule the long job is credited with all seven and all eight share one big node.
        var off = Bought(0);
        Assert.All(off.Values, t => Assert.Equal("big.8", t));
        Assert.Equal(8, off.Count);
    }

    [Fact]
    public async Task Replay_LongJobBoughtAlongsideShortOnes_GetsANodeOfItsOwn_AndTheBigNodeGoesWhenTheShortOnesEnd()
    {
        // Seven 1-h jobs and one 20-h job (V100 hours) arrive together; an 8-A100 node at $0.80 a
        // GPU-hour shared by the seven is cheaper for them than 1-A100 nodes at $1.20, so one is
        // bought and all eight are counted on to start there. Without the lifetime rule the long
        // job keeps the $6.40/h node up ~8.6 h after the others end (~$55); with it, the long job
        // waits for a 1-GPU node of its own (~$11).
        var big8 = B.Offer("big.8", "A100", 8, 6.40m, zone: "z-b", vcpus: 64, mem: 512);
        var jobs = Enumerable.Range(0, 7).Select(i => B.Job($"s{i}", 0, 3600, lab: "short") with { Spot = SpotPreference.Never })
            .Append(B.Job("long", 0, 72_000, lab: "long") with { Spot = SpotPreference.Never }).ToList();
        async Task<ReplayOutcome> Run(double ratio) => await ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = PolicyCatalog.CreateGureumWith(new GureumPolicy(new GureumOptions { NodeLifeExtensionMaxCostRatio = ratio }, new OperatorModels(ShortAndLongHistory()))),
            Jobs = jobs, Offers = [Fast, big8], FixedFleet = [], Spot = CalmSpotMarket.Instance, Options = new ReplayOptions(),
        });
        var on = await Run(1);
        var off = await Run(0);
        var (mOn, mOff) = (ReplayMetrics.Compute(on), ReplayMetrics.Compute(off));
        Assert.Equal(8, mOn.JobsCompleted);
        Assert.Equal(8, mOff.JobsCompleted);
        string TypeOf(ReplayOutcome o, string job) => o.Bills.Single(b => b.NodeId == o.Runs[job].Single().NodeIds).Offer.InstanceType;
        Assert.All(Enumerable.Range(0, 7), i => Assert.Equal("big.8", TypeOf(off, $"s{i}")));
        Assert.Equal("big.8", TypeOf(off, "long"));
        Assert.All(Enumerable.Range(0, 7), i => Assert.Equal("big.8", TypeOf(on, $"s{i}")));
        Assert.Equal("fast.1", TypeOf(on, "long"));
        Assert.True(mOn.CostUsd < mOff.CostUsd - 30, $"cost with the rule {mOn.CostUsd}, without {mOff.CostUsd}");
    }

    [Fact]
    public void Decide_LongJobWithoutCheckpoints_SpotOnlyInCooldown_WaitsForTheCooldownInsteadOfBuyingOnDemand()
    {
        // A100 in z-b: $3.00/h on demand, $0.60/h spot; z-b reclaimed a node at t=0, so spot there is
        // in its 1-h cooldown until 01:00. At 00:10 a 20-h (V100) job that restarts from zero would
        // pay ~$27 on demand for its ~9 h on the A100, or ~$5.5 on spot after the cooldown.
        var a100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");
        var trouble = new Core.Planning.SpotSignals(Core.Planning.SpotSignals.Empty.LastTroubleByZoneModel.SetItem(Core.Planning.SpotSignals.Key("z-b", "A100"), B.T0));
        Core.Planning.Plan Decide(JobSpec spec, GureumOptions? options = null, double atS = 600)
        {
            var policy = new GureumPolicy(options, new OperatorModels(ShortAndLongHistory()));
            policy.Models.Spot.AddExposure("z-b", "A100", 1000); // z-b has held its spot nodes: one reclaim is no pattern
            return PolicyCatalog.CreateGureumWith(policy).Decide(Snapshot([a100], trouble, atS) with { Pending = [View(spec)] });
        }
        Core.Planning.ProvisionNode? Bought(Core.Planning.Plan plan) => plan.Actions.OfType<Core.Planning.ProvisionNode>().SingleOrDefault();
        var longJob = B.Job("long", 0, 20 * 3600, lab: "long");

        var waits = Decide(longJob);
        Assert.Null(Bought(waits));
        Assert.Equal(B.T0.AddHours(1), waits.WakeAt);
        Assert.Contains("waits for spot on test/z-b/a100.1", waits.WaitReasons["long"]);
        Assert.Contains($"ends at {B.T0.AddHours(1):u}", waits.WaitReasons["long"]);
        // After the cooldown it buys spot.
        Assert.Equal(Market.Spot, Bought(Decide(longJob, atS: 3600))!.Market);
        // On demand now: with waiting turned off; for a job predicted to run 1 h (the wait would be
        // most of its run); for one that keeps its work (it can move to spot later); for one that
        // must not use spot.
        Assert.Equal(Market.OnDemand, Bought(Decide(longJob, new GureumOptions { WaitForSpotMinSaving = 0 }))!.Market);
        Assert.Equal(Market.OnDemand, Bought(Decide(B.Job("short", 0, 3600, lab: "short")))!.Market);
        Assert.Equal(Market.OnDemand, Bought(Decide(B.Job("long", 0, 20 * 3600, lab: "long", checkpointS: 1800)))!.Market);
        Assert.Equal(Market.OnDemand, Bought(Decide(longJob with { Spot = SpotPreference.Never }))!.Market);
    }

    [Fact]
    public void Decide_LongJobWithoutCheckpoints_BuysSpotWhereTheMarketsRecordIsClean_OnDemandWhereItIsNotOrThereIsNone()
    {
        // A100 in z-b: $3.00/h on demand, $0.60/h spot. A 60-h (V100) job that restarts from zero runs
        // ~27 h on the A100. At the prior of one loss per 12 h it expects to lose most of that run over
        // and over, so it buys on demand; a month of the market's record without a reclaim makes the
        // loss small (about one loss per 730 h) and it buys spot. A record of one reclaim every 10 h
        // keeps it on demand.
        var a100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");
        var history = new HistoryDurationPredictor();
        for (var i = 0; i < 20; i++) history.Observe(B.Job($"l{i}", 0, 0, lab: "long"), TimeSpan.FromHours(60), B.T0);
        Core.Planning.ProvisionNode Bought(Core.Planning.SpotHistory? record)
        {
            var signals = Core.Planning.SpotSignals.Empty;
            if (record is { } r) signals = signals with { History = signals.History.SetItem(Core.Planning.SpotSignals.Key("z-b", "A100"), r) };
            var plan = PolicyCatalog.CreateGureumWith(new GureumPolicy(null, new OperatorModels(history)))
                .Decide(Snapshot([a100], signals) with { Pending = [View(B.Job("long", 0, 60 * 3600, lab: "long"))] });
            return Assert.Single(plan.Actions.OfType<Core.Planning.ProvisionNode>());
        }

        Assert.Equal(Market.OnDemand, Bought(null).Market);
        var clean = Bought(new Core.Planning.SpotHistory(720, 0, TimeSpan.FromDays(30)));
        Assert.Equal(Market.Spot, clean.Market);
        Assert.Contains("survival 96 %", clean.Reason); // exp(−27.3 h / 732 h)
        Assert.Equal(Market.OnDemand, Bought(new Core.Planning.SpotHistory(720, 72, TimeSpan.FromDays(30))).Market);
    }

    [Fact]
    public async Task Replay_LongJobWithoutCheckpointsLosesItsSpotNode_WaitsOutTheCooldown_AndRerunsOnSpot()
    {
        // As above, end to end: z-b reclaims the job's spot node at 1,800 s. With the rule it waits
        // for the cooldown (to 5,400 s) and reruns on spot; without it, it reruns on demand at 5×
        // the price for its whole 9-h run.
        var a100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");
        var spot = new ScriptedSpotMarket(new() { ["z-b"] = [1800] });
        async Task<ReplayOutcome> Run(double minSaving)
        {
            var policy = new GureumPolicy(new GureumOptions { WaitForSpotMinSaving = minSaving }, new OperatorModels(ShortAndLongHistory()));
            policy.Models.Spot.AddExposure("z-b", "A100", 1000);
            return await ReplayEngine.RunAsync(new ReplaySetup
            {
                Core = PolicyCatalog.CreateGureumWith(policy), Jobs = [B.Job("long", 0, 20 * 3600, lab: "long")], Offers = [a100],
                FixedFleet = [], Spot = spot, Options = new ReplayOptions(),
            });
        }
        var on = await Run(0.25);
        var off = await Run(0);
        Market MarketOf(ReplayOutcome o, JobRun r) => o.Bills.Single(b => b.NodeId == r.NodeIds).Market;

        var runs = on.Runs["long"];
        Assert.Equal([RunOutcome.NodeLost, RunOutcome.Completed], runs.Select(r => r.Outcome));
        Assert.All(runs, r => Assert.Equal(Market.Spot, MarketOf(on, r)));
        // Bought the moment the cooldown ended, started once the node booted.
        Assert.Equal(B.T0.AddSeconds(1800 + 3600 + a100.BootDelay.TotalSeconds), runs[1].Start);
        Assert.Equal(Market.OnDemand, MarketOf(off, off.Runs["long"][1]));
        var (mOn, mOff) = (ReplayMetrics.Compute(on), ReplayMetrics.Compute(off));
        Assert.True(mOn.CostUsd < 8 && mOff.CostUsd > 25, $"cost waiting {mOn.CostUsd}, not waiting {mOff.CostUsd}");
        Assert.True(mOn.MeanJctS - mOff.MeanJctS <= 3600, "the wait costs at most the cooldown");
    }

    [Fact]
    public void Decide_OnDemandNodeBoughtForALongJob_IsHeldForIt_AShortJobRankedFirstBuysItsOwnSpotNode()
    {
        // A 20-h job that must not use spot gets an on-demand A100 bought at t=0. When the node is
        // ready a 1-h job has arrived; the queue runs it first (shortest predicted first). Held, the
        // node goes to the job it was bought for and the short job buys a spot node of its own; not
        // held, the short job takes the node (at on-demand prices) and a second one is bought.
        var a100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");
        var longJob = View(B.Job("long", 0, 20 * 3600, lab: "long") with { Spot = SpotPreference.Never }) with { Seq = 1 };
        var shortJob = View(B.Job("short", 60, 3600, lab: "short")) with { Seq = 2, QueuedSince = B.T0.AddSeconds(60) };
        Core.Planning.Plan Ready(GureumOptions options)
        {
            var core = PolicyCatalog.CreateGureumWith(new GureumPolicy(options, new OperatorModels(ShortAndLongHistory())));
            var bought = Assert.Single(core.Decide(Snapshot([a100]) with { Pending = [longJob] }).Actions.OfType<Core.Planning.ProvisionNode>());
            Assert.Equal(Market.OnDemand, bought.Market);
            var node = Node.Create("n1", a100, Market.OnDemand, NodeState.Ready, B.T0) with { ReadyAt = B.T0.AddSeconds(120), IdleSince = B.T0.AddSeconds(120) };
            return core.Decide(Snapshot([a100], atS: 120) with { Pending = [shortJob, longJob], Nodes = [node] });
        }
        string? StartedOnN1(Core.Planning.Plan plan) => plan.Actions.OfType<Core.Planning.StartJob>().SingleOrDefault(st => st.Placements[0].NodeId == "n1")?.JobId;

        var held = Ready(new GureumOptions());
        Assert.Equal("long", StartedOnN1(held));
        var forShort = Assert.Single(held.Actions.OfType<Core.Planning.ProvisionNode>());
        Assert.Equal((Market.Spot, "short"), (forShort.Market, Assert.Single(forShort.ForJobs)));

        var notHeld = Ready(new GureumOptions { OnDemandHold = TimeSpan.Zero });
        Assert.Equal("short", StartedOnN1(notHeld));
        var forLong = Assert.Single(notHeld.Actions.OfType<Core.Planning.ProvisionNode>());
        Assert.Equal((Market.OnDemand, "long"), (forLong.Market, Assert.Single(forLong.ForJobs)));
    }

    [Fact]
    public void Decide_OnDemandNodeBootingForALongJob_IsNotCountedOnForAShortJobRankedFirst()
    {
        // As above, but the 1-h job (here also on demand only) arrives while the node still boots.
        // Held, the booting node stays the long job's and one is bought for the short job; not held,
        // the short job, first in the queue, is counted into it and a second node is bought for the long one.
        var a100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");
        var longJob = View(B.Job("long", 0, 20 * 3600, lab: "long") with { Spot = SpotPreference.Never }) with { Seq = 1 };
        var shortJob = View(B.Job("short", 60, 3600, lab: "short") with { Spot = SpotPreference.Never }) with { Seq = 2, QueuedSince = B.T0.AddSeconds(60) };
        string Booting(GureumOptions options)
        {
            var core = PolicyCatalog.CreateGureumWith(new GureumPolicy(options, new OperatorModels(ShortAndLongHistory())));
            Assert.Single(core.Decide(Snapshot([a100]) with { Pending = [longJob] }).Actions.OfType<Core.Planning.ProvisionNode>());
            var node = Node.Create("n1", a100, Market.OnDemand, NodeState.Booting, B.T0);
            var plan = core.Decide(Snapshot([a100], atS: 60) with { Pending = [shortJob, longJob], Nodes = [node] });
            var boughtFor = Assert.Single(plan.Actions.OfType<Core.Planning.ProvisionNode>().SelectMany(p => p.ForJobs));
            Assert.Contains("n1", plan.WaitReasons[boughtFor == "short" ? "long" : "short"]); // the other one waits for n1
            return boughtFor;
        }
        Assert.Equal("short", Booting(new GureumOptions()));
        Assert.Equal("long", Booting(new GureumOptions { OnDemandHold = TimeSpan.Zero }));
    }

    [Fact]
    public void Decide_OnDemandNodeHeldForAJob_AnotherJobStartsBesideItWhenTheRoomItNeedsStaysFree()
    {
        // Only 2-GPU nodes exist. One is bought on demand for a 1-GPU 20-h job; a 1-GPU 1-h job
        // arrives before it is ready. Both start on it: the held job's GPU stays free.
        var a100x2 = B.Offer("a100.2", "A100", 2, 6.00m, zone: "z-b", vcpus: 16, mem: 128);
        var longJob = View(B.Job("long", 0, 20 * 3600, lab: "long") with { Spot = SpotPreference.Never }) with { Seq = 1 };
        var shortJob = View(B.Job("short", 60, 3600, lab: "short") with { Spot = SpotPreference.Never }) with { Seq = 2, QueuedSince = B.T0.AddSeconds(60) };
        var core = PolicyCatalog.CreateGureumWith(new GureumPolicy(null, new OperatorModels(ShortAndLongHistory())));
        Assert.Single(core.Decide(Snapshot([a100x2]) with { Pending = [longJob] }).Actions.OfType<Core.Planning.ProvisionNode>());
        var node = Node.Create("n1", a100x2, Market.OnDemand, NodeState.Ready, B.T0) with { ReadyAt = B.T0.AddSeconds(120), IdleSince = B.T0.AddSeconds(120) };
        var plan = core.Decide(Snapshot([a100x2], atS: 120) with { Pending = [shortJob, longJob], Nodes = [node] });
        Assert.Equal(["long", "short"], plan.Actions.OfType<Core.Planning.StartJob>().Where(st => st.Placements[0].NodeId == "n1").Select(st => st.JobId).Order());
        Assert.Empty(plan.Actions.OfType<Core.Planning.ProvisionNode>());
    }

    [Fact]
    public void Decide_IdleNodes_SkiRentalPredictsNextUseFromJobsThatMayStartOnThatSize()
    {
        // Sixty 1-GPU jobs arrived in the last hour: a 1-GPU node is predicted to be needed again
        // within the break-even time (a 2-min boot + the 60 s minimum bill = 3 min) and kept B/λ = 6 min;
        // no job that may start alone on an 8-GPU node (4 GPUs or more) arrived, so that one is kept
        // λB = 1.5 min. Counting a job's wait for the boot as node time too (weight 1) doubles the
        // boot's part: B = 5 min, kept 10 and 2.5 min.
        var one = Fast with { BootDelay = TimeSpan.FromMinutes(2) };
        var eight = Fast8 with { BootDelay = TimeSpan.FromMinutes(2) };
        foreach (var (weight, idleAt, shortKeep, longKeep) in new[] { (0.0, 120, "1.5", 6), (1.0, 180, "2.5", 10) })
        {
            var core = PolicyCatalog.CreateGureumWith(new GureumPolicy(new GureumOptions { SkiBootWaitWeight = weight }));
            var arrivals = Enumerable.Range(0, 60).Select(i => View(B.Job($"a{i}", 0, 600, cpus: 4, mem: 16)) with { Seq = i + 1 }).ToList();
            core.Decide(Snapshot([one, eight]) with { Pending = arrivals });

            var idle1 = Node.Create("idle1", one, Market.OnDemand, NodeState.Ready, B.T0);
            var idle8 = Node.Create("idle8", eight, Market.OnDemand, NodeState.Ready, B.T0);
            var plan = core.Decide(Snapshot([one, eight], atS: idleAt) with { Nodes = [idle1, idle8] });
            var released = plan.Actions.OfType<Core.Planning.TerminateNode>().ToList();
            Assert.Equal(["idle8"], released.Select(r => r.NodeId));
            Assert.Contains($"idle {shortKeep} min", released[0].Reason);
            Assert.Equal(B.T0.AddMinutes(longKeep), plan.WakeAt);
        }
    }

    [Fact]
    public void Decide_BootingNodeNoWaitingJobNeeds_GureumReleasesIt_BaselineLetsItBoot()
    {
        var booting = Node.Create("boot1", Fast, Market.OnDemand, NodeState.Booting, B.T0);
        var idle = Snapshot([Fast]) with { Nodes = [booting] };
        var released = PolicyCatalog.CreateGureum().Decide(idle).Actions.OfType<Core.Planning.TerminateNode>().ToList();
        Assert.Equal(["boot1"], released.Select(r => r.NodeId));
        Assert.Contains("no waiting job needs it", released[0].Reason);
        Assert.Empty(PolicyCatalog.Create("reactive").Decide(idle).Actions.OfType<Core.Planning.TerminateNode>());

        // A waiting job that fits it keeps it: no release, and nothing new bought.
        var waiting = idle with { Pending = [View(B.Job("w", 0, 3600, cpus: 4, mem: 16))] };
        var plan = PolicyCatalog.CreateGureum().Decide(waiting);
        Assert.Empty(plan.Actions.OfType<Core.Planning.TerminateNode>());
        Assert.Empty(plan.Actions.OfType<Core.Planning.ProvisionNode>());
    }

    [Fact]
    public void PackingMismatch_CpuJobOnGpuNodeFarDearerThanItsCheapestFit_Refused()
    {
        var gpu8 = B.Offer("gpu.8", "A100", 8, 20m, vcpus: 96, mem: 768);
        var cpu64 = B.Offer("cpu.64", null, 0, 2m, vcpus: 64, mem: 512);
        var cpu96 = B.Offer("cpu.96", null, 0, 18m, vcpus: 96, mem: 768);
        var policy = new GureumPolicy();
        var node = Node.Create("n1", gpu8, Market.OnDemand, NodeState.Ready, B.T0);
        var snapshot = Snapshot([gpu8, cpu64, cpu96]);
        // 16 vCPUs fit the $2 CPU box: a $20 GPU node is 10× dearer.
        Assert.NotNull(policy.PackingMismatch(View(B.Job("c", 0, 3600, gpus: 0, cpus: 16, mem: 64)), node, snapshot));
        // 90 vCPUs fit only the $18 CPU box or the GPU node: 20 ≤ 1.25 × 18, allowed.
        Assert.Null(policy.PackingMismatch(View(B.Job("c", 0, 3600, gpus: 0, cpus: 90, mem: 64)), node, snapshot));
        // GPU jobs are never refused by this rule.
        Assert.Null(policy.PackingMismatch(View(B.Job("g", 0, 3600, gpus: 1, cpus: 4)), node, snapshot));
    }

    [Fact]
    public void Suitable_JobWithoutCheckpoint_LossBudgetIsAgainstTheReferenceRunTime()
    {
        // Hazard prior 1/12 per hour in every zone; past runs of this shape took 8–12 h, so the job's
        // pessimistic run time (the predictor's high, taken from the policy itself) is about 10 h. On a
        // V100 (the reference) the expected time with restarts from zero exceeds 1.1 × the reference
        // run time; on an A100 (2.2×) the same expected losses fit within it, so spot is acceptable there.
        var v100 = B.Offer("v100.1", "V100", 1, 3.06m, 0.90m, zone: "z-a");
        var history = new HistoryDurationPredictor();
        for (var i = 0; i < 20; i++) history.Observe(B.Job($"h{i}", 0, 0), TimeSpan.FromHours(8 + 4 * i / 19.0), B.T0);
        var policy = new GureumPolicy(models: new OperatorModels(history));
        var job = View(B.Job("j", 0, 10 * 3600));
        var snapshot = Snapshot([v100, Fast]);
        var refHours = policy.Models.PredictRemainingSeconds(job, B.T0).High / 3600;
        double Expected(double speed) => (Math.Exp(refHours / speed / 12) - 1) * 12;
        Assert.True(Expected(1) > 1.1 * refHours && Expected(2.2) <= 1.1 * refHours, $"high {refHours} h: the case no longer separates the rules");
        var onV100 = policy.Suitable(job, Node.Create("n1", v100, Market.Spot, NodeState.Ready, B.T0), snapshot);
        Assert.NotNull(onV100);
        Assert.Contains("spot risk", onV100);
        Assert.Null(policy.Suitable(job, Node.Create("n2", Fast, Market.Spot, NodeState.Ready, B.T0), snapshot));
    }

    /// <summary>Spot: an 8-A100 node at $12/h in z-b ($20 on demand) and a 96-vCPU CPU box at $2/h in z-a.</summary>
    private static (Offer Gpu8, Offer Cpu96) SpotGpuNodeAndCpuBox(decimal cpuOnDemand, int gpuBootS = 120) =>
        (B.Offer("gpu.8", "A100", 8, 20m, spot: 12m, zone: "z-b", vcpus: 96, mem: 768, bootS: gpuBootS),
         B.Offer("cpu.96", null, 0, cpuOnDemand, spot: 2m, zone: "z-a", vcpus: 96, mem: 768));

    [Fact]
    public void PackingMismatch_CheapestSpotFitInCooldown_IsNotCounted_UntilTheCooldownEnds()
    {
        // Spot: the CPU box $2 in z-a, the GPU node $12 in z-b. A reclaim in z-a at t=0 hides the box
        // for the 1-h cooldown: the GPU node is then the cheapest spot node the job can get.
        var (gpu8, cpu96) = SpotGpuNodeAndCpuBox(cpuOnDemand: 6m);
        var policy = new GureumPolicy();
        var node = Node.Create("n1", gpu8, Market.Spot, NodeState.Ready, B.T0);
        var job = View(B.Job("c", 0, 3600, gpus: 0, cpus: 96, mem: 400));
        var trouble = new Core.Planning.SpotSignals(Core.Planning.SpotSignals.Empty.LastTroubleByZoneModel.SetItem(Core.Planning.SpotSignals.Key("z-a", null), B.T0));
        IReadOnlyList<Offer> offers = [gpu8, cpu96];
        Assert.NotNull(policy.PackingMismatch(job, node, Snapshot(offers)));
        Assert.Null(policy.PackingMismatch(job, node, Snapshot(offers, trouble, atS: 600)));
        // Same offers and signals, later: the remembered answer must not outlive the cooldown.
        var after = policy.PackingMismatch(job, node, Snapshot(offers, trouble, atS: 3600));
        Assert.NotNull(after);
        Assert.Contains("$2/h", after);
    }

    [Fact]
    public void PackingMismatch_CheapestSpotFitTooRiskyForAnyJob_IsNotCounted()
    {
        // As above, without a cooldown: the $2 CPU box's zone has lost 500 spot nodes in 5 node-hours
        // (a mass reclaim minutes after boot). No job would be bought spot there (hazard × the 30-s
        // restart overhead is over the 10% loss budget even for a service), so the box is no
        // reference price: the $12 GPU node is the cheapest spot node the job would be given. Before
        // the rule the job was refused both and bought the box on demand at $16 (seen on the DLRM
        // trace: 1,051 services on on-demand GPU nodes for the month).
        var (gpu8, cpu96) = SpotGpuNodeAndCpuBox(cpuOnDemand: 16m);
        var policy = new GureumPolicy();
        var node = Node.Create("n1", gpu8, Market.Spot, NodeState.Ready, B.T0);
        var job = View(B.Job("c", 0, 3600, gpus: 0, cpus: 96, mem: 400) with { Kind = JobKind.Service });
        IReadOnlyList<Offer> offers = [gpu8, cpu96];
        Assert.NotNull(policy.PackingMismatch(job, node, Snapshot(offers)));
        Assert.Equal((cpu96.Id, Market.Spot), policy.Best(job, Snapshot(offers), null, out _) is { } first ? (first.Offer.Id, first.Market) : default);

        policy.Models.Spot.AddExposure("z-b", "A100", 1000); // z-b held its nodes: its hazard stays low
        policy.Models.Spot.AddExposure("z-a", null, 0.01, nodes: 500);
        for (var i = 0; i < 500; i++) policy.Models.Spot.AddLoss("z-a", null);
        Assert.True(policy.Models.Spot.Hazard("z-a", null) * 30.0 / 3600 > 0.10, "the zone is not risky enough to separate the rules");
        Assert.Null(policy.PackingMismatch(job, node, Snapshot(offers)));
        var best = policy.Best(job, Snapshot(offers), null, out _);
        Assert.NotNull(best);
        Assert.Equal((gpu8.Id, Market.Spot), (best.Value.Offer.Id, best.Value.Market));
    }

    [Fact]
    public void Decide_CpuJobWaitingForTheGpuNodeBoughtForIt_KeepsItWhenACheaperFitComesBack()
    {
        // As above: at 10 min the CPU box is in cooldown, so the policy buys the $12 GPU node for the
        // job (spot only). The cooldown ends while the node boots: the box is cheaper again, and the
        // node is now "too dear" for a CPU job. The job still waits for the node bought for it: no
        // second purchase, no release. A policy that had not bought it would turn it down.
        var (gpu8, cpu96) = SpotGpuNodeAndCpuBox(cpuOnDemand: 6m, gpuBootS: 7200);
        var job = View(B.Job("c", 0, 3600, gpus: 0, cpus: 96, mem: 400) with { Spot = SpotPreference.Always });
        var trouble = new Core.Planning.SpotSignals(Core.Planning.SpotSignals.Empty.LastTroubleByZoneModel.SetItem(Core.Planning.SpotSignals.Key("z-a", null), B.T0));
        IReadOnlyList<Offer> offers = [gpu8, cpu96];
        var core = PolicyCatalog.CreateGureum();
        var bought = Assert.Single(core.Decide(Snapshot(offers, trouble, atS: 600) with { Pending = [job] }).Actions.OfType<Core.Planning.ProvisionNode>());
        Assert.Same(gpu8, bought.Offer);

        var booting = Node.Create("n1", gpu8, Market.Spot, NodeState.Booting, B.T0.AddSeconds(600));
        var later = Snapshot(offers, trouble, atS: 4200) with { Pending = [job], Nodes = [booting] };
        Assert.Empty(core.Decide(later).Actions);

        var churn = PolicyCatalog.CreateGureum().Decide(later).Actions;
        Assert.Contains(churn, a => a is Core.Planning.ProvisionNode p && p.Offer == cpu96);
        Assert.Contains(churn, a => a is Core.Planning.TerminateNode t && t.NodeId == "n1");
    }

    [Fact]
    public async Task Replay_CpuJobsBesideShortGpuJobs_DoNotKeepTheGpuNodeAlive()
    {
        // The GPU node boots first with 64 free vCPUs; the long CPU jobs must wait for their own box
        // instead of holding the $20/h node for 10 h after the 1-hour GPU jobs end.
        var gpu8 = B.Offer("gpu.8", "A100", 8, 20m, vcpus: 96, mem: 768, bootS: 120);
        var cpu64 = B.Offer("cpu.64", null, 0, 2m, vcpus: 64, mem: 512, bootS: 600);
        var jobs = Enumerable.Range(0, 8).Select(i => B.Job($"g{i}", 0, 3600, cpus: 4, mem: 16) with { ReferenceGpu = "A100" })
            .Concat(Enumerable.Range(0, 2).Select(i => B.Job($"c{i}", 0, 36_000, gpus: 0, cpus: 16, mem: 64))).ToList();
        var o = await B.Run("gureum", jobs, [gpu8, cpu64]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(10, m.JobsCompleted);
        Assert.All(o.Runs["c0"].Concat(o.Runs["c1"]), r => Assert.Null(r.GpuModel));
        // Lower bound of the GPU node's share: 1 h at $20; the CPU jobs need 10 h of a $2 box.
        Assert.True(m.CostUsd < 20m * 1.5m + 2m * 11m, $"cost {m.CostUsd}");
    }
}
