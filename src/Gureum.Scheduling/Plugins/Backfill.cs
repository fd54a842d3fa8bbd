using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Plugins;

/// <summary>
/// EASY backfill on declared time limits (Slurm's backfill, Lifka 1995): the first job that cannot
/// start gets a reservation at the earliest time running jobs' limits free enough room; later jobs
/// may start now only if they leave the reserved nodes alone or end (by their limit) before it.
/// Running jobs without a limit are taken never to end, so they free nothing.
/// </summary>
public sealed class EasyBackfill : IBackfillPlugin
{
    public string Name => "backfill";

    public Reservation? Reserve(JobView blocked, SchedulingContext ctx)
    {
        var ending = new List<(DateTimeOffset End, JobView Job)>();
        foreach (var j in ctx.Snapshot.Running.Values)
            if (!ctx.IsEvicted(j) && j.Spec.TimeLimit is { } limit && j.RunStartedAt is { } s)
                ending.Add((s + limit < ctx.Now ? ctx.Now : s + limit, j));
        ending.Sort((a, b) => a.End != b.End ? a.End.CompareTo(b.End) : a.Job.Seq.CompareTo(b.Job.Seq));

        var r = blocked.Spec.Resources;
        var fits = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ctx.NodeCount; i++)
        {
            var node = ctx.NodeAt(i);
            if (node.IsSchedulable && Fit.Fits(r, node) && ctx.Filter(blocked, node).IsSuccess) fits.Add(node.Id);
        }
        var freed = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var (end, job) in ending)
        {
            foreach (var p in job.Placements)
            {
                var node = freed.TryGetValue(p.NodeId, out var n) ? n : ctx.NodeById(p.NodeId);
                if (node is null) continue;
                node = NodeAccounting.Release(node, p, ctx.Now);
                freed[p.NodeId] = node;
                if (node.IsSchedulable && Fit.Fits(r, node) && ctx.Filter(blocked, node).IsSuccess) fits.Add(node.Id);
            }
            if (fits.Count >= r.Nodes)
                return new Reservation(blocked.Id, end, fits.Take(r.Nodes).ToHashSet(StringComparer.Ordinal));
        }
        return null;
    }

    public bool MayStart(JobView job, IReadOnlyList<Placement> placements, Reservation reservation, SchedulingContext ctx)
    {
        var touches = false;
        foreach (var p in placements) touches |= reservation.NodeIds.Contains(p.NodeId);
        return !touches || (job.Spec.TimeLimit is { } limit && ctx.Now + limit <= reservation.At);
    }
}
