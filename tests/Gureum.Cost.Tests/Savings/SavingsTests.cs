using Gureum.Core.Cloud;
using Gureum.Cost.Savings;
using Gureum.Simulation.Cloud;
using Xunit.Abstractions;

namespace Gureum.Cost.Tests.Savings;

public sealed class SavingsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Optimize_SmallCase_MatchesBruteForce(int seed)
    {
        var rnd = new Random(seed);
        var pools = new[]
        {
            new DemandPool("a100", 4.10m, Enumerable.Range(0, 12).Select(_ => (double)rnd.Next(0, 5)).ToArray()),
            new DemandPool("t4", 0.95m, Enumerable.Range(0, 12).Select(_ => rnd.Next(0, 7) + 0.5 * rnd.Next(2)).ToArray()),
        };
        var options = new CommitmentOptions { FlexibleStepPerHour = 0.5m };
        var plan = CommitmentPlanner.Optimize(pools, options);
        decimal best = decimal.MaxValue;
        (int, int, decimal) arg = default;
        for (var a = 0; a <= 4; a++)
        for (var t = 0; t <= 7; t++)
        for (var f = 0m; f <= 40m; f += 0.5m)
        {
            var c = CommitmentPlanner.Cost(pools, new Dictionary<string, int> { ["a100"] = a, ["t4"] = t }, f, options);
            if (c < best) { best = c; arg = (a, t, f); }
        }
        output.WriteLine($"solver {plan.Solver}: {string.Join(",", plan.Reserved)} flex {plan.FlexiblePerHour} cost {plan.PlannedUsd}; brute force {arg} cost {best}; on-demand {plan.OnDemandOnlyUsd}");
        Assert.Equal(best, plan.PlannedUsd);
        Assert.True(plan.SavingUsd >= 0);
    }

    [Fact]
    public void Optimize_SteadyDemand_ReservesItAndSavesTheDiscount()
    {
        var pools = new[] { new DemandPool("v100", 3m, Enumerable.Repeat(2.0, 48).ToArray()) };
        var plan = CommitmentPlanner.Optimize(pools, new CommitmentOptions());
        Assert.Equal(2, plan.Reserved["v100"]);
        Assert.Equal(0m, plan.FlexiblePerHour);
        Assert.Equal(48 * 2 * 3m * 0.37m, plan.SavingUsd);
    }

    private static ContainerSeries Series(string id, Func<int, double> duty, int n = 240, double step = 60, double memGiB = 10) =>
        new(id, Enumerable.Range(0, n).Select(i => i * step).ToArray(), Enumerable.Range(0, n).Select(duty).ToArray(), memGiB * 1024 * 1024 * 1024);

    [Fact]
    public void Detect_IdleAndBusyAndSpikyContainers_AppliesTheRule()
    {
        var rule = new IdleRule();
        var found = IdleGpuDetector.Detect(
        [
            Series("idle", _ => 0),
            Series("busy", i => 60),
            Series("spike-once-an-hour", i => i % 60 == 30 ? 40 : 1),
            Series("idle-3-of-4-hours", i => i < 60 ? 50 : 2),
        ], rule).ToDictionary(f => f.Container);
        Assert.True(found["idle"].Release);
        Assert.Equal(4, found["idle"].IdleWindows);
        Assert.Equal(0, found["busy"].IdleWindows);
        Assert.Equal(0, found["spike-once-an-hour"].IdleWindows);
        Assert.Equal(3, found["idle-3-of-4-hours"].IdleWindows);
        Assert.False(found["idle-3-of-4-hours"].Release);
    }

    [RealDataFact]
    public void Detect_AlibabaGenAi_FindsIdleGpus()
    {
        var series = GpuUtilization.LoadDirectory(TestData.PathOf("utilization", "alibaba_genai2026_gpu"));
        var found = IdleGpuDetector.Detect(series, new IdleRule());
        var windows = found.Sum(f => f.Windows);
        var idle = found.Sum(f => f.IdleWindows);
        output.WriteLine($"{series.Count} containers, {windows} GPU-hours, {idle} idle ({(double)idle / windows:P1}), release {found.Count(f => f.Release)}");
        Assert.Equal(143, series.Count);
        Assert.InRange((double)idle / windows, 0.05, 0.95);
        // Every released GPU is idle in most windows and averages low duty.
        Assert.All(found.Where(f => f.Release), f => Assert.True(f.MeanDutyPercent < 10, $"{f}"));
    }

    [Fact]
    public void Rightsize_LowDutySmallMemory_MovesToCheaperFittingGpu()
    {
        Offer O(string type, string gpu, double mem, decimal price) => new() { Cloud = "t", Region = "r", Zone = "z", InstanceType = type, GpuModel = gpu, GpuCount = 1, GpuMemoryGiB = mem, VCpus = 8, MemoryGiB = 32, OnDemandPerHour = price };
        var offers = new[] { O("a", "A100", 40, 4m), O("b", "T4", 16, 0.5m), O("c", "L4", 24, 0.8m) };
        var found = Rightsizing.Recommend(
        [
            Series("small", _ => 10, memGiB: 10),   // fits T4: 10 × 2.2/0.4 = 55 % ≤ 80 %
            Series("mem20", _ => 10, memGiB: 19),   // needs 22.8 GiB: L4; 10 × 2.2/0.6 = 37 %
            Series("busy", _ => 60, memGiB: 10),    // 60 × 2.2/0.6 = 220 %: stays
        ], "A100", offers).ToDictionary(f => f.Container);
        Assert.Equal("T4", found["small"].ToModel);
        Assert.Equal(Math.Round(3.5m * 730, 2), found["small"].MonthlySavingUsd);
        Assert.Equal("L4", found["mem20"].ToModel);
        Assert.False(found.ContainsKey("busy"));
    }
}
