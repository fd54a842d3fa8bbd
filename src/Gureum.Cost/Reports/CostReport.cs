using Gureum.Cost.Allocation;
using Gureum.Cost.Ledger;

namespace Gureum.Cost.Reports;

/// <summary>What a cost report groups by.</summary>
public enum CostGrouping { Lab, Project, User, Offer, Market }

/// <summary>One row of a cost report: exact USD (12 decimals) and the cents shown.</summary>
public sealed record CostReportRow(string Key, decimal ExactUsd, decimal Cents);

/// <summary>
/// A cost report over the ledger's <c>costs</c> view (allocated lines and imported billing):
/// allocated rows, the idle row, and the billed total they add up to. Shown cents are apportioned
/// by largest remainder so the rows always add up to the shown total, to the cent.
/// </summary>
public sealed record CostReport(CostGrouping By, IReadOnlyList<CostReportRow> Rows, decimal AllocatedUsd, decimal IdleUsd, decimal BilledUsd, decimal BilledCents)
{
    /// <summary>Builds the report. <paramref name="source"/> filters sources by prefix (null = all);
    /// days from <paramref name="since"/> (inclusive) to <paramref name="until"/> (exclusive).</summary>
    public static CostReport Build(CostLedger ledger, CostGrouping by, string? source, DateOnly? since, DateOnly? until)
    {
        var key = by switch
        {
            CostGrouping.Lab => "lab",
            CostGrouping.Project => "lab || '/' || project",
            CostGrouping.User => "lab || '/' || user_name",
            CostGrouping.Offer => "offer",
            _ => "market",
        };
        var rows = ledger.Query(
            $"SELECT {key} AS k, kind = 'Idle' AS idle, sum(amount_usd) FROM costs WHERE ($src IS NULL OR starts_with(source, $src)) AND ($a IS NULL OR day >= $a) AND ($b IS NULL OR day < $b) GROUP BY ALL ORDER BY 1",
            r => (Key: r.GetString(0), Idle: r.GetBoolean(1), Usd: r.GetDecimal(2)),
            ("src", source), ("a", since?.ToDateTime(TimeOnly.MinValue)), ("b", until?.ToDateTime(TimeOnly.MinValue)));
        // Idle is its own row whatever the grouping, never folded into a lab, offer or market.
        var grouped = rows.GroupBy(r => r.Idle ? CostLine.IdleOwner : r.Key).Select(g => (Key: g.Key, Usd: g.Sum(x => x.Usd))).OrderByDescending(g => g.Usd).ToList();
        var billed = grouped.Sum(g => g.Usd);
        var idle = rows.Where(r => r.Idle).Sum(r => r.Usd);
        var billedCents = Math.Round(billed, 2, MidpointRounding.AwayFromZero);
        var cents = Apportion(grouped.Select(g => g.Usd * 100).ToArray(), (long)(billedCents * 100));
        var list = grouped.Select((g, i) => new CostReportRow(g.Key, g.Usd, cents[i] / 100m)).ToList();
        return new CostReport(by, list, billed - idle, idle, billed, billedCents);
    }

    /// <summary>
    /// Rounds signed exact amounts to whole units summing to <paramref name="target"/> (which must be
    /// Σ exact rounded): floors first, then +1 to the largest fractional parts (ties: first row).
    /// </summary>
    public static long[] Apportion(decimal[] exact, long target)
    {
        var floors = exact.Select(decimal.Floor).ToArray();
        var left = target - (long)floors.Sum();
        var order = Enumerable.Range(0, exact.Length).OrderByDescending(i => exact[i] - floors[i]).ThenBy(i => i).ToArray();
        var result = floors.Select(f => (long)f).ToArray();
        for (var k = 0; k < order.Length && left > 0; k++, left--) result[order[k]]++;
        return result;
    }
}
