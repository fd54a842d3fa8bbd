using System.Text.Json.Serialization;
using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Operator;

/// <summary>The issue-4 checks for one trace, each with the measured figure beside its target.</summary>
public sealed record OperatorChecks
{
    [JsonPropertyName("trace")] public required string Trace { get; init; }
    /// <summary>gureum cost ÷ the cheapest baseline's cost (target &lt; 1).</summary>
    [JsonPropertyName("cost_vs_cheapest_baseline")] public required double CostVsCheapestBaseline { get; init; }
    /// <summary>gureum mean JCT ÷ the best baseline's mean JCT (target ≤ 1).</summary>
    [JsonPropertyName("jct_vs_best_baseline")] public required double JctVsBestBaseline { get; init; }
    /// <summary>gureum cost ÷ spot-inclusive cost lower bound (target ≤ 1.3).</summary>
    [JsonPropertyName("cost_over_lb")] public required double CostOverLb { get; init; }
    /// <summary>gureum mean JCT ÷ mean run time on the reference GPU (target ≤ 1.10).</summary>
    [JsonPropertyName("jct_over_runtime")] public required double JctOverRuntime { get; init; }
    /// <summary>Largest lab mean wait ÷ overall mean wait (target ≤ 2; labs with completed jobs).</summary>
    [JsonPropertyName("max_lab_wait_over_mean")] public required double MaxLabWaitOverMean { get; init; }
    [JsonPropertyName("labs")] public required int Labs { get; init; }
    [JsonPropertyName("jobs_unfinished")] public required int JobsUnfinished { get; init; }

    [JsonPropertyName("cheaper_than_every_baseline")] public bool CheaperThanEveryBaseline => CostVsCheapestBaseline < 1;
    [JsonPropertyName("jct_no_worse_than_best_baseline")] public bool JctNoWorse => JctVsBestBaseline <= 1;
    [JsonPropertyName("cost_within_1_3_lb")] public bool CostWithinTarget => CostOverLb <= 1.3;
    [JsonPropertyName("jct_within_1_10_runtime")] public bool JctWithinTarget => JctOverRuntime <= 1.10;
    [JsonPropertyName("fair")] public bool Fair => MaxLabWaitOverMean <= 2;

    /// <summary>Computes the checks from the metrics of the baselines and gureum on one trace.</summary>
    public static OperatorChecks Of(string trace, IReadOnlyList<PolicyMetrics> metrics)
    {
        var g = metrics.Single(m => m.Name == "gureum");
        var baselines = metrics.Where(m => m.Name != "gureum").ToList();
        var labs = g.PerLab.Where(l => l.JobsCompleted > 0).ToList();
        return new OperatorChecks
        {
            Trace = trace,
            CostVsCheapestBaseline = baselines.Count == 0 ? double.NaN : (double)g.CostUsd / (double)baselines.Min(b => b.CostUsd),
            JctVsBestBaseline = baselines.Count == 0 ? double.NaN : g.MeanJctS / baselines.Min(b => b.MeanJctS),
            CostOverLb = g.CostOverLb,
            JctOverRuntime = g.JctOverRuntime,
            MaxLabWaitOverMean = labs.Count < 2 || g.MeanWaitS <= 0 ? 1 : labs.Max(l => l.MeanWaitS) / g.MeanWaitS,
            Labs = labs.Count,
            JobsUnfinished = g.JobsUnfinished,
        };
    }
}

/// <summary>Replays every baseline and <c>gureum</c> on one trace, all on the same offers and spot market.</summary>
public static class OperatorEvaluation
{
    /// <summary>Runs the policies with <paramref name="options"/> (default <see cref="ReplayOptions"/>'s);
    /// <c>static</c> is skipped (and said so in <paramref name="notes"/>) when there is no fleet.</summary>
    public static async Task<IReadOnlyList<(ReplayOutcome Outcome, PolicyMetrics Metrics)>> ReplayAllAsync(
        IReadOnlyList<JobSpec> jobs, IReadOnlyList<Offer> offers, ISpotMarket spot, IReadOnlyList<Node> fleet, List<string> notes,
        IReadOnlyList<string>? policies = null, Action<string>? log = null, CancellationToken ct = default, ReplayOptions? options = null)
    {
        var results = new List<(ReplayOutcome, PolicyMetrics)>();
        foreach (var name in policies ?? PolicyCatalog.Names)
        {
            var core = PolicyCatalog.Create(name);
            var setup = new ReplaySetup { Core = core, Jobs = jobs, Offers = offers, Spot = spot, Options = options ?? new ReplayOptions() };
            if (core.Autoscaler is StaticPolicy)
            {
                if (fleet.Count == 0) { notes.Add("static skipped: the trace has no node list to hold as a fixed fleet."); continue; }
                setup = setup with { FixedFleet = fleet };
            }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var outcome = await ReplayEngine.RunAsync(setup, null, ct);
            var metrics = ReplayMetrics.Compute(outcome);
            log?.Invoke($"{name}: {jobs.Count} jobs in {sw.Elapsed.TotalSeconds:F1} s, cost ${metrics.CostUsd:F0}, mean JCT {metrics.MeanJctS:F0} s");
            results.Add((outcome, metrics));
        }
        return results;
    }
}
