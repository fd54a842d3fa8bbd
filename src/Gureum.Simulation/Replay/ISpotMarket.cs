using Gureum.Core.Cloud;
using Gureum.Core.Planning;

namespace Gureum.Simulation.Replay;

/// <summary>The simulated spot market the replay's cloud consults. Deterministic for a seed.</summary>
public interface ISpotMarket
{
    /// <summary>Whether a new spot request for the offer can be filled at <paramref name="t"/>.</summary>
    bool IsAvailable(Offer offer, DateTimeOffset t);

    /// <summary>The first time after <paramref name="after"/> a running spot node of the offer is reclaimed, or null.</summary>
    DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after);

    /// <summary>Spot price per node-hour at <paramref name="t"/>.</summary>
    decimal SpotPrice(Offer offer, DateTimeOffset t);

    /// <summary>Price changes strictly inside (<paramref name="from"/>, <paramref name="to"/>).</summary>
    IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to);

    /// <summary>The market's record over <paramref name="window"/> ending at the start of the tick
    /// holding <paramref name="before"/> (nothing at or after it): hours up and reclaims. Null for an
    /// offer without a spot price.</summary>
    SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window);

    /// <summary>How traces map to offers and zones, for reports.</summary>
    string Describe();
}

/// <summary>A spot market that is always available, never reclaims, at catalog prices (no traces given).</summary>
public sealed class CalmSpotMarket : ISpotMarket
{
    public static CalmSpotMarket Instance { get; } = new();
    public bool IsAvailable(Offer offer, DateTimeOffset t) => offer.SpotPerHour is not null;
    public DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after) => null;
    public decimal SpotPrice(Offer offer, DateTimeOffset t) => offer.SpotPerHour ?? throw new InvalidOperationException($"{offer.Id} has no spot price.");
    public IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to) => [];
    public SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window) => offer.SpotPerHour is null ? null : new SpotHistory(window.TotalHours, 0, window);
    public string Describe() => "no spot traces: spot always available at catalog prices, never reclaimed";
}
