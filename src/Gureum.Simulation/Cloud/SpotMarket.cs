using System.Globalization;
using System.Text;
using Gureum.Core.Cloud;
using Gureum.Core.Planning;

namespace Gureum.Simulation.Cloud;

/// <summary>How one spot market (cloud, zone, GPU model) was given a trace; see the folder README.</summary>
/// <param name="Cloud">Offer cloud.</param>
/// <param name="Zone">Offer zone.</param>
/// <param name="Model">Canonical GPU model, or <c>CPU</c>.</param>
/// <param name="TraceName">The trace driving it, or null when always available.</param>
/// <param name="Rule">Which mapping tier chose the trace (e.g. "same region, same model").</param>
/// <param name="Phase">Tick of the trace at the epoch (seeded).</param>
/// <param name="AvailabilityFraction">Fraction of the trace's ticks that are up.</param>
public sealed record SpotMarketAssignment(string Cloud, string Zone, string Model, string? TraceName, string Rule, int Phase, double AvailabilityFraction);

/// <summary>
/// The simulated spot market, driven by measured availability traces. Every spot offer belongs to a
/// market (cloud, zone, GPU model — all instance sizes of one model in one zone share it), and each
/// market replays one trace cyclically from a seeded phase, starting at the epoch.
/// </summary>
/// <remarks>
/// <para>A tick is <b>up</b> when the trace value is at least 1: for single-node traces that is
/// "a spot request is filled" (availability probes) or "the held instance is running" (preemption
/// traces); for multi-node traces (4-node, 16-node, SpotHedge counts) it means "at least one
/// instance could be held". Partial drops of a count trace (16 → 15) are therefore not reclaims —
/// the simulator holds one market-level state per zone and model.</para>
/// <para>A running spot node is reclaimed at the start of the first down tick after the query time;
/// a request at t is filled iff t's tick is up. Traces wrap, so <see cref="NextReclaim"/> looks at
/// most one full cycle ahead.</para>
/// <para>Immutable after construction and safe to share across threads. Lookups are O(1)
/// (<see cref="IsAvailable"/>) or O(log n) (<see cref="NextReclaim"/>) over arrays precomputed per
/// trace; pass the same <see cref="Offer"/> instances given to <see cref="Build"/> for the fastest
/// (reference) lookup.</para>
/// </remarks>
public sealed class SpotMarket : Replay.ISpotMarket
{
    private readonly Dictionary<Offer, Lane?> _byReference;
    private readonly Dictionary<(string Cloud, string Zone, string Model), Lane> _byKey;
    private readonly long _epochTicks;
    private readonly string _header;
    private readonly bool _unknownAlwaysAvailable;

    private SpotMarket(IReadOnlyList<Offer> offers, Dictionary<(string, string, string), Lane> lanes, DateTimeOffset epoch, string header, bool unknownAlwaysAvailable)
    {
        _byKey = lanes;
        _epochTicks = epoch.UtcTicks;
        _header = header;
        _unknownAlwaysAvailable = unknownAlwaysAvailable;
        _byReference = new Dictionary<Offer, Lane?>(ReferenceEqualityComparer.Instance);
        foreach (var offer in offers)
        {
            _byReference[offer] = offer.SpotPerHour is null ? null : lanes[KeyOf(offer)];
        }

        Assignments = [.. lanes.Values.OrderBy(l => l.Key.Cloud, StringComparer.Ordinal).ThenBy(l => l.Key.Zone, StringComparer.Ordinal)
            .ThenBy(l => l.Key.Model, StringComparer.Ordinal)
            .Select(l => new SpotMarketAssignment(l.Key.Cloud, l.Key.Zone, l.Key.Model, l.Table?.Trace.Name, l.Rule, l.Phase, l.Availability))];
    }

    /// <summary>One entry per market, sorted by cloud, zone, model.</summary>
    public IReadOnlyList<SpotMarketAssignment> Assignments { get; }

    /// <summary>
    /// Builds the market over <paramref name="offers"/> (those with a spot price) from measured
    /// <paramref name="traces"/>. Tick 0 of each market's trace, shifted by its seeded phase, falls at
    /// <paramref name="epoch"/>. Deterministic: the same inputs and <paramref name="seed"/> give the
    /// same market. With no traces every market is always available.
    /// </summary>
    public static SpotMarket Build(IReadOnlyList<Offer> offers, IReadOnlyList<SpotTrace> traces, DateTimeOffset epoch, int seed)
    {
        ArgumentNullException.ThrowIfNull(offers);
        ArgumentNullException.ThrowIfNull(traces);
        var usable = traces.Where(t => t.Data.Length > 0 && t.Gap > TimeSpan.Zero)
            .Select(t => new TraceFacts(t, t.Cloud, t.Region, t.GpuModel ?? "CPU", t.AvailabilityFraction))
            .ToList();
        var tables = new Dictionary<SpotTrace, TraceTable>(ReferenceEqualityComparer.Instance);
        var lanes = new Dictionary<(string, string, string), Lane>();
        var markets = offers.Where(o => o.SpotPerHour is not null)
            .Select(o => (Key: KeyOf(o), o.Region))
            .Distinct()
            .ToList();

        // Each market picks the first tier with traces; markets sharing a pool are spread over its
        // zone aliases round-robin by their own zone, in ordinal order.
        var byPool = new Dictionary<(int Tier, string PoolKey), List<((string Cloud, string Zone, string Model) Key, string Region)>>();
        foreach (var m in markets)
        {
            var (tier, poolKey) = usable.Count == 0 ? (-1, "") : ChooseTier(m.Key, m.Region, usable);
            if (!byPool.TryGetValue((tier, poolKey), out var list))
            {
                byPool[(tier, poolKey)] = list = [];
            }

            list.Add(m);
        }

        foreach (var ((tier, _), members) in byPool)
        {
            if (tier < 0)
            {
                foreach (var m in members)
                {
                    lanes[m.Key] = Lane.Always(m.Key, "no traces: always available");
                }

                continue;
            }

            var first = members[0];
            var pool = usable.Where(t => Tiers[tier].Matches(t, first.Key, first.Region)).Select(f => f.Trace).ToList();
            var aliases = pool.GroupBy(t => t.Zone, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.OrderByDescending(t => t.Duration).ThenBy(t => t.Name, StringComparer.Ordinal).First())
                .ToList();
            var zones = members.Select(m => (m.Key.Cloud, m.Key.Zone)).Distinct().OrderBy(z => z.Cloud, StringComparer.Ordinal)
                .ThenBy(z => z.Zone, StringComparer.Ordinal).ToList();
            // A trace named after the market's own zone (GCP zone names are global) is used as is;
            // the other zones take the aliases round-robin.
            var exact = aliases.ToDictionary(t => t.Zone, StringComparer.Ordinal);
            var unmatched = zones.Where(z => !exact.ContainsKey(z.Zone)).ToList();
            foreach (var m in members)
            {
                var trace = exact.TryGetValue(m.Key.Zone, out var own)
                    ? own
                    : aliases[unmatched.IndexOf((m.Key.Cloud, m.Key.Zone)) % aliases.Count];
                if (!tables.TryGetValue(trace, out var table))
                {
                    tables[trace] = table = new TraceTable(trace);
                }

                var phase = (int)(Mix(seed, $"{m.Key.Cloud}|{m.Key.Zone}|{m.Key.Model}") % (ulong)trace.Data.Length);
                lanes[m.Key] = new Lane(m.Key, table, phase, Tiers[tier].Name);
            }
        }

        var header = string.Create(CultureInfo.InvariantCulture,
            $"Spot market: {lanes.Count} markets (cloud, zone, GPU model) from {usable.Count} traces; epoch {epoch:O}, seed {seed}. A tick is up when the trace value is >= 1; traces wrap.");
        return new SpotMarket(offers, lanes, epoch, header, unknownAlwaysAvailable: usable.Count == 0);
    }

    /// <summary>A market where every spot offer is always available at its catalog spot price and never reclaimed.</summary>
    public static SpotMarket AlwaysAvailable(IReadOnlyList<Offer> offers)
    {
        ArgumentNullException.ThrowIfNull(offers);
        var lanes = offers.Where(o => o.SpotPerHour is not null).Select(KeyOf).Distinct()
            .ToDictionary(k => k, k => Lane.Always(k, "always available"));
        return new SpotMarket(offers, lanes, DateTimeOffset.UnixEpoch, $"Spot market: {lanes.Count} markets, always available, catalog spot prices.", unknownAlwaysAvailable: true);
    }

    /// <summary>Can a new spot request for <paramref name="offer"/> be filled at <paramref name="t"/>?
    /// False for offers without a spot price.</summary>
    /// <exception cref="ArgumentException">The offer's market was not built (zone and model unknown).</exception>
    public bool IsAvailable(Offer offer, DateTimeOffset t)
    {
        var lane = Find(offer);
        if (lane is null)
        {
            return false;
        }

        var table = lane.Table;
        return table is null || table.Up[lane.Index(Tick(t, table.GapTicks))];
    }

    /// <summary>
    /// First time strictly after <paramref name="after"/> at which a spot node of
    /// <paramref name="offer"/> running at <paramref name="after"/> is reclaimed: the start of the next
    /// down tick. Null when the trace has no down tick (or the offer has no spot market). Searches
    /// at most one full cycle of the trace.
    /// </summary>
    public DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after)
    {
        var lane = Find(offer);
        var table = lane?.Table;
        if (lane is null || table is null || table.Down.Length == 0)
        {
            return null;
        }

        var next = Tick(after, table.GapTicks) + 1;
        var i = lane.Index(next);
        var at = Array.BinarySearch(table.Down, i);
        if (at < 0)
        {
            at = ~at;
        }

        long ahead = at < table.Down.Length ? table.Down[at] - i : table.N - i + table.Down[0];
        return StartOf(next + ahead, table.GapTicks);
    }

    /// <summary>
    /// The record of <paramref name="offer"/>'s market over the whole ticks of <paramref name="window"/>
    /// (at least one) that end where the tick holding <paramref name="before"/> starts: hours up and
    /// up-to-down transitions (reclaims of a held node). Only ticks before <paramref name="before"/>
    /// are read; traces wrap as in the replay. An always-available market is up the whole window.
    /// Null for an offer without a spot market.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is not positive.</exception>
    public SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var lane = Find(offer);
        if (lane is null)
        {
            return null;
        }

        if (lane.Table is not { } table)
        {
            return new SpotHistory(window.TotalHours, 0, window);
        }

        var end = Tick(before, table.GapTicks);
        var k = Math.Max(1, window.Ticks / table.GapTicks);
        var (up, reclaims) = table.Count(lane.Index(end - k), k);
        return new SpotHistory(up * table.Trace.Gap.TotalHours, (int)Math.Min(int.MaxValue, reclaims), TimeSpan.FromTicks(k * table.GapTicks));
    }

    /// <summary>
    /// Spot price of <paramref name="offer"/> at <paramref name="t"/> in USD per node-hour: when the
    /// market's trace has prices, catalog spot × trace price(t) / mean trace price (rounded to 6
    /// decimals); otherwise the catalog spot price.
    /// </summary>
    /// <exception cref="ArgumentException">The offer has no spot price, or its market was not built.</exception>
    public decimal SpotPrice(Offer offer, DateTimeOffset t)
    {
        var lane = Find(offer) ?? throw new ArgumentException($"Offer {offer.Id} has no spot price. To fix: price it on demand.", nameof(offer));
        var catalog = offer.SpotPerHour!.Value;
        var table = lane.Table;
        return table?.Factor is null ? catalog : Scale(catalog, table.Factor[lane.Index(Tick(t, table.GapTicks))]);
    }

    /// <summary>
    /// The price of <paramref name="offer"/> at <paramref name="from"/>, followed by every change in
    /// [<paramref name="from"/>, <paramref name="to"/>) with the time it takes effect. Empty when
    /// <paramref name="to"/> ≤ <paramref name="from"/>.
    /// </summary>
    public IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return [];
        }

        var result = new List<(DateTimeOffset, decimal)> { (from, SpotPrice(offer, from)) };
        var lane = Find(offer)!;
        var table = lane.Table;
        if (table?.Factor is null || table.Changes.Length == 0)
        {
            return result;
        }

        var catalog = offer.SpotPerHour!.Value;
        var last = result[0].Item2;
        var tick = Tick(from, table.GapTicks);
        while (true)
        {
            var next = tick + 1;
            var i = lane.Index(next);
            var at = Array.BinarySearch(table.Changes, i);
            if (at < 0)
            {
                at = ~at;
            }

            long ahead = at < table.Changes.Length ? table.Changes[at] - i : table.N - i + table.Changes[0];
            tick = next + ahead;
            var start = StartOf(tick, table.GapTicks);
            if (start >= to)
            {
                return result;
            }

            var price = Scale(catalog, table.Factor[lane.Index(tick)]);
            if (price != last)
            {
                result.Add((start, price));
                last = price;
            }
        }
    }

    /// <summary>Fraction of the mapped trace's ticks that are up: 1 when always available, 0 for an
    /// offer without a spot price.</summary>
    public double AvailabilityFraction(Offer offer) => Find(offer)?.Availability ?? 0;

    /// <summary>The mapping as text for reports: one line per market, trace, rule, phase and availability.</summary>
    public string Describe()
    {
        var sb = new StringBuilder(_header).AppendLine();
        foreach (var a in Assignments)
        {
            var lane = _byKey[(a.Cloud, a.Zone, a.Model)];
            sb.Append(CultureInfo.InvariantCulture, $"  {a.Cloud}/{a.Zone} {a.Model}: ");
            if (lane.Table is { } t)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"{t.Trace.Name} [{a.Rule}] phase {a.Phase}/{t.N} ticks x {t.Trace.Gap.TotalSeconds:0} s, up {a.AvailabilityFraction:P1}, prices {(t.Factor is null ? "catalog" : "scaled by trace")}");
            }
            else
            {
                sb.Append(a.Rule);
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private Lane? Find(Offer offer)
    {
        if (_byReference.TryGetValue(offer, out var lane))
        {
            return lane;
        }

        if (offer.SpotPerHour is null)
        {
            return null;
        }

        if (_byKey.TryGetValue(KeyOf(offer), out lane))
        {
            return lane;
        }

        return _unknownAlwaysAvailable
            ? Lane.Always(KeyOf(offer), "always available")
            : throw new ArgumentException($"Offer {offer.Id} ({offer.GpuModel ?? "CPU"}) was not among the offers the spot market was built from, so it has no trace. To fix: include it in the offers passed to SpotMarket.Build.", nameof(offer));
    }

    private static (string Cloud, string Zone, string Model) KeyOf(Offer o) => (o.Cloud, o.Zone, o.GpuModel ?? "CPU");

    private long Tick(DateTimeOffset t, long gapTicks) => Math.DivRem(t.UtcTicks - _epochTicks, gapTicks) switch
    {
        var (q, r) when r < 0 => q - 1,
        var (q, _) => q,
    };

    private DateTimeOffset StartOf(long tick, long gapTicks) => new(_epochTicks + (tick * gapTicks), TimeSpan.Zero);

    private static decimal Scale(decimal catalog, decimal factor) => Math.Round(catalog * factor, 6, MidpointRounding.ToEven);

    private static ulong Mix(int seed, string key)
    {
        // FNV-1a over the key, then SplitMix64 with the seed: stable across processes and platforms
        // (string.GetHashCode is randomised per process).
        var h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            h = (h ^ b) * 1099511628211UL;
        }

        var z = h + (0x9E3779B97F4A7C15UL * (ulong)(uint)seed);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>What the mapping needs to know about a trace, computed once per build.</summary>
    private sealed record TraceFacts(SpotTrace Trace, string Cloud, string Region, string Model, double Availability)
    {
        public bool SameClass(string model) => (Model == "CPU") == (model == "CPU");
    }

    private sealed record Tier(string Name, Func<TraceFacts, (string Cloud, string Zone, string Model), string, bool> Matches);

    /// <summary>
    /// Mapping tiers, most specific first (see README). Tiers that borrow a trace from another region
    /// skip traces that are never up (SpotHedge us-east1-b): that measurement describes its own zone
    /// and would otherwise shut a whole unrelated zone out of the spot market.
    /// </summary>
    private static readonly Tier[] Tiers =
    [
        new("same region, same model", (t, k, region) => t.Cloud == k.Cloud && t.Region == region && t.Model == k.Model),
        new("same region, same class", (t, k, region) => t.Cloud == k.Cloud && t.Region == region && t.SameClass(k.Model)),
        new("same region", (t, k, region) => t.Cloud == k.Cloud && t.Region == region),
        new("same cloud, same class", (t, k, _) => t.Availability > 0 && t.Cloud == k.Cloud && t.SameClass(k.Model)),
        new("any cloud, same class", (t, k, _) => t.Availability > 0 && t.SameClass(k.Model)),
        new("any trace", (t, _, _) => t.Availability > 0),
    ];

    private static (int Tier, string PoolKey) ChooseTier((string Cloud, string Zone, string Model) key, string region, List<TraceFacts> traces)
    {
        for (var i = 0; i < Tiers.Length; i++)
        {
            if (traces.Any(t => Tiers[i].Matches(t, key, region)))
            {
                // The pool is the set of traces the tier admits; markets with the same pool share it.
                var pool = string.Join('\n', traces.Where(t => Tiers[i].Matches(t, key, region)).Select(t => t.Trace.Name));
                return (i, pool);
            }
        }

        return (-1, "");
    }

    /// <summary>Per-trace arrays shared by every market replaying the trace.</summary>
    private sealed class TraceTable
    {
        public TraceTable(SpotTrace trace)
        {
            Trace = trace;
            N = trace.Data.Length;
            GapTicks = trace.Gap.Ticks;
            Up = [.. trace.Data.Select(v => v > 0)];
            Down = [.. Enumerable.Range(0, N).Where(i => !Up[i])];
            Availability = (N - Down.Length) / (double)N;
            UpBefore = new int[N + 1];
            ReclaimsBefore = new int[N + 1];
            for (var i = 0; i < N; i++)
            {
                UpBefore[i + 1] = UpBefore[i] + (Up[i] ? 1 : 0);
                ReclaimsBefore[i + 1] = ReclaimsBefore[i] + (!Up[i] && Up[(i - 1 + N) % N] ? 1 : 0);
            }
            if (trace.Prices is { Length: > 0 } prices && prices.Length == N)
            {
                var mean = prices.Sum() / N;
                Factor = [.. prices.Select(p => p / mean)];
                var changes = Enumerable.Range(0, N).Where(i => Factor[i] != Factor[(i - 1 + N) % N]).ToArray();
                Changes = changes;
            }
            else
            {
                Changes = [];
            }
        }

        public SpotTrace Trace { get; }
        public int N { get; }
        public long GapTicks { get; }
        public bool[] Up { get; }
        public int[] Down { get; }
        public double Availability { get; }
        /// <summary>Up ticks among indices [0, i).</summary>
        public int[] UpBefore { get; }
        /// <summary>Up-to-down transitions at indices [0, i) (the previous tick taken cyclically).</summary>
        public int[] ReclaimsBefore { get; }
        public decimal[]? Factor { get; }

        /// <summary>Up ticks and reclaims over <paramref name="count"/> ticks from index <paramref name="start"/>, cyclically.</summary>
        public (long Up, long Reclaims) Count(int start, long count)
        {
            var (cycles, rest) = Math.DivRem(count, N);
            long up = cycles * UpBefore[N], reclaims = cycles * ReclaimsBefore[N];
            var stop = start + (int)rest;
            if (stop <= N)
            {
                return (up + UpBefore[stop] - UpBefore[start], reclaims + ReclaimsBefore[stop] - ReclaimsBefore[start]);
            }

            return (up + UpBefore[N] - UpBefore[start] + UpBefore[stop - N], reclaims + ReclaimsBefore[N] - ReclaimsBefore[start] + ReclaimsBefore[stop - N]);
        }
        public int[] Changes { get; }
    }

    private sealed class Lane((string Cloud, string Zone, string Model) key, TraceTable? table, int phase, string rule)
    {
        public (string Cloud, string Zone, string Model) Key { get; } = key;
        public TraceTable? Table { get; } = table;
        public int Phase { get; } = phase;
        public string Rule { get; } = rule;
        public double Availability => Table?.Availability ?? 1.0;

        public static Lane Always((string, string, string) key, string rule) => new(key, null, 0, rule);

        /// <summary>Trace index of absolute tick <paramref name="tick"/> (cyclic).</summary>
        public int Index(long tick)
        {
            var n = Table!.N;
            var i = (tick + Phase) % n;
            return (int)(i < 0 ? i + n : i);
        }
    }
}
