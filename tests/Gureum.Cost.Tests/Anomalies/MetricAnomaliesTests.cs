using Gureum.Autoscaling;
using Gureum.Cost.Allocation;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Metering;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;
using Xunit.Abstractions;

namespace Gureum.Cost.Tests.Anomalies;

public sealed class MetricAnomaliesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hourly_OneGpuJobOnTwoGpuNode_GpuCpuNodeHoursAndIdleShareByHour()
    {
        // T0 = 22:00: a fixed 2-GPU node, billed for the replay (22:30 → 23:30); job j holds 1 GPU and
        // 3 vCPUs 22:30 → 23:30, job k 1 GPU and 1 vCPU 23:00 → 23:30.
        var offer = B.Offer("x", "V100", 2, 3.6m, vcpus: 8, mem: 64);
        var o = await B.Run("static", [B.Job("j", 1800, 3600, gpus: 1, cpus: 3, mem: 4), B.Job("k", 3600, 1800, gpus: 1, cpus: 1, mem: 4)],
            [offer], [B.FleetNode("f", offer)]);
        var (usage, bills) = Meter.FromReplay(o);
        var nodes = bills.Select(NodeSpan.Of).ToList();
        var from = B.T0;
        var to = B.T0.AddHours(2);
        Assert.Equal(B.T0.AddMinutes(30), Assert.Single(nodes).Start);

        var gpu = MetricAnomalies.Hourly(AnomalyMetric.GpuHours, "lab", [], usage, nodes, from, to)["lab-a"];
        var cpu = MetricAnomalies.Hourly(AnomalyMetric.CpuHours, "project", [], usage, nodes, from, to)["lab-a/p"];
        Assert.Equal([0.5, 1.0], gpu.Select(p => Math.Round(p.Value, 9)));
        Assert.Equal([1.5, 2.0], cpu.Select(p => Math.Round(p.Value, 9)));
        Assert.Equal([from, from.AddHours(1)], gpu.Select(p => p.Hour));

        var pool = MetricAnomalies.PoolOf(offer.Id, Core.Cloud.Market.OnDemand);
        var nodeHours = MetricAnomalies.Hourly(AnomalyMetric.NodeHours, "pool", [], usage, nodes, from, to)[pool];
        Assert.Equal([0.5, 0.5], nodeHours.Select(p => Math.Round(p.Value, 9)));
        // GPU-hours billed 1 each hour, held 0.5 then 1 → idle 0.5, then 0.
        var idle = MetricAnomalies.Hourly(AnomalyMetric.IdleGpuHours, "pool", [], usage, nodes, from, to)[pool];
        Assert.Equal([0.5, 0.0], idle.Select(p => Math.Round(p.Value, 9)));
    }

    [Fact]
    public void Hourly_GroupingTheMetricDoesNotHave_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => MetricAnomalies.Hourly(AnomalyMetric.IdleGpuHours, "lab", [], [], [], B.T0, B.T0.AddHours(1)));
        Assert.Contains("per pool", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MetricAnomalies.Hourly(AnomalyMetric.GpuHours, "pool", [], [], [], B.T0, B.T0.AddHours(1)));
        Assert.Equal(AnomalyMetric.IdleGpuHours, MetricAnomalies.Parse("IDLE-GPU-HOURS"));
        Assert.Null(MetricAnomalies.Parse("gpu"));
    }

    [RealDataFact]
    public async Task Detect_OpenbUsageAndPoolSeriesWithInjectedAnomalies_FlaggedAtTheHourWithoutLookAhead()
    {
        var (trace, offers, spot) = new SharedData(TestData.RequireRoot()).LoadOpenb(seed: 1);
        var o = await ReplayEngine.RunAsync(new ReplaySetup { Core = PolicyCatalog.Create("reactive"), Jobs = trace.Jobs, Offers = offers, Spot = spot });
        var (usage, bills) = Meter.FromReplay(o);
        var nodes = bills.Select(NodeSpan.Of).ToList();
        var lines = CostAllocator.Allocate("reactive", bills, usage);
        var from = usage.Min(u => u.Start);
        var to = usage.Max(u => u.End);

        // GPU-hours per lab add up to the usage records' GPU-seconds; node-hours per pool to the bills' seconds (inside the window).
        var gpu = MetricAnomalies.Hourly(AnomalyMetric.GpuHours, "lab", lines, usage, nodes, from, to);
        Assert.Equal(usage.Sum(u => u.GpuSeconds) / 3600, gpu.Values.Sum(s => s.Sum(p => p.Value)), 3);
        var idle = MetricAnomalies.Hourly(AnomalyMetric.IdleGpuHours, "pool", lines, usage, nodes, from, to);
        Assert.All(idle.Values.SelectMany(s => s), p => Assert.True(p.Value >= 0));

        var nodeHours = MetricAnomalies.Hourly(AnomalyMetric.NodeHours, "pool", lines, usage, nodes, from, to);
        // (the series cover whole hours: from its hour's start to the end of the hour of `to`)
        var (h0, h1) = (SpendAnomalies.Floor(from), SpendAnomalies.Floor(from).AddHours(Math.Ceiling((to - SpendAnomalies.Floor(from)).TotalHours)));
        Assert.Equal(nodes.Where(n => n.End > h0 && n.Start < h1).Sum(n => ((n.End < h1 ? n.End : h1) - (n.Start > h0 ? n.Start : h0)).TotalHours),
            nodeHours.Values.Sum(s => s.Sum(p => p.Value)), 3);
        foreach (var (metric, key, series) in new[]
        {
            Pick(AnomalyMetric.GpuHours, gpu),
            Pick(AnomalyMetric.CpuHours, MetricAnomalies.Hourly(AnomalyMetric.CpuHours, "lab", lines, usage, nodes, from, to)),
            Pick(AnomalyMetric.NodeHours, nodeHours),
            Pick(AnomalyMetric.IdleGpuHours, idle),
        })
        {
            var normal = MetricAnomalies.Score(series);
            var flagged = MetricAnomalies.Detect(metric, key, series);
            // Inject at the first hour from 1/3 of the way on where the real series is calm and busy
            // (no flag in the 24 h before or at it; for a pool: at least one node billed all hour).
            var at = Enumerable.Range(series.Length / 3, series.Length * 2 / 3).First(i =>
                Enumerable.Range(i - 24, 25).All(k => normal[k] < SpendAnomalies.DefaultThreshold)
                && (MetricAnomalies.SubjectOf(metric) == AnomalySubject.Tenant || nodeHours[key][i].Value >= 1));
            var injected = series.ToArray();
            // A runaway hour: 3 × the largest value so far on top (as the spend test does).
            injected[at] = injected[at] with { Value = series[at].Value + 3 * series.Take(at).Max(p => p.Value) };
            var scores = MetricAnomalies.Score(injected);
            output.WriteLine($"{MetricAnomalies.Name(metric)} {key}: {series.Length} hours, {flagged.Count} flagged in the real series ({(double)flagged.Count / series.Length:P2}); " +
                $"injected {MetricAnomalies.Format(metric, injected[at].Value)} (was {MetricAnomalies.Format(metric, series[at].Value)}) at {series[at].Hour:u}: score {scores[at]:F4} vs {normal[at]:F4}");

            Assert.True(scores[at] >= SpendAnomalies.DefaultThreshold, $"{metric} injected hour scored {scores[at]}");
            Assert.True(normal[at] < SpendAnomalies.DefaultThreshold);
            Assert.Contains(MetricAnomalies.Detect(metric, key, injected), a => a.Hour == series[at].Hour && a.Metric == metric);
            // Streaming, no look-ahead: every earlier hour scores exactly the same with and without the injection.
            Assert.Equal(normal.Take(at), scores.Take(at));
        }
    }

    /// <summary>The key with the largest total (the busiest lab or pool) and its series.</summary>
    private static (AnomalyMetric, string, MetricPoint[]) Pick(AnomalyMetric metric, IReadOnlyDictionary<string, MetricPoint[]> all)
    {
        var (key, series) = all.OrderByDescending(kv => kv.Value.Sum(p => p.Value))
            .ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).First();
        return (metric, key, series);
    }
}
