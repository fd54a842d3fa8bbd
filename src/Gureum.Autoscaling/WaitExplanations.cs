using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling;

namespace Gureum.Autoscaling;

/// <summary>
/// The words of a waiting job's reason: what it waits for ("4×A100"), and for whom or what (a
/// booting node and when it is expected, a purchase, a quota, a job ahead of it). Reasons name
/// absolute times, never countdowns, so a reason stays the same from one decision to the next
/// until something really changes (the control loop writes only reasons that changed).
/// </summary>
/// <remarks>One instance per decision, over a <see cref="ReasonMemo"/> that outlives it: ten
/// thousand jobs waiting for the same node share one string, and a reason that did not change since
/// the last decision is the same string object (nothing to build, and the control loop's check
/// against the stored reason stops at the reference).</remarks>
internal sealed class WaitExplanations(AutoscaleDecision capacity, ReasonMemo memo)
{
    private string? _noRoom;
    private string? _tooSmall;

    /// <summary>The reason to store for one waiting job.</summary>
    public string Explain(WaitingJob w)
    {
        var noRoom = string.Equals(w.Reason, Scheduler.NoRoomReason, StringComparison.Ordinal);
        if (!noRoom && !string.Equals(w.Reason, Scheduler.NoNodeBigEnoughReason, StringComparison.Ordinal))
            return w.Reason; // quota or a job ahead of it: the scheduler already names them
        var what = capacity.WaitingFor?.GetValueOrDefault(w.Job.Id)
            ?? (noRoom
                ? _noRoom ??= $"no eligible ready node has room for it now; {capacity.Otherwise ?? "no capacity is on its way"}"
                : _tooSmall ??= $"no ready node has that much free now; {capacity.Otherwise ?? "no capacity is on its way"}");
        var need = Need(w.Job.Spec);
        if (!memo.Composed.TryGetValue(what, out var withNeeds)) memo.Composed[what] = withNeeds = new(1);
        foreach (var (n, r) in withNeeds)
            if (ReferenceEquals(n, need)) return r;
        var reason = $"waiting for {need}: {what}";
        withNeeds.Add((need, reason));
        return reason;
    }

    /// <summary>"4×A100", "0.5 GPU", "2 nodes × 8×H100", "4 CPUs (no GPU)".</summary>
    private string Need(JobSpec job)
    {
        var models = job.GpuModels.Count switch { 0 => "", 1 => job.GpuModels[0], _ => string.Join('|', job.GpuModels) };
        var key = (job.Resources, models);
        if (memo.Needs.TryGetValue(key, out var need)) return need;
        var r = job.Resources;
        var gpu = models.Length == 0 ? "GPU" : models;
        var one = r.MilliGpusPerNode == 0 ? $"{r.Cpus.ToString("0.##", CultureInfo.InvariantCulture)} CPUs (no GPU)"
            : r.IsFractional ? $"{(r.GpuMilli / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)} {gpu}"
            : $"{r.Gpus}×{gpu}";
        need = r.Nodes > 1 ? $"{r.Nodes} nodes × {one}" : one;
        memo.Needs[key] = need;
        return need;
    }

    /// <summary>Capacity already on its way that a waiting job was packed into: a booting node
    /// (memoized by node id in <paramref name="booting"/>, which outlives the decision: the text
    /// depends only on the node), or a node this decision buys for an earlier job (memoized by its
    /// index in <paramref name="bought"/>, for this decision only: its text names the time now).</summary>
    internal static string OnItsWay(Node node, DateTimeOffset now, Dictionary<string, string> booting, List<string?> bought, int index)
    {
        if (!node.Id.StartsWith("virtual-", StringComparison.Ordinal))
        {
            if (!booting.TryGetValue(node.Id, out var text))
                booting[node.Id] = text = $"node {node.Id} ({node.Offer.Id}, {node.Market}) is booting, ready ~{Clock(node.RequestedAt + node.Offer.BootDelay)}";
            return text;
        }
        while (bought.Count <= index) bought.Add(null);
        return bought[index] ??= $"a {node.Offer.Id} node ({node.Market}) bought now for an earlier job has room for it, ready ~{Clock(now + node.Offer.BootDelay)}";
    }

    /// <summary>Capacity this decision buys for the job.</summary>
    internal static string Buying(Offer offer, Market market, int count, DateTimeOffset now) =>
        $"buying {(count > 1 ? $"{count} × " : "")}{offer.Id} ({market}) for it, ready ~{Clock(now + offer.BootDelay)}";

    private static string Clock(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}

/// <summary>
/// Reason texts kept from one decision to the next (by the decision core that owns it). Cleared
/// whole when it outgrows <see cref="MaxEntries"/>: after that, texts are built again once.
/// </summary>
internal sealed class ReasonMemo
{
    /// <summary>The most entries either map keeps.</summary>
    public const int MaxEntries = 50_000;

    /// <summary>A job shape → what it waits for in words ("4×A100").</summary>
    public Dictionary<(ResourceRequest, string), string> Needs { get; } = [];

    /// <summary>What a job waits for → the reasons composed with it, one per need. Both parts come
    /// from memos (this one's <see cref="Needs"/>, the autoscaler's texts per booting node), so they
    /// are compared by reference: a text that is rebuilt each decision (a purchase names the time)
    /// only misses, it never matches wrongly.</summary>
    public Dictionary<string, List<(string Need, string Reason)>> Composed { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Called before each decision.</summary>
    public void Trim()
    {
        if (Needs.Count > MaxEntries) Needs.Clear();
        if (Composed.Count > MaxEntries) Composed.Clear();
    }
}
