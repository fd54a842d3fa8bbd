using Gureum.Simulation.Operator;

namespace Gureum.Simulation.Tests.Operator;

public sealed class DeadlineStudyTests
{
    private static DeadlineRun RandomRun(Random rng, out double gap)
    {
        gap = 0.25;
        var work = rng.Next(4, 20);
        var deadline = work + rng.Next(2, 16);
        var overhead = rng.Next(0, 3);
        var up = new bool[deadline];
        var p = rng.NextDouble();
        for (var i = 0; i < deadline; i++) up[i] = rng.NextDouble() < p;
        var hist = Enumerable.Range(0, 30).Select(_ => rng.NextDouble() < p).ToArray();
        return new DeadlineRun(deadline, work, overhead, up, hist);
    }

    [Fact]
    public void Optimum_RandomRuns_NeverAboveAnyPolicy_AndNoPolicyMissesADeadline()
    {
        var rng = new Random(7);
        IDeadlinePolicy[] policies = [new UniformProgressPolicy(), new GreedyDeadlinePolicy(), new GureumDeadlinePolicy()];
        for (var k = 0; k < 2000; k++)
        {
            var run = RandomRun(rng, out var gap);
            // Feasible only if on demand alone fits: work + one changeover within the deadline.
            if (run.WorkTicks + run.OverheadTicks + 2 > run.DeadlineTicks) continue;
            var opt = DeadlineStudy.Optimum(run, gap);
            foreach (var p in policies)
            {
                var o = DeadlineStudy.Simulate(run, p, gap);
                Assert.True(o.Met, $"case {k}: {p.Name} missed (work {run.WorkTicks}, deadline {run.DeadlineTicks}, overhead {run.OverheadTicks})");
                Assert.True(opt <= o.CostUsd + 1e-9, $"case {k}: optimum {opt} above {p.Name} {o.CostUsd}");
            }
        }
    }

    [Fact]
    public void Optimum_SpotAlwaysUp_CostsWorkPlusOneChangeoverOnSpot()
    {
        var run = new DeadlineRun(20, 10, 2, Enumerable.Repeat(true, 20).ToArray(), []);
        var opt = DeadlineStudy.Optimum(run, 0.5);
        Assert.Equal(12 * 0.5 * DeadlineStudy.SpotPerHour, opt, 9);
    }

    [Fact]
    public void Optimum_SpotNeverUp_PaysOnDemandForWorkAndChangeover()
    {
        var run = new DeadlineRun(20, 10, 1, new bool[20], []);
        Assert.Equal(11 * 0.5 * DeadlineStudy.OnDemandPerHour, DeadlineStudy.Optimum(run, 0.5), 9);
        var up = DeadlineStudy.Simulate(run, new UniformProgressPolicy(), 0.5);
        Assert.True(up.Met);
    }

    [RealDataFact]
    public void Study_CantBeLateTraces_GureumMissesNothingAndCostsNoMoreThanUniformProgress()
    {
        var traces = DeadlineStudy.LoadTraces(TestData.PathOf("spot_traces", "cant_be_late"));
        var results = DeadlineStudy.Run(traces, DeadlineStudy.DefaultSettings, [new UniformProgressPolicy(), new GureumDeadlinePolicy()]);
        Assert.Equal(DeadlineStudy.DefaultSettings.Count, results.Count);
        foreach (var r in results)
        {
            Assert.True(r.Runs >= 30, $"{r.Setting}: only {r.Runs} runs");
            Assert.Equal(0, r.Missed["gureum"]);
            Assert.Equal(0, r.Missed["uniform-progress"]);
            Assert.True(r.MeanCostUsd["gureum"] <= r.MeanCostUsd["uniform-progress"] + 1e-9, $"{r.Setting}: gureum {r.MeanCostUsd["gureum"]:F2} > UP {r.MeanCostUsd["uniform-progress"]:F2}");
            Assert.True(r.OptimumMeanCostUsd <= r.MeanCostUsd["gureum"] + 1e-9);
            // Spot is used: both cost well under on demand alone.
            Assert.True(r.MeanCostUsd["gureum"] < 0.8 * r.OnDemandOnlyCostUsd, $"{r.Setting}: gureum {r.MeanCostUsd["gureum"]:F2} vs on demand {r.OnDemandOnlyCostUsd:F2}");
        }
    }
}
