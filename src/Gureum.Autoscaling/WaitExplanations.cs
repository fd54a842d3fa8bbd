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
/// <remarks>One instance per decision: it memoizes the strings it builds, so ten thousand jobs
/// waiting for the same node share one string.</remarks>
internal sealed class WaitExplanations(AutoscaleDecision capacity)
{
    private readonly Dictionary<(ResourceRequest, string), string> _needs = [];
    // Keyed by reference: the parts come from the memos above (or the autoscaler's per-node memo),
    // so equal parts are the same string and hashing them by content would cost more than the rest.
    private readonly Dictionary<(string, string), string> _composed = new(ByReference.Instance);
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
        if (!_composed.TryGetValue((need, what), out var reason))
            _composed[(need, what)] = reason = $"waiting for {need}: {what}";
        return reason;
    }

    /// <summary>"4×A100", "0.5 GPU", "2 nodes × 8×H100", "4 CPUs (no GPU)".</summary>
    private string Need(JobSpec job)
    {
        var models = job.GpuModels.Count switch { 0 => "", 1 => job.GpuModels[0], _ => string.Join('|', job.GpuModels) };
        var key = (job.Resources, models);
        if (_needs.TryGetValue(key, out var need)) return need;
        var r = job.Resources;
        var gpu = models.Length == 0 ? "GPU" : models;
        var one = r.MilliGpusPerNode == 0 ? $"{r.Cpus.ToString("0.##", CultureInfo.InvariantCulture)} CPUs (no GPU)"
            : r.IsFractional ? $"{(r.GpuMilli / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)} {gpu}"
            : $"{r.Gpus}×{gpu}";
        need = r.Nodes > 1 ? $"{r.Nodes} nodes × {one}" : one;
        _needs[key] = need;
        return need;
    }

    /// <summary>Capacity already on its way that a waiting job was packed into: a booting node, or
    /// a node this decision buys for an earlier job. Memoized per node in <paramref name="cache"/>.</summary>
    internal static string OnItsWay(Node node, DateTimeOffset now, List<string?> cache, int index)
    {
        while (cache.Count <= index) cache.Add(null);
        return cache[index] ??= node.Id.StartsWith("virtual-", StringComparison.Ordinal)
            ? $"a {node.Offer.Id} node ({node.Market}) bought now for an earlier job has room for it, ready ~{Clock(now + node.Offer.BootDelay)}"
            : $"node {node.Id} ({node.Offer.Id}, {node.Market}) is booting, ready ~{Clock(node.RequestedAt + node.Offer.BootDelay)}";
    }

    /// <summary>Capacity this decision buys for the job.</summary>
    internal static string Buying(Offer offer, Market market, int count, DateTimeOffset now) =>
        $"buying {(count > 1 ? $"{count} × " : "")}{offer.Id} ({market}) for it, ready ~{Clock(now + offer.BootDelay)}";

    private static string Clock(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}

/// <summary>Pairs of strings compared by reference.</summary>
file sealed class ByReference : IEqualityComparer<(string, string)>
{
    public static readonly ByReference Instance = new();
    public bool Equals((string, string) x, (string, string) y) => ReferenceEquals(x.Item1, y.Item1) && ReferenceEquals(x.Item2, y.Item2);
    public int GetHashCode((string, string) obj) =>
        HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item2));
}
