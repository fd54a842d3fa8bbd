using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Prediction;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Operator;

/// <summary>What a dry run predicts for a new job: seconds from the snapshot until it starts, its
/// run time and its cost, each as (estimate, low, high), and where it would run and why.</summary>
public sealed record DryRunEstimate(Interval StartInSeconds, Interval DurationSeconds, Interval CostUsd, string? Offer, Market? Market, string? GpuModel, string Explanation);

/// <summary>
/// "What would this job do" by the real decision path, like Nomad's <c>job plan</c>: a short
/// replay from the snapshot's state with the named policy — the nodes it holds, the queued and
/// running jobs with predicted (remaining) run times, and the new job — three times, with the new
/// job's run time at the predictor's low, estimate and high, and the others at their estimates.
/// Running jobs are resubmitted at the snapshot's instant ahead of everyone (highest priority), so
/// they may land on other nodes than they hold now: the replay is a forecast, not a copy. Each
/// replay stops as soon as the new job has ended, or at the horizon (default 30 days).
/// </summary>
public static class DryRun
{
    /// <summary>Runs the dry run. <paramref name="createPolicy"/> builds a fresh decision core per
    /// replay (the same policy the cluster runs); <paramref name="durations"/> predicts run times.</summary>
    public static async Task<DryRunEstimate> EstimateAsync(ClusterSnapshot snapshot, JobSpec job, Func<IDecisionCore> createPolicy,
        IDurationPredictor durations, ISpotMarket? spot = null, TimeSpan? horizon = null, CancellationToken ct = default)
    {
        var now = snapshot.Now;
        var mine = durations.PredictSeconds(job, now);
        var others = new List<JobSpec>();
        foreach (var r in snapshot.Running.Values)
        {
            var left = Math.Max(60, durations.PredictSeconds(r.Spec, now).Estimate - r.WorkSaved.TotalSeconds - (now - (r.RunStartedAt ?? now)).TotalSeconds);
            others.Add(r.Spec with { SubmitTime = now, Duration = TimeSpan.FromSeconds(left), Priority = int.MaxValue / 2 });
        }
        foreach (var p in snapshot.Pending)
            others.Add(p.Spec with { SubmitTime = now, Duration = TimeSpan.FromSeconds(Math.Max(60, durations.PredictSeconds(p.Spec, now).Estimate - p.WorkSaved.TotalSeconds)) });
        var fleet = snapshot.Nodes.Where(n => n.IsAlive)
            .Select(n => Node.Create(n.Id, n.Offer, n.Market, NodeState.Ready, now, isFixed: true)).ToList();

        var runs = new List<(double Start, double Duration, double Cost, string? Offer, Market? Market, string? Gpu, string Why)>();
        foreach (var seconds in new[] { mine.Low, mine.Estimate, mine.High })
        {
            var target = job with { SubmitTime = now, Duration = TimeSpan.FromSeconds(Math.Max(1, seconds)) };
            var jobs = others.Append(target).OrderBy(j => j.SubmitTime).ToList();
            var setup = new ReplaySetup
            {
                Core = createPolicy(), Jobs = jobs, Offers = snapshot.Offers, FixedFleet = fleet, Spot = spot ?? CalmSpotMarket.Instance,
                Options = new ReplayOptions { KeepEvents = true, Horizon = horizon ?? TimeSpan.FromDays(30), StopAfterJob = target.Id },
            };
            var outcome = await ReplayEngine.RunAsync(setup, null, ct);
            runs.Add(Measure(outcome, target));
        }
        var mid = runs[1];
        Interval Of(Func<(double Start, double Duration, double Cost, string?, Market?, string?, string), double> f)
        {
            var xs = runs.Select(f).ToArray();
            return new Interval(f(mid), xs.Min(), xs.Max());
        }
        return new DryRunEstimate(Of(r => r.Start), Of(r => r.Duration), Of(r => r.Cost), mid.Offer, mid.Market, mid.Gpu, mid.Why);
    }

    private static (double, double, double, string?, Market?, string?, string) Measure(ReplayOutcome o, JobSpec target)
    {
        var runs = o.Runs.GetValueOrDefault(target.Id) ?? [];
        var view = o.Jobs.FirstOrDefault(j => j.Id == target.Id);
        if (runs.Count == 0)
            return (double.PositiveInfinity, double.NaN, double.NaN, null, null, null, view?.WaitReason ?? $"does not start within the dry run ({view?.Status})");
        var start = (runs[0].Start - target.SubmitTime).TotalSeconds;
        var duration = runs.Sum(r => (r.End - r.Start).TotalSeconds);
        var bills = o.Bills.ToDictionary(b => b.NodeId, StringComparer.Ordinal);
        double cost = 0;
        NodeBill? first = null;
        foreach (var r in runs)
            foreach (var id in r.NodeIds.Split('+'))
                if (bills.TryGetValue(id, out var b))
                {
                    first ??= b;
                    cost += (double)b.StartPrice * LowerBounds.Share(target.Resources, b.Offer) * (r.End - r.Start).TotalHours;
                }
        var why = o.Events.LastOrDefault(e => e.JobId == target.Id && e.Kind == Core.Control.EventKind.JobStarted)?.Message ?? "started";
        var bought = first is null ? null : o.Events.FirstOrDefault(e => e.NodeId == first.NodeId && e.Kind == Core.Control.EventKind.NodeRequested)?.Message;
        return (start, duration, cost, first?.Offer.Id, first?.Market, first?.Offer.GpuModel, bought is null ? why : $"{why}; node {bought}");
    }
}
