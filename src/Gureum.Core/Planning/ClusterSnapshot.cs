using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Core.Planning;

/// <summary>
/// Everything a decision may look at, frozen at one instant. Built by the store, read by the
/// decision core, never mutated by anyone: the collections are immutable or private copies.
/// </summary>
public sealed record ClusterSnapshot
{
    public required DateTimeOffset Now { get; init; }
    /// <summary>Queued jobs in arrival order.</summary>
    public required IReadOnlyList<JobView> Pending { get; init; }
    /// <summary>Running jobs keyed by <see cref="JobView.Seq"/>.</summary>
    public required ImmutableSortedDictionary<long, JobView> Running { get; init; }
    /// <summary>Alive nodes (not terminated), in creation order.</summary>
    public required IReadOnlyList<Node> Nodes { get; init; }
    /// <summary>Index of each node in <see cref="Nodes"/> by id, when the store keeps one (saves
    /// rebuilding it per decision); null means <see cref="IndexById"/> builds one on first use.</summary>
    public IReadOnlyDictionary<string, int>? NodeIndex { get; init; }
    /// <summary>Ready nodes grouped by free-capacity shape, when the store keeps the index (it
    /// must then also give <see cref="NodeIndex"/>); null means the scheduler scans every node.</summary>
    public CapacityIndex? Capacity { get; init; }
    /// <summary>What can be bought.</summary>
    public required IReadOnlyList<Offer> Offers { get; init; }
    /// <summary>Fair-share standing per lab.</summary>
    public required IReadOnlyDictionary<string, LabShare> Labs { get; init; }
    /// <summary>Spot market signals the control loop has seen (failed requests, preemptions).</summary>
    public SpotSignals Spot { get; init; } = SpotSignals.Empty;

    private (IReadOnlyList<Node> For, IReadOnlyDictionary<string, int> Index)? _built;

    /// <summary>Each node's position in <see cref="Nodes"/> by id: <see cref="NodeIndex"/> when the
    /// store keeps one, else an index built on first use (threads racing to build it build the same one).</summary>
    public IReadOnlyDictionary<string, int> IndexById()
    {
        if (NodeIndex is { } index) return index;
        if (_built is not { } built || !ReferenceEquals(built.For, Nodes)) // a `with` copy may carry another list's index
        {
            var map = new Dictionary<string, int>(Nodes.Count, StringComparer.Ordinal);
            for (var i = 0; i < Nodes.Count; i++) map[Nodes[i].Id] = i;
            _built = built = (Nodes, map);
        }
        return built.Index;
    }

    /// <summary>The alive node with this id, or null (by <see cref="IndexById"/>).</summary>
    public Node? FindNode(string id) => IndexById().TryGetValue(id, out var i) ? Nodes[i] : null;
}

/// <summary>
/// What the control plane has observed of spot markets: the last time a spot request failed or a
/// spot node was reclaimed, per zone and GPU model. Policies that avoid troubled zones read it.
/// </summary>
public sealed record SpotSignals(ImmutableDictionary<string, DateTimeOffset> LastTroubleByZoneModel)
{
    public static SpotSignals Empty { get; } = new(ImmutableDictionary<string, DateTimeOffset>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>Each spot market's published record before now (<see cref="SpotHistory"/>), by
    /// <see cref="Key"/>, when the cloud publishes one (<see cref="Control.ISpotHistorySource"/>);
    /// empty otherwise. The same instance while nothing changed, so readers may skip it by reference.</summary>
    public ImmutableDictionary<string, SpotHistory> History { get; init; } = ImmutableDictionary<string, SpotHistory>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Key for a zone and GPU model.</summary>
    public static string Key(string zone, string? gpuModel) => zone + "|" + (gpuModel ?? "cpu");

    /// <summary>The last trouble in a zone for a model, if any.</summary>
    public DateTimeOffset? LastTrouble(string zone, string? gpuModel) =>
        LastTroubleByZoneModel.TryGetValue(Key(zone, gpuModel), out var t) ? t : null;
}

/// <summary>
/// A spot market's record over a window before the time it was read, as a cloud publishes it (AWS
/// Spot Advisor's interruption frequency per instance type and region is the trailing month's) or as
/// availability probes measure it: the hours a spot node could be held there and how many times held
/// nodes were reclaimed.
/// </summary>
/// <param name="UpHours">Hours of the window in which spot capacity could be held.</param>
/// <param name="Reclaims">Times in the window the market went from available to reclaimed.</param>
/// <param name="Window">How far back the record reaches.</param>
public readonly record struct SpotHistory(double UpHours, int Reclaims, TimeSpan Window);
