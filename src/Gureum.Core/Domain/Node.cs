using Gureum.Core.Cloud;

namespace Gureum.Core.Domain;

/// <summary>Node lifecycle: requested → booting → ready → draining → terminated.</summary>
public enum NodeState
{
    Requested,
    Booting,
    Ready,
    Draining,
    Terminated,
}

/// <summary>
/// A node as the decision core sees it: immutable. The store replaces the whole record when
/// anything changes, so a snapshot holding it never sees a later change.
/// </summary>
public sealed record Node
{
    public required string Id { get; init; }
    public required Offer Offer { get; init; }
    public required Market Market { get; init; }
    public required NodeState State { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset? ReadyAt { get; init; }
    public DateTimeOffset? TerminatedAt { get; init; }

    /// <summary>Free milli-GPU on each GPU of the node (1000 = a whole free GPU).</summary>
    public required int[] GpuFreeMilli { get; init; }
    public required double FreeCpus { get; init; }
    public required double FreeMemoryGiB { get; init; }

    /// <summary>Jobs running on the node.</summary>
    public int RunningJobs { get; init; }

    /// <summary>When the node last became empty (for idle scale-down); null while it runs jobs.</summary>
    public DateTimeOffset? IdleSince { get; init; }

    /// <summary>Part of a fixed fleet (static policy): never scaled down.</summary>
    public bool Fixed { get; init; }

    public bool IsSchedulable => State == NodeState.Ready;
    public bool IsInFlight => State is NodeState.Requested or NodeState.Booting;
    public bool IsAlive => State != NodeState.Terminated;

    /// <summary>Whole free GPUs.</summary>
    public int FreeWholeGpus
    {
        get
        {
            var n = 0;
            foreach (var f in GpuFreeMilli) if (f == 1000) n++;
            return n;
        }
    }

    /// <summary>Largest free share on one GPU.</summary>
    public int MaxFreeMilli
    {
        get
        {
            var m = 0;
            foreach (var f in GpuFreeMilli) if (f > m) m = f;
            return m;
        }
    }

    /// <summary>A fresh node of an offer with all resources free.</summary>
    public static Node Create(string id, Offer offer, Market market, NodeState state, DateTimeOffset at, bool isFixed = false) => new()
    {
        Id = id,
        Offer = offer,
        Market = market,
        State = state,
        RequestedAt = at,
        ReadyAt = state == NodeState.Ready ? at : null,
        GpuFreeMilli = Enumerable.Repeat(1000, offer.GpuCount).ToArray(),
        FreeCpus = offer.VCpus,
        FreeMemoryGiB = offer.MemoryGiB,
        IdleSince = state == NodeState.Ready ? at : null,
        Fixed = isFixed,
    };
}
