using CsCheck;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;

namespace Gureum.Cost.Tests.Allocation;

public sealed class CostAllocatorTests
{
    private static readonly Offer Gpu4 = B.Offer("g4", "V100", 4, 4.00m, spot: 1.20m, vcpus: 32, mem: 256);

    private static BilledNode Bill(string id, Offer offer, double startS, long seconds, decimal price) => new()
    {
        NodeId = id, Offer = offer, Market = Market.OnDemand, Start = B.T0.AddSeconds(startS), BilledSeconds = seconds,
        BilledUsd = seconds * price / 3600m, Prices = [new PricePoint(B.T0.AddSeconds(startS), price)],
    };

    private static UsageRecord Use(string job, string node, Offer offer, double startS, double endS, int milli, double cpus = 1, double mem = 1, string lab = "a") => new()
    {
        JobId = job, RunIndex = 0, NodeId = node, Lab = lab, Project = "p", User = "u", Start = B.T0.AddSeconds(startS), End = B.T0.AddSeconds(endS),
        MilliGpus = milli, Cpus = cpus, MemoryGiB = mem, OfferId = offer.Id, Market = Market.OnDemand, PricePerHourAtStart = 4m,
    };

    [Fact]
    public void Allocate_HandWorkedNode_SplitsByBindingShareAndShowsIdle()
    {
        // 4-GPU node at $4/h billed for 1 h (T0 = 22:00, one day). Job x holds 2 GPUs for the whole
        // hour (share 0.5 = $2); job y holds half a GPU (0.125) but 16 of 32 vCPUs (0.5 binds) for
        // the first half hour ($1). Idle: 0.5 × 0.5 h + 0 × … = the rest, $1.
        var bill = Bill("n1", Gpu4, 0, 3600, 4m);
        var lines = CostAllocator.Allocate("t", [bill], [Use("x", "n1", Gpu4, 0, 3600, 2000), Use("y", "n1", Gpu4, 0, 1800, 500, cpus: 16)]);
        Assert.Equal(2.000000m, lines.Single(l => l.JobId == "x").AmountUsd);
        Assert.Equal(1.000000m, lines.Single(l => l.JobId == "y").AmountUsd);
        Assert.Equal(1.000000m, lines.Single(l => l.Kind == CostKind.Idle).AmountUsd);
    }

    [Fact]
    public void Allocate_SharesOverOne_ScaledSoNoIdleAndNoOvercharge()
    {
        // x binds on GPUs (1.0), y binds on memory (0.75): Σ 1.75 → scaled to 4/7 and 3/7.
        var bill = Bill("n1", Gpu4, 0, 3600, 7m);
        var lines = CostAllocator.Allocate("t", [bill], [Use("x", "n1", Gpu4, 0, 3600, 4000), Use("y", "n1", Gpu4, 0, 3600, 0, mem: 192)]);
        Assert.Equal(4m, lines.Single(l => l.JobId == "x").AmountUsd);
        Assert.Equal(3m, lines.Single(l => l.JobId == "y").AmountUsd);
        Assert.Equal(0m, lines.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd));
    }

    [Fact]
    public void Allocate_NodeAcrossMidnight_SplitsByUtcDay()
    {
        // Billed 22:00–02:00 with nobody on it: all idle, 2 h on Jan 1 and 2 h on Jan 2.
        var lines = CostAllocator.Allocate("t", [Bill("n1", Gpu4, 0, 4 * 3600, 3m)], []);
        Assert.Equal(new[] { 6m, 6m }, lines.OrderBy(l => l.Day).Select(l => l.AmountUsd));
        Assert.Equal(new DateOnly(2024, 1, 2), lines.Max(l => l.Day));
    }

    [Fact]
    public void LargestRemainder_ThirdsOfACent_SumExactly()
    {
        var r = CostAllocator.LargestRemainder(100, [1, 1, 1]);
        Assert.Equal(100, r.Sum());
        Assert.Equal(new long[] { 34, 33, 33 }, r);
    }

    [Fact]
    public void LargestRemainder_AnyWeights_SumToTotalAndWithinOneOfExact()
    {
        Gen.Select(Gen.Long[0, 10_000_000_000], Gen.Double[0, 1000].Array[1, 40]).Sample((total, w) =>
        {
            var r = CostAllocator.LargestRemainder(total, w);
            Assert.Equal(total, r.Sum());
            var sum = w.Sum();
            if (sum > 0)
                for (var i = 0; i < w.Length; i++) Assert.True(Math.Abs(r[i] - total * w[i] / sum) <= 1.0 + total * 1e-12, $"cell {i}: {r[i]} vs {total * w[i] / sum}");
        });
    }

    private static readonly Offer[] Offers =
    [
        B.Offer("v100x1", "V100", 1, 3.06m, spot: 0.92m, zone: "z-a"),
        B.Offer("a100x4", "A100", 4, 16.0m, spot: 6.0m, zone: "z-a", vcpus: 48, mem: 340),
        B.Offer("t4x8", "T4", 8, 7.8m, spot: 2.9m, zone: "z-b", vcpus: 96, mem: 384),
        B.Offer("cpu16", null, 0, 0.77m, spot: 0.3m, zone: "z-a", vcpus: 16, mem: 64),
    ];

    private static readonly Gen<(JobSpec[] Jobs, string Policy, double[] Reclaims)> GenCase =
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, int.MaxValue], Gen.Int[0, 2], Gen.Double[0, 30000].Array[0, 3]).Select((n, seed, p, reclaims) =>
        {
            var rnd = new Random(seed);
            var jobs = Enumerable.Range(0, n).Select(i =>
            {
                var kind = rnd.Next(5);
                var (gpus, milli) = kind switch { 0 => (0, 0), 1 => (1, 250 * rnd.Next(1, 4)), 2 => (1, 0), 3 => (2, 0), _ => (4, 0) };
                return B.Job($"j{i}", rnd.Next(0, 40000), rnd.Next(30, 30000), gpus, milli, lab: $"lab{rnd.Next(3)}", nodes: rnd.Next(8) == 0 ? 2 : 1,
                    cpus: rnd.Next(1, 8), mem: rnd.Next(1, 32), checkpointS: 600);
            }).ToArray();
            return (jobs, new[] { "static", "reactive", "spot-fallback" }[p], reclaims);
        });

    [Fact]
    public void Allocate_RandomReplays_ReconcileToTheMicroDollarPerNodeAndToTheCentOverall()
    {
        GenCase.Sample(c =>
        {
            var fleet = c.Policy == "static" ? new[] { B.FleetNode("f0", Offers[1]), B.FleetNode("f1", Offers[2]), B.FleetNode("f2", Offers[3]) } : null;
            var o = B.Run(c.Policy, c.Jobs, Offers, fleet, new HourlySpotMarket(c.Reclaims)).GetAwaiter().GetResult();
            var (usage, bills) = Meter.FromReplay(o);
            var lines = CostAllocator.Allocate("t", bills, usage);
            foreach (var b in bills)
            {
                var mine = lines.Where(l => l.NodeId == b.NodeId).ToList();
                Assert.Equal(Math.Round(b.BilledUsd, 6, MidpointRounding.AwayFromZero), mine.Sum(l => l.AmountUsd));
                Assert.All(mine, l => Assert.True(l.AmountUsd >= 0));
            }
            var billed = o.Bills.Sum(b => b.BilledUsd);
            Assert.True(Math.Abs(lines.Sum(l => l.AmountUsd) - billed) < 0.01m, $"{lines.Sum(l => l.AmountUsd)} vs billed {billed}");
            // Every metered GPU-second of a job shows up in its lines (none lost, none invented).
            var gpuS = usage.Sum(u => u.GpuSeconds);
            Assert.Equal(gpuS, lines.Sum(l => l.GpuSeconds), 3);
        }, iter: 150);
    }
}
