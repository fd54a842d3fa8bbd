using Gureum.Core.Cloud;

namespace Gureum.Cost.Metering;

/// <summary>A price in force from <see cref="At"/> on (USD per node-hour).</summary>
public readonly record struct PricePoint(DateTimeOffset At, decimal PerHour);

/// <summary>
/// One node's bill as the cost engine sees it: billed from <see cref="Start"/> for
/// <see cref="BilledSeconds"/> seconds (which may exceed its life by a billing minimum), costing
/// <see cref="BilledUsd"/>, at the prices in <see cref="Prices"/> (the first at <see cref="Start"/>).
/// </summary>
public sealed record BilledNode
{
    public required string NodeId { get; init; }
    public required Offer Offer { get; init; }
    public required Market Market { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required long BilledSeconds { get; init; }
    public required decimal BilledUsd { get; init; }
    public required IReadOnlyList<PricePoint> Prices { get; init; }

    public DateTimeOffset BilledEnd => Start.AddSeconds(BilledSeconds);

    /// <summary>The price in force at <paramref name="t"/>.</summary>
    public decimal PriceAt(DateTimeOffset t)
    {
        var p = Prices[0].PerHour;
        foreach (var pp in Prices)
        {
            if (pp.At > t) break;
            p = pp.PerHour;
        }
        return p;
    }
}
