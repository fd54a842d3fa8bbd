using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;

namespace Gureum.Autoscaling;

/// <summary>
/// A named policy: a scheduler profile plus an autoscaler. Decide = set held jobs aside (they wait
/// with their hold as the reason: neither started nor rejected, and no capacity is bought for them),
/// reject jobs that can never run, schedule, then buy or release capacity for what is left.
/// </summary>
public sealed class PolicyDecisionCore(string name, Scheduler scheduler, IAutoscalerPolicy autoscaler) : IDecisionCore
{
    /// <inheritdoc />
    public string Name => name;

    private readonly ReasonMemo _reasons = new();

    public Scheduler Scheduler => scheduler;
    public IAutoscalerPolicy Autoscaler => autoscaler;

    /// <inheritdoc />
    public Plan Decide(ClusterSnapshot snapshot)
    {
        var actions = new List<PlanAction>();
        List<JobView>? runnable = null;
        List<JobView>? held = null;
        var i = -1;
        foreach (var job in snapshot.Pending) // the store's list may be a tree (ImmutableList): no indexing
        {
            i++;
            var isHeld = job.Hold is not null;
            string? reason = null;
            if (!isHeld && autoscaler.CanEverRun(job.Spec, snapshot, out reason))
            {
                runnable?.Add(job);
                continue;
            }
            if (runnable is null)
            {
                runnable = new List<JobView>(snapshot.Pending.Count);
                runnable.AddRange(snapshot.Pending.Take(i));
            }
            if (isHeld) (held ??= []).Add(job);
            else actions.Add(new RejectJob(job.Id, reason!));
        }
        var view = runnable is null ? snapshot : snapshot with { Pending = runnable };
        var scheduled = scheduler.Schedule(view);
        actions.AddRange(scheduled.Actions);
        var capacity = autoscaler.Decide(view, scheduled);
        actions.AddRange(capacity.Actions);
        var reasons = new Dictionary<string, string>(scheduled.Waiting.Count, StringComparer.Ordinal);
        _reasons.Trim();
        var explain = new WaitExplanations(capacity, _reasons);
        foreach (var w in scheduled.Waiting) reasons[w.Job.Id] = explain.Explain(w);
        foreach (var h in held ?? []) reasons[h.Id] = h.Hold!;
        return new Plan(actions, capacity.WakeAt) { WaitReasons = reasons };
    }
}
