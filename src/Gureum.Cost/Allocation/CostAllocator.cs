using Gureum.Core.Domain;
using Gureum.Cost.Metering;

namespace Gureum.Cost.Allocation;

/// <summary>
/// Splits every node bill among the jobs that held the node, by the share each held, and shows
/// what nobody held as idle cost.
/// </summary>
/// <remarks>
/// Rule. At each instant a running job's share of its node is its binding resource share, as in the
/// cost lower bound of DESIGN.md: max(GPUs held / node GPUs, vCPUs / node vCPUs, memory / node
/// memory) — a half GPU on a one-GPU node is 0.5; on a CPU-only node only CPU and memory count. When
/// the shares of the jobs on a node add up to more than 1 (possible when each binds on a different
/// resource), they are scaled down to add up to 1. The rest (1 − Σ shares) of the node, and all
/// billed time with no job (boot, empty nodes, the billing minimum), is the pool's idle cost: it is
/// never spread over the jobs. Money follows the price in force at each instant (spot price
/// changes), so a job pays for the hours it ran at the price of those hours.
///
/// Rounding. Each node bill is rounded to the micro-dollar, then split over its (day, job | idle)
/// cells by largest remainder (Hamilton's method): every cell gets the floor of its exact share in
/// micro-dollars and the leftover micro-dollars go to the cells with the largest fractional parts.
/// So Σ allocated + idle = the rounded bill exactly, per node and in any total.
/// </remarks>
public static class CostAllocator
{
    /// <summary>Micro-dollars per dollar.</summary>
    public const decimal Micro = 1_000_000m;

    /// <summary>Allocates every bill. Usage records on nodes without a bill are ignored.</summary>
    public static IReadOnlyList<CostLine> Allocate(string source, IReadOnlyList<BilledNode> bills, IReadOnlyList<UsageRecord> usage)
    {
        var byNode = new Dictionary<string, List<UsageRecord>>(StringComparer.Ordinal);
        foreach (var u in usage)
        {
            if (!byNode.TryGetValue(u.NodeId, out var l)) byNode[u.NodeId] = l = [];
            l.Add(u);
        }
        var lines = new List<CostLine>();
        foreach (var b in bills) AllocateNode(source, b, byNode.TryGetValue(b.NodeId, out var l) ? l : [], lines);
        return lines;
    }

    /// <summary>The binding-resource share of a node that a slice takes, in [0, 1].</summary>
    public static double Share(Gureum.Core.Cloud.Offer offer, int milliGpus, double cpus, double memoryGiB)
    {
        var s = 0.0;
        if (offer.GpuCount > 0) s = Math.Max(s, milliGpus / (1000.0 * offer.GpuCount));
        if (offer.VCpus > 0) s = Math.Max(s, cpus / offer.VCpus);
        if (offer.MemoryGiB > 0) s = Math.Max(s, memoryGiB / offer.MemoryGiB);
        return Math.Clamp(s, 0, 1);
    }

    private readonly record struct Cut(double At, int Run, bool IsStart);

    private sealed class Cell
    {
        public double Weight;       // share × price × seconds
        public double NodeSeconds;  // share × seconds
        public double GpuSeconds;
        public double ListWeight;   // share × on-demand price × seconds
    }

    private static void AllocateNode(string source, BilledNode bill, List<UsageRecord> runs, List<CostLine> output)
    {
        var total = bill.BilledSeconds;
        var start = bill.Start;
        var shares = new double[runs.Count];
        var cuts = new List<Cut>(runs.Count * 2);
        for (var i = 0; i < runs.Count; i++)
        {
            shares[i] = Share(bill.Offer, runs[i].MilliGpus, runs[i].Cpus, runs[i].MemoryGiB);
            var a = Math.Clamp((runs[i].Start - start).TotalSeconds, 0, total);
            var e = Math.Clamp((runs[i].End - start).TotalSeconds, 0, total);
            if (e <= a) continue;
            cuts.Add(new Cut(a, i, true));
            cuts.Add(new Cut(e, i, false));
        }
        // Other boundaries: UTC midnights and price changes.
        var bounds = new SortedSet<double> { 0, total };
        for (var d = start.UtcDateTime.Date.AddDays(1); d < bill.BilledEnd.UtcDateTime; d = d.AddDays(1))
            bounds.Add((new DateTimeOffset(d, TimeSpan.Zero) - start).TotalSeconds);
        foreach (var p in bill.Prices)
        {
            var at = (p.At - start).TotalSeconds;
            if (at > 0 && at < total) bounds.Add(at);
        }
        foreach (var c in cuts) bounds.Add(c.At);
        cuts.Sort((x, y) => x.At != y.At ? x.At.CompareTo(y.At) : x.IsStart.CompareTo(y.IsStart)); // ends first

        var onDemand = (double)(bill.Offer.OnDemandPerHour ?? bill.PriceAt(start));
        var cells = new Dictionary<(DateOnly Day, int Run), Cell>();
        var active = new List<int>();
        var ci = 0;
        var pts = bounds.ToArray();
        for (var k = 0; k + 1 < pts.Length; k++)
        {
            var t0 = pts[k];
            var t1 = pts[k + 1];
            while (ci < cuts.Count && cuts[ci].At <= t0)
            {
                if (cuts[ci].IsStart) active.Add(cuts[ci].Run);
                else active.Remove(cuts[ci].Run);
                ci++;
            }
            var dt = t1 - t0;
            if (dt <= 0) continue;
            // The piece's day and price at its middle: a piece never spans a midnight or a price change
            // (both are bounds), and its start converted back from seconds can land a tick before a
            // midnight when the node started at a sub-millisecond instant (live nodes do), which put
            // the whole next piece on the day before.
            var at = start.AddSeconds((t0 + t1) / 2);
            var day = DateOnly.FromDateTime(at.UtcDateTime);
            var price = (double)bill.PriceAt(at);
            var sum = 0.0;
            foreach (var r in active) sum += shares[r];
            var scale = sum > 1 ? 1 / sum : 1;
            foreach (var r in active)
            {
                var s = shares[r] * scale;
                var cell = CellOf(cells, day, r);
                cell.Weight += s * price * dt;
                cell.NodeSeconds += s * dt;
                cell.GpuSeconds += runs[r].MilliGpus / 1000.0 * dt;
                cell.ListWeight += s * onDemand * dt;
            }
            var idle = Math.Max(0, 1 - sum);
            // Idle cells exist for every piece of billed time, even at zero share, so a day with a
            // fully used node still has its idle line of 0 (keeps days visible and the split total).
            var ic = CellOf(cells, day, -1);
            ic.Weight += idle * price * dt;
            ic.NodeSeconds += idle * dt;
            ic.ListWeight += idle * onDemand * dt;
        }

        var keys = cells.Keys.ToList();
        var target = (long)Math.Round(bill.BilledUsd * Micro, MidpointRounding.AwayFromZero);
        var amounts = LargestRemainder(target, keys.Select(k => cells[k].Weight).ToArray());
        for (var i = 0; i < keys.Count; i++)
        {
            var (day, run) = keys[i];
            var c = cells[keys[i]];
            var u = run >= 0 ? runs[run] : null;
            output.Add(new CostLine
            {
                Source = source,
                Day = day,
                Kind = u is null ? CostKind.Idle : CostKind.Usage,
                Lab = u?.Lab ?? CostLine.IdleOwner,
                Project = u?.Project ?? CostLine.IdleOwner,
                User = u?.User ?? CostLine.IdleOwner,
                JobId = u?.JobId,
                NodeId = bill.NodeId,
                OfferId = bill.Offer.Id,
                Cloud = bill.Offer.Cloud,
                Region = bill.Offer.Region,
                Zone = bill.Offer.Zone,
                InstanceType = bill.Offer.InstanceType,
                GpuModel = bill.Offer.GpuModel,
                Market = bill.Market,
                AmountUsd = amounts[i] / Micro,
                NodeSeconds = c.NodeSeconds,
                GpuSeconds = c.GpuSeconds,
                ListUsd = Math.Round((decimal)(c.ListWeight / 3600), 6),
            });
        }
    }

    private static Cell CellOf(Dictionary<(DateOnly, int), Cell> cells, DateOnly day, int run)
    {
        if (!cells.TryGetValue((day, run), out var c)) cells[(day, run)] = c = new Cell();
        return c;
    }

    /// <summary>
    /// Splits <paramref name="total"/> units in proportion to <paramref name="weights"/> by largest
    /// remainder: the result sums to <paramref name="total"/> exactly. All weights zero (or no
    /// weights): everything to the last cell (by convention the caller's idle cell) or, with no cells, nothing.
    /// </summary>
    public static long[] LargestRemainder(long total, IReadOnlyList<double> weights)
    {
        var n = weights.Count;
        var result = new long[n];
        if (n == 0) return result;
        var sum = 0.0;
        foreach (var w in weights) sum += Math.Max(0, w);
        if (sum <= 0)
        {
            result[n - 1] = total;
            return result;
        }
        var sign = Math.Sign(total);
        var abs = Math.Abs(total);
        var frac = new (decimal Rem, int Index)[n];
        long given = 0;
        for (var i = 0; i < n; i++)
        {
            var exact = (decimal)(Math.Max(0, weights[i]) / sum) * abs;
            var floor = decimal.Floor(exact);
            result[i] = (long)floor;
            given += result[i];
            frac[i] = (exact - floor, i);
        }
        var left = abs - given;
        // Largest fractional part first; ties to the lower index (deterministic).
        Array.Sort(frac, (x, y) => x.Rem != y.Rem ? y.Rem.CompareTo(x.Rem) : x.Index.CompareTo(y.Index));
        for (var k = 0; left > 0; k = (k + 1) % n, left--) result[frac[k].Index]++;
        if (left < 0) throw new InvalidOperationException("Largest remainder overshot: shares summed above 1.");
        if (sign < 0) for (var i = 0; i < n; i++) result[i] = -result[i];
        return result;
    }
}
