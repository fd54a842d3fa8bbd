using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Core.Planning;
using Gureum.Prediction;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Operator;

/// <summary>What a dry run predicts for a new job: seconds from the snapshot until it starts, its
/// run time and its cost, each as (estimate, low, high), and where it would run and why.</summary>
public sealed record DryRunEstimate(Interval StartInSeconds, Interval DurationSeconds, Interval CostUsd, string? Offer, Market? Market, string? GpuModel, string Explanation);

/// <summary>
/// "What would this job do" by the real decision path, like Nomad's <c>job plan</c>: short replays
/// from the snapshot's state with the named policy — the nodes it holds, the queued and running jobs
/// with predicted (remaining) run times, and the new job — each stopped as soon as the new job
/// starts. Three replays give the start interval: every other job at the predictor's low, estimate
/// and high. Run time and cost follow from the start's node: the new job's predicted run time (low,
/// estimate, high) scaled to that node's GPU, times its share of the node's price, assuming the run
/// is not interrupted (the dry run's spot market is calm and nothing arrives after it). No policy
/// reads a job's true run time, so stopping at the start changes no decision before it.
/// Running jobs are resubmitted at the snapshot's instant ahead of everyone (highest priority), so
/// they may land on other nodes than they hold now: the replay is a forecast, not a copy.
/// </summary>
/// <remarks>Cost: three replays up to the new job's start, each one decision per
/// instant with events (job ends, node boots) until then; a job far back in a long queue needs
/// every job ahead of it started. The horizon argument bounds the simulated time (default 30 days).</remarks>
public static class DryRun
{
    /// <summary>Runs the dry run. <paramref name="createPolicy"/> builds a fresh decision core per
    /// replay (the same policy the cluster runs); <paramref name="durations"/> predicts run times.</summary>
    public static async Task<DryRunEstimate> EstimateAsync(ClusterSnapshot snapshot, JobSpec job, Func<IDecisionCore> createPolicy,
        IDurationPredictor durations, ISpotMarket? spot = null, TimeSpan? horizon = null, CancellationToken ct = default)
    {
        var now = snapshot.Now;
        var mine = durations.PredictSeconds(job, now);
        var running = snapshot.Running.Values.Select(r => (Job: r, Predicted: durations.PredictSeconds(r.Spec, now))).ToList();
        var pending = snapshot.Pending.Select(p => (Job: p, Predicted: durations.PredictSeconds(p.Spec, now))).ToList();
        var fleet = snapshot.Nodes.Where(n => n.IsAlive)
            .Select(n => Node.Create(n.Id, n.Offer, n.Market, NodeState.Ready, now, isFixed: true)).ToList();
        var target = job with { SubmitTime = now, Duration = TimeSpan.FromSeconds(Math.Max(1, mine.Estimate)) };

        var starts = new List<Start?>(3);
        string? waiting = null;
        foreach (var pick in new Func<Interval, double>[] { i => i.Low, i => i.Estimate, i => i.High })
        {
            var others = new List<JobSpec>(running.Count + pending.Count + 1);
            foreach (var (r, pred) in running)
            {
                var left = Math.Max(60, pick(pred) - r.WorkSaved.TotalSeconds - (now - (r.RunStartedAt ?? now)).TotalSeconds);
                others.Add(r.Spec with { SubmitTime = now, Duration = TimeSpan.FromSeconds(left), Priority = int.MaxValue / 2 });
            }
            foreach (var (p, pred) in pending)
                others.Add(p.Spec with { SubmitTime = now, Duration = TimeSpan.FromSeconds(Math.Max(60, pick(pred) - p.WorkSaved.TotalSeconds)) });
            others.Add(target);
            var setup = new ReplaySetup
            {
                Core = createPolicy(), Jobs = others, Offers = snapshot.Offers, FixedFleet = fleet, Spot = spot ?? CalmSpotMarket.Instance,
                Options = new ReplayOptions
                {
                    KeepEvents = true, Horizon = horizon ?? TimeSpan.FromDays(30), StopWhenStarted = target.Id,
                    // No spot records: a calm market's would tell the fresh policy that spot never
                    // fails, which the dry run assumes only of the run it prices.
                    SpotHistoryWindow = TimeSpan.Zero,
                    // Find reads only the new job's events and node purchases: not every other job's.
                    Store = new InMemoryStoreOptions { KeepEvent = e => e.JobId == target.Id || e.Kind == EventKind.NodeRequested },
                },
            };
            var (start, why) = Find(await ReplayEngine.RunAsync(setup, null, ct), target);
            starts.Add(start);
            if (starts.Count == 2) waiting = why;
        }

        if (starts[1] is not { } mid)
            return new DryRunEstimate(new Interval(double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity), Interval.Point(double.NaN), Interval.Point(double.NaN),
                null, null, null, $"does not start within the dry run: {waiting}");
        var startsIn = starts.Select(s => s?.Seconds ?? double.PositiveInfinity).ToArray();
        var startInterval = new Interval(mid.Seconds, startsIn.Min(), startsIn.Max());
        var model = Progress.SlowestModel(mid.Nodes.Select(n => n.Node));
        double Run(double seconds) => job.Resources.MilliGpusPerNode > 0
            ? GpuModels.Scale(TimeSpan.FromSeconds(Math.Max(1, seconds)), job.ReferenceGpu, model).TotalSeconds
            : Math.Max(1, seconds);
        double Cost(double runSeconds) => mid.Nodes.Sum(n => (double)n.Price * job.Resources.ShareOf(n.Node.Offer) * runSeconds / 3600);
        var duration = new Interval(Run(mine.Estimate), Run(mine.Low), Run(mine.High));
        var cost = new Interval(Cost(duration.Estimate), Cost(duration.Low), Cost(duration.High));
        var first = mid.Nodes[0].Node;
        return new DryRunEstimate(startInterval, duration, cost, first.Offer.Id, first.Market, first.Offer.GpuModel, mid.Why);
    }

    private sealed record Start(double Seconds, IReadOnlyList<(Node Node, decimal Price)> Nodes, string Why);

    /// <summary>When and where the replay started the target, and why; else null and why it still waited.</summary>
    private static (Start? Start, string Waiting) Find(ReplayOutcome o, JobSpec target)
    {
        var view = o.Jobs.FirstOrDefault(j => j.Id == target.Id);
        if (view?.FirstStartedAt is not { } at || (view.Placements.Count == 0 && (o.Runs.GetValueOrDefault(target.Id) ?? []).Count == 0))
            return (null, view?.WaitReason ?? $"it is {view?.Status}");
        var bills = o.Bills.ToDictionary(b => b.NodeId, StringComparer.Ordinal);
        var nodeIds = view.Placements.Count > 0 ? view.Placements.Select(p => p.NodeId) : o.Runs[target.Id][0].NodeIds.Split('+');
        var nodes = new List<(Node, decimal)>();
        foreach (var id in nodeIds)
            if (bills.TryGetValue(id, out var b))
                nodes.Add((Node.Create(id, b.Offer, b.Market, NodeState.Ready, b.Start), b.StartPrice));
        var why = o.Events.LastOrDefault(e => e.JobId == target.Id && e.Kind == Core.Control.EventKind.JobStarted)?.Message ?? "started";
        var bought = nodes.Count == 0 ? null : o.Events.FirstOrDefault(e => e.NodeId == nodes[0].Item1.Id && e.Kind == Core.Control.EventKind.NodeRequested)?.Message;
        return nodes.Count == 0
            ? (null, "its nodes were not billed")
            : (new Start((at - target.SubmitTime).TotalSeconds, nodes, bought is null ? why : $"{why}; node bought: {bought}"), "");
    }
}
