using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;

namespace Gureum.Autoscaling;

/// <summary>
/// A named policy: a scheduler profile plus an autoscaler. Decide = reject jobs that can never
/// run, schedule, then buy or release capacity for what is left.
/// </summary>
public sealed class PolicyDecisionCore(string name, Scheduler scheduler, IAutoscalerPolicy autoscaler) : IDecisionCore
{
    /// <inheritdoc />
    public string Name => name;

    public Scheduler Scheduler => scheduler;
    public IAutoscalerPolicy Autoscaler => autoscaler;

    /// <inheritdoc />
    public Plan Decide(ClusterSnapshot snapshot)
    {
        var actions = new List<PlanAction>();
        List<JobView>? runnable = null;
        for (var i = 0; i < snapshot.Pending.Count; i++)
        {
            var job = snapshot.Pending[i];
            if (autoscaler.CanEverRun(job.Spec, snapshot, out var reason))
            {
                runnable?.Add(job);
                continue;
            }
            if (runnable is null)
            {
                runnable = new List<JobView>(snapshot.Pending.Count);
                for (var k = 0; k < i; k++) runnable.Add(snapshot.Pending[k]);
            }
            actions.Add(new RejectJob(job.Id, reason));
        }
        var view = runnable is null ? snapshot : snapshot with { Pending = runnable };
        var scheduled = scheduler.Schedule(view);
        actions.AddRange(scheduled.Actions);
        var capacity = autoscaler.Decide(view, scheduled);
        actions.AddRange(capacity.Actions);
        var reasons = new Dictionary<string, string>(scheduled.Waiting.Count, StringComparer.Ordinal);
        var explain = new WaitExplanations(capacity);
        foreach (var w in scheduled.Waiting) reasons[w.Job.Id] = explain.Explain(w);
        return new Plan(actions, capacity.WakeAt) { WaitReasons = reasons };
    }
}
