using Gureum.Cost.Ledger;

namespace Gureum.Cost.Savings;

/// <summary>Hourly on-demand node counts per offer from a ledger source's node bills (the input of the commitment plan).</summary>
public static class DemandHistory
{
    /// <summary>Per on-demand offer: its price and the nodes billed in each hour (fractions for partial hours), from the first bill's hour.</summary>
    public static IReadOnlyList<DemandPool> OnDemandPools(CostLedger ledger, string source, DateTimeOffset? until = null)
    {
        var bills = ledger.Query(
            "SELECT offer_id, on_demand_per_hour, start_at, billed_seconds FROM node_bills WHERE starts_with(source, $s) AND market = 'OnDemand' AND on_demand_per_hour IS NOT NULL",
            r => (Offer: r.GetString(0), Price: r.GetDecimal(1), Start: new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(2), DateTimeKind.Utc)), Seconds: r.GetInt64(3)), ("s", source));
        if (until is { } cut)
            bills = bills.Where(b => b.Start < cut).Select(b => b with { Seconds = Math.Min(b.Seconds, (long)(cut - b.Start).TotalSeconds) }).ToList();
        if (bills.Count == 0) return [];
        var t0 = bills.Min(b => b.Start);
        t0 = new DateTimeOffset(t0.Year, t0.Month, t0.Day, t0.Hour, 0, 0, TimeSpan.Zero);
        var hours = (int)Math.Ceiling((bills.Max(b => b.Start.AddSeconds(b.Seconds)) - t0).TotalHours);
        var pools = new List<DemandPool>();
        foreach (var g in bills.GroupBy(b => b.Offer, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var u = new double[hours];
            foreach (var b in g)
            {
                var a = (b.Start - t0).TotalHours;
                var e = a + b.Seconds / 3600.0;
                for (var h = (int)Math.Floor(a); h < e && h < hours; h++) u[h] += Math.Min(e, h + 1) - Math.Max(a, h);
            }
            pools.Add(new DemandPool(g.Key, g.Max(b => b.Price), u));
        }
        return pools;
    }
}
