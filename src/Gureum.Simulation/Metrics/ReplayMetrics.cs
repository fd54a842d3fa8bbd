using System.Text.Json.Serialization;
using Gureum.Core.Domain;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Metrics;

/// <summary>Figures of one policy's replay, named as in the JSON report.</summary>
public sealed record PolicyMetrics
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("cost_usd")] public required decimal CostUsd { get; init; }
    [JsonPropertyName("cost_lower_bound_usd")] public required double CostLowerBoundUsd { get; init; }
    [JsonPropertyName("cost_lower_bound_ondemand_usd")] public required double CostLowerBoundOnDemandUsd { get; init; }
    [JsonPropertyName("cost_over_lb")] public double CostOverLb => CostLowerBoundUsd > 0 ? (double)CostUsd / CostLowerBoundUsd : double.NaN;
    [JsonPropertyName("mean_runtime_s")] public required double MeanRuntimeS { get; init; }
    [JsonPropertyName("mean_jct_lower_bound_s")] public required double MeanJctLowerBoundS { get; init; }
    [JsonPropertyName("mean_jct_s")] public required double MeanJctS { get; init; }
    [JsonPropertyName("jct_over_runtime")] public double JctOverRuntime => MeanRuntimeS > 0 ? MeanJctS / MeanRuntimeS : double.NaN;
    [JsonPropertyName("p50_jct_s")] public required double P50JctS { get; init; }
    [JsonPropertyName("p95_jct_s")] public required double P95JctS { get; init; }
    [JsonPropertyName("p99_jct_s")] public required double P99JctS { get; init; }
    [JsonPropertyName("mean_wait_s")] public required double MeanWaitS { get; init; }
    [JsonPropertyName("mean_total_pending_s")] public required double MeanTotalPendingS { get; init; }
    [JsonPropertyName("makespan_s")] public required double MakespanS { get; init; }
    [JsonPropertyName("gpu_alloc_utilization")] public required double GpuAllocUtilization { get; init; }
    [JsonPropertyName("preemptions")] public required long Preemptions { get; init; }
    [JsonPropertyName("jobs_total")] public required int JobsTotal { get; init; }
    [JsonPropertyName("jobs_completed")] public required int JobsCompleted { get; init; }
    [JsonPropertyName("jobs_unschedulable")] public required int JobsUnschedulable { get; init; }
    [JsonPropertyName("jobs_unfinished")] public required int JobsUnfinished { get; init; }
    [JsonPropertyName("nodes_used")] public required int NodesUsed { get; init; }
    [JsonPropertyName("decisions")] public required long Decisions { get; init; }
    [JsonPropertyName("per_lab")] public required IReadOnlyList<LabMetrics> PerLab { get; init; }
    /// <summary>Where the bill went beyond the spot-inclusive cost bound (<see cref="Metrics.CostGap"/>).</summary>
    [JsonPropertyName("cost_gap")] public CostGap? CostGap { get; init; }
    /// <summary>Completed jobs of kind service (<see cref="JobKind.Service"/>).</summary>
    [JsonPropertyName("services_completed")] public int ServicesCompleted { get; init; }
    /// <summary>Share of completed services' time from first start to end spent not serving (between
    /// a preempted run and its replacement): the availability cost of running them on spot. 0 when none.</summary>
    [JsonPropertyName("service_downtime_share")] public double ServiceDowntimeShare { get; init; }
}

/// <summary>Per-lab figures.</summary>
public sealed record LabMetrics
{
    [JsonPropertyName("lab")] public required string Lab { get; init; }
    [JsonPropertyName("jobs_total")] public required int JobsTotal { get; init; }
    [JsonPropertyName("jobs_completed")] public required int JobsCompleted { get; init; }
    [JsonPropertyName("mean_runtime_s")] public required double MeanRuntimeS { get; init; }
    [JsonPropertyName("mean_jct_s")] public required double MeanJctS { get; init; }
    [JsonPropertyName("p99_jct_s")] public required double P99JctS { get; init; }
    [JsonPropertyName("mean_wait_s")] public required double MeanWaitS { get; init; }
    [JsonPropertyName("gpu_hours")] public required double GpuHours { get; init; }
    [JsonPropertyName("cost_lower_bound_usd")] public required double CostLowerBoundUsd { get; init; }
}

/// <summary>Computes <see cref="PolicyMetrics"/> from a replay outcome, as DESIGN.md defines them.</summary>
public static class ReplayMetrics
{
    public static PolicyMetrics Compute(ReplayOutcome o)
    {
        var lb = new LowerBounds(o.UsableOffers);
        var completed = o.Jobs.Where(j => j.Status == JobStatus.Completed).ToList();
        var jcts = new List<double>(completed.Count);
        var waits = new List<double>(completed.Count);
        var pendings = new List<double>(completed.Count);
        double runtimeSum = 0, jctLbSum = 0;
        foreach (var j in completed)
        {
            var runs = o.Runs[j.Id];
            var end = runs[^1].End;
            jcts.Add((end - j.Spec.SubmitTime).TotalSeconds);
            waits.Add((runs[0].Start - j.Spec.SubmitTime).TotalSeconds);
            var busy = runs.Sum(r => (r.End - r.Start).TotalSeconds);
            pendings.Add((end - j.Spec.SubmitTime).TotalSeconds - busy);
            runtimeSum += (j.Spec.Duration ?? TimeSpan.Zero).TotalSeconds;
            jctLbSum += (lb.Jct(j.Spec) ?? j.Spec.Duration ?? TimeSpan.Zero).TotalSeconds;
        }
        double costLb = 0, costLbOd = 0;
        foreach (var j in o.Jobs)
        {
            if (j.Status == JobStatus.Unschedulable) continue;
            costLb += lb.Cost(j.Spec, allowSpot: true) ?? 0;
            costLbOd += lb.Cost(j.Spec, allowSpot: false) ?? 0;
        }
        double serviceSpan = 0, serviceDown = 0;
        var services = 0;
        foreach (var j in completed)
        {
            if (j.Spec.Kind != JobKind.Service) continue;
            var runs = o.Runs[j.Id];
            var span = (runs[^1].End - runs[0].Start).TotalSeconds;
            services++;
            serviceSpan += span;
            serviceDown += span - runs.Sum(r => (r.End - r.Start).TotalSeconds);
        }
        var busyGpuSeconds = 0.0;
        long preemptions = 0;
        foreach (var j in o.Jobs)
        {
            foreach (var r in o.Runs[j.Id])
            {
                busyGpuSeconds += (r.End - r.Start).TotalSeconds * j.Spec.Resources.TotalGpus;
                if (r.Outcome is RunOutcome.Preempted or RunOutcome.NodeLost) preemptions++;
            }
        }
        var paidGpuSeconds = o.Bills.Sum(b => (double)b.BilledSeconds * b.Offer.GpuCount);
        var firstSubmit = o.Jobs.Count > 0 ? o.Jobs.Min(j => j.Spec.SubmitTime) : o.Start;
        var lastEnd = completed.Count > 0 ? completed.Max(j => o.Runs[j.Id][^1].End) : o.Start;

        return new PolicyMetrics
        {
            Name = o.Policy,
            CostUsd = Math.Round(o.Bills.Sum(b => b.BilledUsd), 4),
            CostLowerBoundUsd = costLb,
            CostLowerBoundOnDemandUsd = costLbOd,
            MeanRuntimeS = completed.Count > 0 ? runtimeSum / completed.Count : 0,
            MeanJctLowerBoundS = completed.Count > 0 ? jctLbSum / completed.Count : 0,
            MeanJctS = Mean(jcts),
            P50JctS = Percentile(jcts, 0.50),
            P95JctS = Percentile(jcts, 0.95),
            P99JctS = Percentile(jcts, 0.99),
            MeanWaitS = Mean(waits),
            MeanTotalPendingS = Mean(pendings),
            MakespanS = (lastEnd - firstSubmit).TotalSeconds,
            GpuAllocUtilization = paidGpuSeconds > 0 ? busyGpuSeconds / paidGpuSeconds : 0,
            Preemptions = preemptions,
            JobsTotal = o.Jobs.Count,
            JobsCompleted = completed.Count,
            JobsUnschedulable = o.Jobs.Count(j => j.Status == JobStatus.Unschedulable),
            JobsUnfinished = o.Jobs.Count(j => j.Status is JobStatus.Pending or JobStatus.Running),
            NodesUsed = o.Bills.Count,
            Decisions = o.Decisions,
            ServicesCompleted = services,
            ServiceDowntimeShare = serviceSpan > 0 ? serviceDown / serviceSpan : 0,
            CostGap = CostGap.Of(o, lb),
            PerLab = o.Jobs.GroupBy(j => j.Spec.Lab).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Lab(g.Key, g.ToList(), o, lb)).ToList(),
        };
    }

    private static LabMetrics Lab(string lab, List<JobView> jobs, ReplayOutcome o, LowerBounds lb)
    {
        var done = jobs.Where(j => j.Status == JobStatus.Completed).ToList();
        var jcts = done.Select(j => (o.Runs[j.Id][^1].End - j.Spec.SubmitTime).TotalSeconds).ToList();
        return new LabMetrics
        {
            Lab = lab,
            JobsTotal = jobs.Count,
            JobsCompleted = done.Count,
            MeanRuntimeS = done.Count > 0 ? done.Average(j => (j.Spec.Duration ?? TimeSpan.Zero).TotalSeconds) : 0,
            MeanJctS = Mean(jcts),
            P99JctS = Percentile(jcts, 0.99),
            MeanWaitS = Mean(done.Select(j => (o.Runs[j.Id][0].Start - j.Spec.SubmitTime).TotalSeconds).ToList()),
            GpuHours = jobs.Sum(j => o.Runs[j.Id].Sum(r => (r.End - r.Start).TotalHours) * j.Spec.Resources.TotalGpus),
            CostLowerBoundUsd = jobs.Where(j => j.Status != JobStatus.Unschedulable).Sum(j => lb.Cost(j.Spec, true) ?? 0),
        };
    }

    private static double Mean(List<double> xs) => xs.Count == 0 ? 0 : xs.Average();

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(List<double> xs, double q)
    {
        if (xs.Count == 0) return 0;
        var sorted = xs.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
