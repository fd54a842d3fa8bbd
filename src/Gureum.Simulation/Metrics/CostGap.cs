using System.Text.Json.Serialization;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Metrics;

/// <summary>
/// Where a replay's bill went beyond the spot-inclusive cost lower bound: every billed dollar is in
/// exactly one part, so <c>LowerBoundUsd + Σ parts = BilledUsd</c> (up to float rounding).
/// </summary>
/// <remarks>
/// Each node bill is cut at run starts and ends and at its price changes (as the simulated cloud
/// bills them: whole seconds, the billing minimum at the last price). While jobs run on a node each
/// holds its binding-resource share (<see cref="ResourceRequest.ShareOf"/>, the lower bound's own share,
/// scaled down when the shares add up to more than 1) at the price in force; the rest of the node is
/// <see cref="PartialPackingUsd"/>. Billed time with no job is before the node's first run (boot),
/// idle between runs, idle after the last run (the idle rule's wait, the billing minimum), or a node
/// that never ran a job. What a job's runs were allocated, minus its bound, goes to one of four job
/// parts: jobs that ran once on spot or once on demand (dearer offers or zones, slower GPUs, a
/// binding share above the cheapest offer's), and jobs that ran more than once or did not finish,
/// split by whether a preemption keeps their work (their lost runs and restarts are here).
/// </remarks>
public sealed record CostGap
{
    /// <summary>Σ node bills (USD).</summary>
    [JsonPropertyName("billed_usd")] public required double BilledUsd { get; init; }
    /// <summary>Σ jobs' spot-inclusive cost bounds (unschedulable jobs excluded, as in the report).</summary>
    [JsonPropertyName("lower_bound_usd")] public required double LowerBoundUsd { get; init; }
    /// <summary>Jobs that ran once, on spot, over their bounds.</summary>
    [JsonPropertyName("single_run_spot_usd")] public required double SingleRunSpotUsd { get; init; }
    /// <summary>Jobs that ran once, on demand, over their bounds.</summary>
    [JsonPropertyName("single_run_on_demand_usd")] public required double SingleRunOnDemandUsd { get; init; }
    /// <summary>Jobs that restart from zero and ran more than once (or did not finish), over their bounds: lost runs and restarts.</summary>
    [JsonPropertyName("rerun_restart_from_zero_usd")] public required double RerunRestartFromZeroUsd { get; init; }
    /// <summary>Jobs that keep their work (checkpoints, services) and ran more than once (or did not finish), over their bounds.</summary>
    [JsonPropertyName("rerun_keeps_work_usd")] public required double RerunKeepsWorkUsd { get; init; }
    /// <summary>The unheld share of busy nodes.</summary>
    [JsonPropertyName("partial_packing_usd")] public required double PartialPackingUsd { get; init; }
    /// <summary>Billed time before a node's first run (its boot, and any wait for a first job).</summary>
    [JsonPropertyName("before_first_run_usd")] public required double BeforeFirstRunUsd { get; init; }
    /// <summary>Billed time with no job between two runs on a node.</summary>
    [JsonPropertyName("idle_between_runs_usd")] public required double IdleBetweenRunsUsd { get; init; }
    /// <summary>Billed time after a node's last run (idle wait before release, billing minimum).</summary>
    [JsonPropertyName("idle_after_last_run_usd")] public required double IdleAfterLastRunUsd { get; init; }
    /// <summary>Nodes that never ran a job.</summary>
    [JsonPropertyName("unused_nodes_usd")] public required double UnusedNodesUsd { get; init; }

    /// <summary>The parts with their names, in a fixed order (for tables).</summary>
    [JsonIgnore]
    public IReadOnlyList<(string Name, double Usd)> Parts =>
    [
        ("single run, spot", SingleRunSpotUsd), ("single run, on demand", SingleRunOnDemandUsd),
        ("reruns, restart from zero", RerunRestartFromZeroUsd), ("reruns, keep work", RerunKeepsWorkUsd),
        ("partial packing", PartialPackingUsd), ("before first run", BeforeFirstRunUsd), ("idle between runs", IdleBetweenRunsUsd),
        ("idle after last run", IdleAfterLastRunUsd), ("unused nodes", UnusedNodesUsd),
    ];

    /// <summary>Splits a replay's bill (see the type's remarks).</summary>
    public static CostGap Of(ReplayOutcome o, LowerBounds lb)
    {
        var runsByNode = new Dictionary<string, List<(JobView Job, JobRun Run)>>(StringComparer.Ordinal);
        foreach (var j in o.Jobs)
            foreach (var r in o.Runs[j.Id])
                foreach (var nodeId in r.NodeIds.Split('+', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!runsByNode.TryGetValue(nodeId, out var l)) runsByNode[nodeId] = l = [];
                    l.Add((j, r));
                }
        var allocated = new Dictionary<string, double>(StringComparer.Ordinal);
        var marketOf = new Dictionary<string, Market>(StringComparer.Ordinal);
        double billed = 0, partial = 0, boot = 0, between = 0, after = 0, unused = 0;
        foreach (var b in o.Bills)
        {
            marketOf[b.NodeId] = b.Market;
            billed += (double)b.BilledUsd;
            var runs = runsByNode.GetValueOrDefault(b.NodeId) ?? [];
            if (runs.Count == 0) { unused += (double)b.BilledUsd; continue; }
            var total = (double)b.BilledSeconds;
            var shares = runs.Select(x => Math.Clamp(x.Job.Spec.Resources.ShareOf(b.Offer), 0, 1)).ToArray();
            var starts = runs.Select(x => Math.Clamp((x.Run.Start - b.Start).TotalSeconds, 0, total)).ToArray();
            var ends = runs.Select(x => Math.Clamp((x.Run.End - b.Start).TotalSeconds, 0, total)).ToArray();
            var first = starts.Min();
            var last = ends.Max();
            var cuts = new SortedSet<double> { 0, total };
            foreach (var s in starts) cuts.Add(s);
            foreach (var e in ends) cuts.Add(e);
            // Price changes take effect at the whole second after they happen (SimulatedCloud.Cost).
            var prices = new List<(double At, double Price)> { (0, (double)b.StartPrice) };
            foreach (var (at, p) in b.PriceChanges)
            {
                var s = Math.Min(Math.Ceiling((at - b.Start).TotalSeconds), total);
                prices.Add((s, (double)p));
                cuts.Add(s);
            }
            var pts = cuts.ToArray();
            var pi = 0;
            for (var k = 0; k + 1 < pts.Length; k++)
            {
                var (t0, t1) = (pts[k], pts[k + 1]);
                while (pi + 1 < prices.Count && prices[pi + 1].At <= t0) pi++;
                var usd = prices[pi].Price * (t1 - t0) / 3600;
                if (usd == 0) continue;
                var sum = 0.0;
                for (var i = 0; i < runs.Count; i++) if (starts[i] <= t0 && ends[i] >= t1) sum += shares[i];
                if (sum == 0)
                {
                    if (t1 <= first) boot += usd;
                    else if (t0 >= last) after += usd;
                    else between += usd;
                    continue;
                }
                var scale = sum > 1 ? 1 / sum : 1;
                for (var i = 0; i < runs.Count; i++)
                    if (starts[i] <= t0 && ends[i] >= t1)
                        allocated[runs[i].Job.Id] = allocated.GetValueOrDefault(runs[i].Job.Id) + usd * shares[i] * scale;
                partial += usd * Math.Max(0, 1 - sum);
            }
        }
        double bound = 0, spot = 0, onDemand = 0, rerunZero = 0, rerunKeep = 0;
        foreach (var j in o.Jobs)
        {
            var jobLb = j.Status == JobStatus.Unschedulable ? 0 : lb.Cost(j.Spec, allowSpot: true) ?? 0;
            bound += jobLb;
            var over = allocated.GetValueOrDefault(j.Id) - jobLb;
            var runs = o.Runs[j.Id];
            if (j.Status == JobStatus.Unschedulable && runs.Count == 0) continue;
            if (runs.Count == 1 && runs[0].Outcome == RunOutcome.Completed && j.Status == JobStatus.Completed)
            {
                var node = runs[0].NodeIds.Split('+', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                if (node is not null && marketOf.GetValueOrDefault(node) == Market.Spot) spot += over;
                else onDemand += over;
            }
            else if (j.Spec.KeepsWorkOnPreemption) rerunKeep += over;
            else rerunZero += over;
        }
        return new CostGap
        {
            BilledUsd = billed, LowerBoundUsd = bound, SingleRunSpotUsd = spot, SingleRunOnDemandUsd = onDemand,
            RerunRestartFromZeroUsd = rerunZero, RerunKeepsWorkUsd = rerunKeep, PartialPackingUsd = partial,
            BeforeFirstRunUsd = boot, IdleBetweenRunsUsd = between, IdleAfterLastRunUsd = after, UnusedNodesUsd = unused,
        };
    }
}
