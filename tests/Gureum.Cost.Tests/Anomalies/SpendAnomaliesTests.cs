using Gureum.Autoscaling;
using Gureum.Cost.Allocation;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Metering;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;
using Xunit.Abstractions;

namespace Gureum.Cost.Tests.Anomalies;

public sealed class SpendAnomaliesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hourly_JobAcrossHoursAndMidnight_SpreadsEachDaysCostBySecondsHeld()
    {
        // T0 = 22:00: a job runs 22:30 → 01:15 next day on one node (priced 3.6 USD/h, the job holds all of it).
        var offer = B.Offer("x", "V100", 1, 3.6m, vcpus: 1, mem: 4);
        var o = await B.Run("static", [B.Job("j", 1800, 2.75 * 3600, gpus: 1, cpus: 1, mem: 4)], [offer], [B.FleetNode("f", offer)]);
        var (usage, bills) = Meter.FromReplay(o);
        var lines = CostAllocator.Allocate("t", bills, usage);
        var series = SpendAnomalies.Hourly(lines, usage, l => l.Lab, B.T0, B.T0.AddHours(4))["lab-a"];
        Assert.Equal(4, series.Length);
        Assert.Equal(B.T0, series[0].Hour);
        // 22:xx 0.5 h, 23:xx 1 h, 00:xx 1 h, 01:xx 0.25 h, at 3.6 USD/h.
        Assert.Equal([1.8m, 3.6m, 3.6m, 0.9m], series.Select(p => Math.Round(p.Usd, 6)));
        Assert.Equal(lines.Where(l => l.Kind == CostKind.Usage).Sum(l => l.AmountUsd), series.Sum(p => p.Usd));
    }

    [RealDataFact]
    public async Task Detect_OpenbLabSpendWithInjectedSpike_SpikeFlaggedSameHourUnflaggedWithoutIt()
    {
        var (trace, offers, spot) = new SharedData(TestData.RequireRoot()).LoadOpenb(seed: 1);
        var o = await ReplayEngine.RunAsync(new ReplaySetup { Core = PolicyCatalog.Create("reactive"), Jobs = trace.Jobs, Offers = offers, Spot = spot });
        var (usage, bills) = Meter.FromReplay(o);
        var lines = CostAllocator.Allocate("reactive", bills, usage);
        var from = usage.Min(u => u.Start);
        var to = usage.Max(u => u.End);
        var byLab = SpendAnomalies.Hourly(lines, usage, l => l.Lab, from, to);
        // Σ hourly = Σ allocated usage, to the cent.
        Assert.Equal(Math.Round(lines.Where(l => l.Kind == CostKind.Usage).Sum(l => l.AmountUsd), 2), Math.Round(byLab.Values.Sum(s => s.Sum(p => p.Usd)), 2));

        // The lab that spent most: its real hourly series, and a copy with one runaway hour injected.
        var (lab, normal) = byLab.OrderByDescending(kv => kv.Value.Sum(p => p.Usd)).Select(kv => (kv.Key, kv.Value)).First();
        var normalScores = SpendAnomalies.Score(normal);
        var flaggedNormal = SpendAnomalies.Detect(lab, normal);
        output.WriteLine($"lab {lab}: {normal.Length} hours, {normal.Sum(p => p.Usd):F2} USD; {flaggedNormal.Count} hours flagged in the real series ({(double)flaggedNormal.Count / normal.Length:P2})");
        foreach (var a in flaggedNormal.Take(10)) output.WriteLine($"  {a.Hour:u} {a.Usd:F2} USD (median of the day before {a.MedianUsd:F2}) score {a.Score}");

        // Inject at the first hour from 2/3 of the way on where the real series is calm (no flag in the 24 h before or at it).
        var at = Enumerable.Range(normal.Length * 2 / 3, normal.Length / 3).First(i => Enumerable.Range(i - 24, 25).All(k => normalScores[k] < SpendAnomalies.DefaultThreshold));
        var max = normal.Take(at).Max(p => p.Usd);
        var spiked = normal.ToArray();
        spiked[at] = spiked[at] with { Usd = spiked[at].Usd + 3 * max };
        var spikedScores = SpendAnomalies.Score(spiked);
        output.WriteLine($"injected +{3 * max:F2} USD at {spiked[at].Hour:u} (hour {at}): score {spikedScores[at]:F4} vs {normalScores[at]:F4} without it");

        Assert.True(spikedScores[at] >= SpendAnomalies.DefaultThreshold, $"spike scored {spikedScores[at]}");
        Assert.True(normalScores[at] < SpendAnomalies.DefaultThreshold);
        Assert.Contains(SpendAnomalies.Detect(lab, spiked), a => a.Hour == spiked[at].Hour);
        Assert.DoesNotContain(flaggedNormal, a => a.Hour == spiked[at].Hour);
        // Streaming, no look-ahead: every hour before the spike scores exactly the same in both.
        Assert.Equal(normalScores.Take(at), spikedScores.Take(at));
    }
}
