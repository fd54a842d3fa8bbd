using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Reports;
using Gureum.Simulation.Tests.Traces;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>The schedule files (<c>replay --schedule</c>) hold what the report's figures are re-checked from.</summary>
public sealed class ScheduleFileTests
{
    [Fact]
    public async Task WriteSchedule_Replay_JobBoundsAddUpToTheReportsBounds_AndNodeBillsToItsCost()
    {
        IReadOnlyList<Offer> offers =
        [
            B.Offer("v100x1", "V100", 1, 3.06m, spot: 0.92m, zone: "z-a"),
            B.Offer("a100x4", "A100", 4, 16.0m, spot: 6.0m, zone: "z-b", vcpus: 48, mem: 340),
            B.Offer("cpu16", null, 0, 0.77m, spot: 0.3m, zone: "z-a", vcpus: 16, mem: 64),
        ];
        var jobs = Enumerable.Range(0, 24).Select(i => B.Job($"j{i}", i * 400, 1200 + 300 * (i % 5), gpus: i % 4 == 0 ? 0 : 1 + i % 2, cpus: 2 + i % 3, mem: 8,
            checkpointS: i % 3 == 0 ? 300 : null) with { Kind = i % 7 == 0 ? JobKind.Service : JobKind.Batch }).ToList();
        var outcome = await B.Run("gureum", jobs, offers);
        var metrics = ReplayMetrics.Compute(outcome);
        using var dir = new TempTrace();
        ReplayReport.WriteSchedule(dir.Dir, outcome);

        var lines = File.ReadAllLines(Path.Combine(dir.Dir, "gureum.jobs.csv"));
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var perJob = lines.Skip(1).Select(l => l.Split(',')).GroupBy(f => f[Col("job_id")]).Select(g => g.First()).ToList();
        Assert.Equal(jobs.Count, perJob.Count);
        double Sum(string col) => perJob.Sum(f => double.Parse(f[Col(col)], CultureInfo.InvariantCulture));
        Assert.Equal(metrics.CostLowerBoundUsd, Sum("lb_spot_usd"), 3);
        Assert.Equal(metrics.CostLowerBoundOnDemandUsd, Sum("lb_ondemand_usd"), 3);
        var byId = jobs.ToDictionary(j => j.Id);
        Assert.All(perJob, f => Assert.Equal(byId[f[Col("job_id")]].KeepsWorkOnPreemption ? "true" : "false", f[Col("keeps_work")]));
        Assert.All(perJob, f => Assert.Equal(byId[f[Col("job_id")]].Kind.ToString(), f[Col("kind")]));

        var nodes = File.ReadAllLines(Path.Combine(dir.Dir, "gureum.nodes.csv")).Skip(1).Select(l => l.Split(','));
        Assert.Equal((double)metrics.CostUsd, nodes.Sum(f => double.Parse(f[11], CultureInfo.InvariantCulture)), 3);
    }
}
