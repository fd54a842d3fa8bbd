using System.Buffers;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling;

/// <summary>What one scheduling pass decided.</summary>
/// <param name="Actions">Starts and preemptions, in the order they were decided.</param>
/// <param name="Waiting">Jobs left in the queue and why, in queue order.</param>
/// <param name="Context">The decision's working state (tentative placements), for the autoscaler.</param>
public sealed record SchedulingResult(IReadOnlyList<PlanAction> Actions, IReadOnlyList<WaitingJob> Waiting, SchedulingContext Context);

/// <summary>A job left waiting, with the reason; <paramref name="CapacityHelps"/> is false when
/// more nodes would not let it start (a quota holds it).</summary>
public readonly record struct WaitingJob(JobView Job, string Reason, bool CapacityHelps = true);

/// <summary>
/// One pass of the scheduling framework over a snapshot: queue-sort → (quota) → filter → score →
/// gang reserve → preemption → backfill. Pure: reads the snapshot, returns actions.
/// </summary>
/// <remarks>
/// <code>
/// pending ──sort──► for each job: quota? ─► fits somewhere (upper bound)? ─► filter+score nodes
///                     │ placed: backfill allows? ─► StartJob (overlay updated)
///                     └ not placed: preempt victims? ─► PreemptJob… + StartJob
///                                   else wait; first blocked job gets a backfill reservation
///                                   (or, strict order, blocks everything after it)
/// </code>
/// Cost per decision: O(p log p) to sort p pending jobs, plus, per job that passes the upper-bound
/// check, one filter+score per node shape (<see cref="CapacityIndex"/>; every node when the store
/// keeps no index); jobs that cannot fit anywhere cost O(1).
/// </remarks>
public sealed class Scheduler(Profile profile)
{
    /// <summary>Wait reason of a job for which some ready node had enough free resources when the
    /// decision began, but none it may use (filters) has room after the jobs placed before it.</summary>
    public const string NoRoomReason = "no eligible node has room";

    /// <summary>Wait reason of a job for which no ready node has that much free now.</summary>
    public const string NoNodeBigEnoughReason = "no node has enough free resources";

    public Profile Profile => profile;

    public SchedulingResult Schedule(ClusterSnapshot snapshot)
    {
        var ctx = new SchedulingContext(snapshot, profile.Filters);
        var actions = new List<PlanAction>();
        var waiting = new List<WaitingJob>();
        if (snapshot.Pending.Count == 0) return new SchedulingResult(actions, waiting, ctx);

        var order = Sort(snapshot.Pending, ctx);
        Reservation? reservation = null;
        JobView? reservedFor = null;
        // Preemption that found no victims for a (priority, shape) will not find any for the same
        // pair later in this decision: evictions only happen on success, which clears the memo.
        var noVictims = new HashSet<(int, ResourceRequest)>();
        var candidates = new List<int>(); // reused by every placement of this decision
        var quotas = AnyQuota(snapshot); // without one, no job is over quota (no lookup per job)
        for (var idx = 0; idx < order.Length; idx++)
        {
            var job = order[idx];
            var r = job.Spec.Resources;
            if (quotas && OverQuota(job, ctx) is { } quotaReason)
            {
                waiting.Add(new WaitingJob(job, quotaReason, CapacityHelps: false));
                continue;
            }
            var placements = ctx.MightFitSomewhere(r) ? Place(job, ctx, candidates) : null;
            if (placements is not null)
            {
                if (reservation is not null && !profile.Backfill!.MayStart(job, placements, reservation, ctx))
                {
                    waiting.Add(new WaitingJob(job, $"blocked behind {Who(reservedFor, reservation.JobId)}: it has the resources reserved from {reservation.At:u}, and starting this job now would delay it (backfill)"));
                    continue;
                }
                ctx.Commit(job, placements);
                actions.Add(new StartJob(job.Id, placements, reservation is null ? "fits" : "backfilled"));
                continue;
            }
            if (reservation is null && profile.Preemption is not null && job.Spec.Priority > ctx.LowestRunningPriority
                && !noVictims.Contains((job.Spec.Priority, r)))
            {
                var victims = profile.Preemption.SelectVictims(job, ctx);
                if (victims is not { Count: > 0 })
                {
                    noVictims.Add((job.Spec.Priority, r));
                    goto wait;
                }
                noVictims.Clear();
                foreach (var v in victims)
                {
                    ctx.Evict(v);
                    actions.Add(new PreemptJob(v.Id, $"preempted for {job.Id} (priority {job.Spec.Priority} > {v.Spec.Priority})"));
                }
                if (Place(job, ctx, candidates) is { } after)
                {
                    ctx.Commit(job, after);
                    actions.Add(new StartJob(job.Id, after, "after preemption"));
                    continue;
                }
            }
        wait:
            waiting.Add(new WaitingJob(job, ctx.MightFitSomewhere(r) ? NoRoomReason : NoNodeBigEnoughReason));
            if (profile.Backfill is not null)
            {
                if (reservation is null && profile.Backfill.Reserve(job, ctx) is { } reserved)
                {
                    reservation = reserved;
                    reservedFor = job;
                }
            }
            else if (profile.StrictOrder)
            {
                for (var rest = idx + 1; rest < order.Length; rest++)
                    waiting.Add(new WaitingJob(order[rest], $"blocked behind {Who(job, job.Id)}: the queue is in strict order and it cannot start yet"));
                break;
            }
        }
        return new SchedulingResult(actions, waiting, ctx);
    }

    private JobView[] Sort(IReadOnlyList<JobView> pending, SchedulingContext ctx)
    {
        var order = pending.ToArray();
        var sorts = profile.QueueSort;
        if (order.Length > 1 && sorts.Count <= QueueKey.MaxKeys && sorts.All(s => s.SortKey(order[0], ctx) is not null))
        {
            // Rented: with a long queue the keys are a large-object-heap array per decision.
            var keys = ArrayPool<QueueKey>.Shared.Rent(order.Length);
            Span<long> k = stackalloc long[QueueKey.MaxKeys];
            for (var i = 0; i < order.Length; i++)
            {
                k.Clear();
                for (var s = 0; s < sorts.Count; s++) k[s] = sorts[s].SortKey(order[i], ctx)!.Value;
                keys[i] = new QueueKey(k[0], k[1], k[2], k[3], order[i].Seq);
            }
            // Keys are unique (Seq breaks ties), so a queue already in order is the sorted order:
            // often so (one priority, arrival order), and checking is O(n).
            if (!InOrder(keys.AsSpan(0, order.Length))) Array.Sort(keys, order, 0, order.Length);
            ArrayPool<QueueKey>.Shared.Return(keys);
            return order;
        }
        Array.Sort(order, (a, b) =>
        {
            foreach (var s in sorts)
            {
                var c = s.Compare(a, b, ctx);
                if (c != 0) return c;
            }
            return a.Seq.CompareTo(b.Seq);
        });
        return order;
    }

    private static bool InOrder(ReadOnlySpan<QueueKey> keys)
    {
        for (var i = 1; i < keys.Length; i++)
            if (keys[i - 1].CompareTo(keys[i]) > 0) return false;
        return true;
    }

    /// <summary>Precomputed queue-sort keys of one job (unused keys 0), ties on arrival order.</summary>
    private readonly record struct QueueKey(long K0, long K1, long K2, long K3, long Seq) : IComparable<QueueKey>
    {
        public const int MaxKeys = 4;

        public int CompareTo(QueueKey o)
        {
            var c = K0.CompareTo(o.K0);
            if (c == 0) c = K1.CompareTo(o.K1);
            if (c == 0) c = K2.CompareTo(o.K2);
            if (c == 0) c = K3.CompareTo(o.K3);
            return c != 0 ? c : Seq.CompareTo(o.Seq);
        }
    }

    private static bool AnyQuota(ClusterSnapshot snapshot)
    {
        foreach (var lab in snapshot.Labs.Values)
            if (lab.MaxConcurrentGpus is not null) return true;
        return false;
    }

    private static string? OverQuota(JobView job, SchedulingContext ctx)
    {
        if (!ctx.Snapshot.Labs.TryGetValue(job.Spec.Lab, out var lab) || lab.MaxConcurrentGpus is not { } quota) return null;
        var want = (long)job.Spec.Resources.MilliGpusPerNode * job.Spec.Resources.Nodes;
        var used = ctx.LabMilli(job.Spec.Lab);
        return used + want > quota * 1000
            ? $"lab quota: {used / 1000.0:0.##}/{quota:0.##} GPUs of lab {lab.Name} in use, it needs {want / 1000.0:0.##} more; it starts when the lab's running jobs free them"
            : null;
    }

    /// <summary>"job j7 (lab nlp, user ana, priority 5)" for reasons that name a blocking job.</summary>
    private static string Who(JobView? job, string id) =>
        job is null ? $"job {id}" : $"job {id} (lab {job.Spec.Lab}, user {job.Spec.User}, priority {job.Spec.Priority})";

    /// <summary>Best-scored placement for every gang member on distinct nodes, or null. Ties go
    /// to the node created first, whatever order the candidates come in. <paramref name="candidates"/>
    /// is a buffer for the candidate node indices.</summary>
    private List<Placement>? Place(JobView job, SchedulingContext ctx, List<int> candidates)
    {
        var r = job.Spec.Resources;
        if (r.Nodes <= 1)
        {
            // Candidates unchanged since an earlier job of this decision: a job above their free
            // maxima fits none of them (a run of jobs waiting for a full fleet costs O(1) each).
            var single = ctx.SingleNodeCandidates(out var reused);
            if (reused && !ctx.MightFitCandidate(r)) return null;
            var best = -1;
            var bestScore = double.NegativeInfinity;
            for (var k = 0; k < single.Count; k++)
            {
                var i = single[k];
                var node = ctx.NodeAt(i);
                if (!node.IsSchedulable || !Fit.Fits(r, node) || !ctx.Filter(job, node).IsSuccess) continue;
                var score = Score(job, node, ctx);
                if (score > bestScore || (score == bestScore && i < best))
                {
                    bestScore = score;
                    best = i;
                }
            }
            return best < 0 ? null : [Fit.Slice(r, ctx.NodeAt(best))!];
        }
        return PlaceGang(job, ctx, candidates);
    }

    // Apart from Place so that the single-node path does not allocate this path's closure.
    private List<Placement>? PlaceGang(JobView job, SchedulingContext ctx, List<int> candidates)
    {
        var r = job.Spec.Resources;
        var feasible = new List<(double Score, int Index)>();
        ctx.CandidateIndices(everyMember: true, candidates);
        foreach (var i in candidates)
        {
            var node = ctx.NodeAt(i);
            if (node.IsSchedulable && Fit.Fits(r, node) && ctx.Filter(job, node).IsSuccess) feasible.Add((Score(job, node, ctx), i));
        }
        if (feasible.Count < r.Nodes) return null;
        feasible.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));
        return feasible.Take(r.Nodes).Select(f => Fit.Slice(r, ctx.NodeAt(f.Index))!).ToList();
    }

    private double Score(JobView job, Node node, SchedulingContext ctx)
    {
        var total = 0.0;
        var scores = profile.Scores;
        for (var s = 0; s < scores.Count; s++) total += scores[s].Weight * scores[s].Plugin.Score(job, node, ctx);
        return total;
    }
}
