using Gureum.Core.Domain;
using Gureum.Simulation.Metrics;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>The split of a replay's bill beyond the cost lower bound (<see cref="CostGap"/>), with numbers worked by hand.</summary>
public sealed class CostGapTests
{
    private static readonly Gureum.Core.Cloud.Offer ZoneA = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 0.90m, zone: "z-a");
    private static readonly Gureum.Core.Cloud.Offer ZoneB = B.Offer("p3.2xlarge", "V100", 1, 3.06m, spot: 1.00m, zone: "z-b");

    [Fact]
    public async Task Of_CheckpointingJobReclaimedOnce_RerunBeforeFirstRunAndIdleAfterAddUpToTheBill()
    {
        // As in GoldenTraceTests: spot in zone a 0–1800 ($0.90/h; boot to 120, run 120–1800, reclaimed),
        // spot in zone b 1800–4950 ($1.00/h; boot to 1920, run 1920–4350, idle to 4950). Bound: 1 h × $0.90.
        // Job's runs: 1680 s × 0.90 + 2430 s × 1.00 = $1.095, so $0.195 over its bound, in "reruns, keep work".
        var o = await B.Run("spot-fallback", [B.Job("j1", 0, 3600, checkpointS: 600)], [ZoneA, ZoneB], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }));
        var g = ReplayMetrics.Compute(o).CostGap!;
        Assert.Equal(1.325, g.BilledUsd, 9);
        Assert.Equal(0.90, g.LowerBoundUsd, 9);
        Assert.Equal(0.195, g.RerunKeepsWorkUsd, 9);
        Assert.Equal(0, g.RerunRestartFromZeroUsd, 9);
        Assert.Equal(120 * 0.90 / 3600 + 120 * 1.00 / 3600, g.BeforeFirstRunUsd, 9);
        Assert.Equal(600 * 1.00 / 3600, g.IdleAfterLastRunUsd, 9);
        Assert.Equal(0, g.PartialPackingUsd + g.IdleBetweenRunsUsd + g.UnusedNodesUsd + g.SingleRunSpotUsd + g.SingleRunOnDemandUsd, 9);
    }

    [Fact]
    public async Task Of_JobWithoutCheckpointsReclaimedOnce_LostRunAndRestartCountAsRestartFromZero()
    {
        // The same without checkpoints: run 2 is 30 s restart + 3600 s (1920–5550), node b to 6150.
        // Runs: 1680 s × 0.90 + 3630 s × 1.00 = $1.428333, $0.528333 over the bound.
        var o = await B.Run("spot-fallback", [B.Job("j1", 0, 3600)], [ZoneA, ZoneB], spot: new ScriptedSpotMarket(new() { ["z-a"] = [1800] }));
        var g = ReplayMetrics.Compute(o).CostGap!;
        Assert.Equal(0.45 + 4350 / 3600.0, g.BilledUsd, 9);
        Assert.Equal((1680 * 0.90 + 3630 * 1.00) / 3600 - 0.90, g.RerunRestartFromZeroUsd, 9);
        Assert.Equal(0, g.RerunKeepsWorkUsd, 9);
        Assert.Equal(g.BilledUsd, g.LowerBoundUsd + g.Parts.Sum(p => p.Usd), 9);
    }

    [Fact]
    public async Task Of_OneGpuJobOnTwoGpuNode_HalfTheNodeIsPartialPacking()
    {
        // Only a 2-GPU on-demand node at $2/h exists: the bound is half of it for 1 h ($1.00), and the
        // job's half is exactly that; the other half of its hour is partial packing.
        var o = await B.Run("reactive", [B.Job("j1", 0, 3600)], [B.Offer("v100x2", "V100", 2, 2.0m, vcpus: 16, mem: 128)]);
        var g = ReplayMetrics.Compute(o).CostGap!;
        Assert.Equal(1.00, g.LowerBoundUsd, 9);
        Assert.Equal(0, g.SingleRunOnDemandUsd, 9);
        Assert.Equal(1.00, g.PartialPackingUsd, 9);
        Assert.Equal(120 * 2.0 / 3600, g.BeforeFirstRunUsd, 9);
        Assert.Equal(g.BilledUsd, g.LowerBoundUsd + g.Parts.Sum(p => p.Usd), 9);
        Assert.Equal(JobStatus.Completed, o.Jobs.Single().Status);
    }
}
