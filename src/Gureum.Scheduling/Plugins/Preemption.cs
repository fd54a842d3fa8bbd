using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Plugins;

/// <summary>
/// Preemption by priority: a job that fits nowhere may stop lower-priority jobs on one node. Picks
/// the node needing the fewest victims (then the lowest highest-victim priority); on a node, stops
/// the lowest priority first and, among equals, the most recently started (least work lost).
/// Multi-node (gang) jobs do not preempt. Victims are requeued and resume from their checkpoint.
/// </summary>
public sealed class PriorityPreemption : IPreemptionPlugin
{
    public string Name => "priority-preemption";

    public IReadOnlyList<JobView>? SelectVictims(JobView job, SchedulingContext ctx)
    {
        var r = job.Spec.Resources;
        if (r.Nodes > 1) return null;
        List<JobView>? best = null;
        var bestMaxPriority = int.MaxValue;
        for (var i = 0; i < ctx.NodeCount; i++)
        {
            var node = ctx.NodeAt(i);
            if (!node.IsSchedulable || !ctx.Filter(job, node).IsSuccess) continue;
            var candidates = ctx.RunningOn(node.Id)
                .Where(v => !ctx.IsEvicted(v) && v.Spec.Priority < job.Spec.Priority)
                .OrderBy(v => v.Spec.Priority).ThenByDescending(v => v.RunStartedAt).ThenBy(v => v.Seq)
                .ToList();
            if (candidates.Count == 0) continue;
            var trial = node;
            var victims = new List<JobView>();
            foreach (var v in candidates)
            {
                foreach (var p in v.Placements)
                    if (p.NodeId == node.Id) trial = NodeAccounting.Release(trial, p, ctx.Now);
                victims.Add(v);
                if (Fit.Slice(r, trial) is not null) break;
            }
            if (Fit.Slice(r, trial) is null) continue;
            var maxPriority = victims.Max(v => v.Spec.Priority);
            if (best is null || victims.Count < best.Count || (victims.Count == best.Count && maxPriority < bestMaxPriority))
            {
                best = victims;
                bestMaxPriority = maxPriority;
            }
        }
        return best;
    }
}
