using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;
using Gureum.Simulation.Metrics;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>Small traces whose results were worked out by hand (the arithmetic is in each comment).</summary>
public sealed class GoldenTraceTests
{
    [Fact]
    public async Task Static_TwoJobsOneGpu_SecondWaitsForFirst()
    {
        // One V100 node at $3.06/h. J1: 0 s, 3600 s. J2: 600 s, 1800 s. J1 runs 0–3600, J2 3600–5400.
        // JCT 3600 and 4800 (mean 4200); waits 0 and 3000 (mean 1500); billed 5400 s × 3.06/3600 = $4.59.
        // LB = (1 h + 0.5 h) × 3.06 = $4.59, so cost / LB = 1 and GPU allocation utilization = 1.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("static", [B.Job("j1", 0, 3600), B.Job("j2", 600, 1800)], [v100], [B.FleetNode("n1", v100)]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(4.59m, m.CostUsd);
        Assert.Equal(4.59, m.CostLowerBoundUsd, 6);
        Assert.Equal(4200, m.MeanJctS, 6);
        Assert.Equal(1500, m.MeanWaitS, 6);
        Assert.Equal(1.0, m.GpuAllocUtilization, 6);
        Assert.Equal(2, m.JobsCompleted);
    }

    [Fact]
    public async Task Reactive_BuysCheapestFittingOffer_RunsSlowerOnIt_ReleasesAfterIdleTimeout()
    {
        // Offers: T4 $0.526/h (speed 0.4), V100 $3.06/h. One 1-GPU job of 3600 s on V100, at t=0.
        // Cheapest fitting on-demand is T4: ready at 120 s, runs 3600/0.4 = 9000 s, ends 9120 (JCT).
        // Idle 10 min → released at 9720; billed 9720 s × 0.526/3600 = $1.4202.
        // LB: min(T4: 0.526 × 2.5 h = 1.315, V100: 3.06 × 1 h) = $1.315. JCT LB (fastest GPU) = 3600.
        var t4 = B.Offer("g4dn.xlarge", "T4", 1, 0.526m);
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("reactive", [B.Job("j1", 0, 3600)], [t4, v100]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(9120, m.MeanJctS, 6);
        Assert.Equal(1.4202m, m.CostUsd);
        Assert.Equal(1.315, m.CostLowerBoundUsd, 6);
        Assert.Equal(3600, m.MeanJctLowerBoundS, 6);
        var bill = Assert.Single(o.Bills);
        Assert.Equal("g4dn.xlarge", bill.Offer.InstanceType);
        Assert.Equal(9720, bill.BilledSeconds);
    }

    [Fact]
    public async Task SpotFallback_ReclaimedZoneIsAvoided_JobResumesFromCheckpoint()
    {
        // V100 spot: zone a $0.90/h, zone b $1.00/h; on-demand $3.06. Job: 3600 s, checkpoint 600 s.
        // t=0 buy spot in a (cheapest); ready 120; run starts 120. Zone a reclaims at 1800:
        // 1680 s of work → last checkpoint 1200 s. Zone a is avoided; buy spot in b at 1800, ready 1920,
        // run 2: 30 s restart + 2400 s left → ends 4350 (JCT). Node b idle → released 4950.
        // Bills: a 0–1800 = 1800 s × 0.90 = $0.45; b 1800–4950 = 3150 s × 1.00 = $0.875; total $1.325.
        var a = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var b = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 1.00m, zone: "z-b");
        var spot = new ScriptedSpotMarket(new() { ["z-a"] = [1800] });
        var o = await B.Run("spot-fallback", [B.Job("j1", 0, 3600, checkpointS: 600)], [a, b], spot: spot);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(4350, m.MeanJctS, 6);
        Assert.Equal(1.325m, m.CostUsd);
        Assert.Equal(1, m.Preemptions);
        var runs = o.Runs["j1"];
        Assert.Equal([RunOutcome.NodeLost, RunOutcome.Completed], runs.Select(r => r.Outcome));
    }

    [Fact]
    public async Task SpotFallback_ServiceReclaimed_ReplacementServesOnWithoutLosingWork()
    {
        // As above, but the job is a service (no checkpoints): it keeps all 1680 s it served in zone a.
        // Buy spot in b at 1800, ready 1920; run 2: 30 s restart + 1920 s left → ends 3870 (JCT).
        // Node b idle → released 4470. Bills: a $0.45; b 1800–4470 = 2670 s × 1.00 = $0.741667 → $1.191667.
        // The same job as a batch job without checkpoints would restart from zero: 1920 + 30 + 3600 = 5550.
        var a = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
        var b = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 1.00m, zone: "z-b");
        var service = B.Job("s1", 0, 3600) with { Kind = JobKind.Service };
        var o = await B.Run("spot-fallback", [service], [a, b], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }));
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(3870, m.MeanJctS, 6);
        Assert.Equal(1.1917m, m.CostUsd); // reported to 4 places
        Assert.Equal([RunOutcome.NodeLost, RunOutcome.Completed], o.Runs["s1"].Select(r => r.Outcome));
        Assert.Equal(1, m.ServicesCompleted);
        Assert.Equal(120.0 / 3750, m.ServiceDowntimeShare, 9); // down 1800–1920 of 120–3870

        var batch = await B.Run("spot-fallback", [service with { Kind = JobKind.Batch }], [a, b], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }));
        Assert.Equal(5550, ReplayMetrics.Compute(batch).MeanJctS, 6);
        Assert.Equal(0, ReplayMetrics.Compute(batch).ServicesCompleted);
    }

    [Fact]
    public async Task Static_FractionalJobsShareOneGpu_ThirdWaits()
    {
        // One 1-GPU node. Two 500-milli jobs at t=0 for 1000 s share the GPU; a 600-milli job at t=0
        // waits for 1000 s, then runs to 2000. JCTs 1000, 1000, 2000 → mean 4000 / 3.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("static", [B.Job("a", 0, 1000, 1, 500), B.Job("b", 0, 1000, 1, 500), B.Job("c", 0, 1000, 1, 600)], [v100], [B.FleetNode("n1", v100)]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(4000.0 / 3, m.MeanJctS, 6);
        Assert.Equal(o.Runs["a"][0].NodeIds, o.Runs["b"][0].NodeIds);
    }

    [Fact]
    public async Task Static_GangWaitsUntilAllMembersFit()
    {
        // Two 1-GPU nodes. j1 (1 node) runs 0–1000. Gang g (2 nodes × 1 GPU) at 10 s must wait for
        // both: starts 1000, ends 1500 → JCT 1490. Both gang slices start at the same instant.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("static", [B.Job("j1", 0, 1000), B.Job("g", 10, 500, nodes: 2)], [v100], [B.FleetNode("n1", v100), B.FleetNode("n2", v100)]);
        var g = o.Runs["g"][0];
        Assert.Equal(B.T0.AddSeconds(1000), g.Start);
        Assert.Equal(B.T0.AddSeconds(1500), g.End);
        Assert.Contains('+', g.NodeIds);
    }

    [Fact]
    public async Task Static_HighPriorityPreemptsLowPriority_WhichResumesFromCheckpoint()
    {
        // One GPU. low (prio 0, 2000 s, checkpoint 500 s) runs from 0. high (prio 10, 1000 s) at 700 s
        // preempts it: low saved 500 s. high runs 700–1700. low restarts at 1700: 30 s + 1500 s → 3230.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("static", [B.Job("low", 0, 2000, checkpointS: 500), B.Job("high", 700, 1000, priority: 10)], [v100], [B.FleetNode("n1", v100)]);
        Assert.Equal(B.T0.AddSeconds(1700), o.Runs["high"][0].End);
        Assert.Equal([RunOutcome.Preempted, RunOutcome.Completed], o.Runs["low"].Select(r => r.Outcome));
        Assert.Equal(B.T0.AddSeconds(3230), o.Runs["low"][^1].End);
    }

    [Fact]
    public async Task Backfill_ShortJobRunsBeforeReservation_LongOneWaits()
    {
        // Two 1-GPU nodes. r (limit 1000) runs 0–1000 on one node. big (2 GPUs on one node? no: a
        // 2-node gang) at 1 s cannot start: reserved for t=1000 on both nodes. At 2 s: short (limit 500)
        // fits on the free node and ends by 502 < 1000 → backfilled. long (limit 5000) would delay
        // big → waits until big is done (1000–1100), then runs from 1100.
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var jobs = new[]
        {
            B.Job("r", 0, 1000, limitS: 1000), B.Job("big", 1, 100, nodes: 2, limitS: 100),
            B.Job("short", 2, 500, limitS: 500), B.Job("long", 3, 2000, limitS: 5000),
        };
        var o = await B.Run("static", jobs, [v100], [B.FleetNode("n1", v100), B.FleetNode("n2", v100)], profile: Profiles.Backfill);
        Assert.Equal(B.T0.AddSeconds(2), o.Runs["short"][0].Start);
        Assert.Equal(B.T0.AddSeconds(1000), o.Runs["big"][0].Start);
        Assert.Equal(B.T0.AddSeconds(1100), o.Runs["long"][0].Start);
    }

    [Fact]
    public async Task Static_JobLargerThanAnyNode_IsUnschedulable()
    {
        var v100 = B.Offer("p3.2xlarge", "V100", 1, 3.06m);
        var o = await B.Run("static", [B.Job("ok", 0, 10), B.Job("huge", 0, 10, gpus: 8)], [v100], [B.FleetNode("n1", v100)]);
        var m = ReplayMetrics.Compute(o);
        Assert.Equal(1, m.JobsCompleted);
        Assert.Equal(1, m.JobsUnschedulable);
        Assert.Equal(JobStatus.Unschedulable, o.Jobs.Single(j => j.Id == "huge").Status);
    }
}
