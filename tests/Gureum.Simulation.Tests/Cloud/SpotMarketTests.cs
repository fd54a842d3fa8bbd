using CsCheck;
using Gureum.Core.Cloud;
using Gureum.Simulation.Cloud;

namespace Gureum.Simulation.Tests.Cloud;

public sealed class SpotMarketTests
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Gap = TimeSpan.FromMinutes(10);

    private static Offer AwsOffer(string zone, string? gpu = "V100", decimal spot = 1.0m, string region = "us-east-1", string type = "p3.2xlarge") => new()
    {
        Cloud = "aws",
        Region = region,
        Zone = zone,
        InstanceType = type,
        GpuModel = gpu,
        GpuCount = gpu is null ? 0 : 1,
        VCpus = 8,
        MemoryGiB = 61,
        OnDemandPerHour = 3.06m,
        SpotPerHour = spot,
    };

    private static SpotTrace Trace(string zone, string key, int[] data, decimal[]? prices = null) =>
        new($"test/{zone}_{key}", zone, key, Gap, data, Math.Max(1, data.Max()), prices);

    /// <summary>Finds a seed whose phase for the single market is 0, so tick i of the trace is at epoch + i × gap.</summary>
    private static SpotMarket ZeroPhase(IReadOnlyList<Offer> offers, IReadOnlyList<SpotTrace> traces)
    {
        for (var seed = 0; seed < 100_000; seed++)
        {
            var market = SpotMarket.Build(offers, traces, Epoch, seed);
            if (market.Assignments.All(a => a.Phase == 0))
            {
                return market;
            }
        }

        throw new InvalidOperationException("no zero-phase seed");
    }

    [Fact]
    public void IsAvailable_FollowsTraceTicks_AndWraps()
    {
        var offer = AwsOffer("use1-az1");
        var market = ZeroPhase([offer], [Trace("us-east-1a", "v100_1", [1, 1, 0, 1])]);

        Assert.True(market.IsAvailable(offer, Epoch));
        Assert.True(market.IsAvailable(offer, Epoch + Gap * 2 - TimeSpan.FromTicks(1)));
        Assert.False(market.IsAvailable(offer, Epoch + Gap * 2));
        Assert.True(market.IsAvailable(offer, Epoch + Gap * 3));
        Assert.False(market.IsAvailable(offer, Epoch + Gap * 6)); // cycle 2, tick 2
        Assert.False(market.IsAvailable(offer, Epoch - Gap * 2)); // before the epoch wraps backwards
        Assert.Equal(0.75, market.AvailabilityFraction(offer));
    }

    [Fact]
    public void NextReclaim_ReturnsStartOfNextDownTick_StrictlyAfter()
    {
        var offer = AwsOffer("use1-az1");
        var market = ZeroPhase([offer], [Trace("us-east-1a", "v100_1", [1, 1, 0, 1, 0, 0])]);

        Assert.Equal(Epoch + Gap * 2, market.NextReclaim(offer, Epoch));
        Assert.Equal(Epoch + Gap * 2, market.NextReclaim(offer, Epoch + Gap + TimeSpan.FromSeconds(1)));
        Assert.Equal(Epoch + Gap * 4, market.NextReclaim(offer, Epoch + Gap * 2)); // strictly after
        Assert.Equal(Epoch + Gap * 4, market.NextReclaim(offer, Epoch + Gap * 3));
        Assert.Equal(Epoch + Gap * 5, market.NextReclaim(offer, Epoch + Gap * 4));
        Assert.Equal(Epoch + Gap * 8, market.NextReclaim(offer, Epoch + Gap * 5)); // wraps into cycle 2
    }

    [Fact]
    public void NextReclaim_NeverDown_IsNull()
    {
        var offer = AwsOffer("use1-az1");
        var market = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", [1, 1, 1])], Epoch, seed: 7);

        Assert.Null(market.NextReclaim(offer, Epoch + TimeSpan.FromDays(3)));
        Assert.True(market.IsAvailable(offer, Epoch + TimeSpan.FromDays(3)));
    }

    [Fact]
    public void CountTrace_UpWhileAtLeastOne()
    {
        var offer = AwsOffer("use1-az1");
        var market = ZeroPhase([offer], [Trace("us-east-1a", "v100_1", [4, 3, 0, 1])]);

        Assert.True(market.IsAvailable(offer, Epoch + Gap));
        Assert.False(market.IsAvailable(offer, Epoch + Gap * 2));
        Assert.Equal(Epoch + Gap * 2, market.NextReclaim(offer, Epoch)); // 4 -> 3 is not a reclaim
    }

    [Fact]
    public void SpotPrice_ScaledByTracePriceOverMean()
    {
        var offer = AwsOffer("use1-az1", gpu: null, spot: 0.5m, type: "r5a.16xlarge");
        var market = ZeroPhase([offer], [Trace("us-east-1b", "intel_64", [1, 1, 1, 1], [1.0m, 1.0m, 2.0m, 0.0m + 4.0m])]);
        // mean = 2.0 → factors 0.5, 0.5, 1, 2

        Assert.Equal(0.25m, market.SpotPrice(offer, Epoch));
        Assert.Equal(0.5m, market.SpotPrice(offer, Epoch + Gap * 2));
        Assert.Equal(1.0m, market.SpotPrice(offer, Epoch + Gap * 3 + TimeSpan.FromMinutes(5)));

        var changes = market.PriceChanges(offer, Epoch + TimeSpan.FromMinutes(5), Epoch + Gap * 6);
        Assert.Equal(
            [
                (Epoch + TimeSpan.FromMinutes(5), 0.25m),
                (Epoch + Gap * 2, 0.5m),
                (Epoch + Gap * 3, 1.0m),
                (Epoch + Gap * 4, 0.25m),
            ],
            changes);
        Assert.Empty(market.PriceChanges(offer, Epoch, Epoch));
    }

    [Fact]
    public void SpotPrice_TraceWithoutPrices_IsCatalogPrice()
    {
        var offer = AwsOffer("use1-az1", spot: 0.9187m);
        var market = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", [1, 0])], Epoch, seed: 1);

        Assert.Equal(0.9187m, market.SpotPrice(offer, Epoch + TimeSpan.FromHours(5)));
        Assert.Equal([(Epoch, 0.9187m)], market.PriceChanges(offer, Epoch, Epoch + TimeSpan.FromDays(2)));
    }

    [Fact]
    public void Build_SameSeed_SameResult_DifferentSeed_DifferentPhase()
    {
        var offers = new[] { AwsOffer("use1-az1"), AwsOffer("use1-az2") };
        var data = Enumerable.Range(0, 1000).Select(i => (i * 7919 % 13) < 5 ? 0 : 1).ToArray();
        var traces = new[] { Trace("us-east-1a", "v100_1", data), Trace("us-east-1c", "v100_1", data) };

        var a = SpotMarket.Build(offers, traces, Epoch, seed: 42);
        var b = SpotMarket.Build(offers, traces, Epoch, seed: 42);
        var c = SpotMarket.Build(offers, traces, Epoch, seed: 43);

        Assert.Equal(a.Assignments, b.Assignments);
        Assert.Equal(a.Describe(), b.Describe());
        Assert.NotEqual(a.Assignments.Select(x => x.Phase), c.Assignments.Select(x => x.Phase));
        for (var k = 0; k < 200; k++)
        {
            var t = Epoch + TimeSpan.FromMinutes(37 * k);
            Assert.Equal(a.IsAvailable(offers[0], t), b.IsAvailable(offers[0], t));
            Assert.Equal(a.NextReclaim(offers[1], t), b.NextReclaim(offers[1], t));
        }
    }

    [Fact]
    public void Build_AwsZonesPairedWithAliasesInSortedOrder_RoundRobin()
    {
        var offers = new[] { AwsOffer("use1-az4"), AwsOffer("use1-az1"), AwsOffer("use1-az2") };
        var traces = new[] { Trace("us-east-1c", "v100_1", [1, 0]), Trace("us-east-1a", "v100_1", [1, 1]) };

        var market = SpotMarket.Build(offers, traces, Epoch, seed: 3);

        var byZone = market.Assignments.ToDictionary(a => a.Zone, a => a.TraceName);
        Assert.Equal("test/us-east-1a_v100_1", byZone["use1-az1"]);
        Assert.Equal("test/us-east-1c_v100_1", byZone["use1-az2"]);
        Assert.Equal("test/us-east-1a_v100_1", byZone["use1-az4"]); // third zone wraps to the first alias
        Assert.All(market.Assignments, a => Assert.Equal("same region, same model", a.Rule));
    }

    [Fact]
    public void Build_GcpZoneNamedByTrace_UsesThatTrace_OthersRoundRobin()
    {
        static Offer Gcp(string zone) => AwsOffer(zone, gpu: "A100", region: "us-central1", type: "a2-highgpu-1g") with { Cloud = "gcp" };
        var offers = new[] { Gcp("us-central1-a"), Gcp("us-central1-b"), Gcp("us-central1-c"), Gcp("us-central1-f") };
        var traces = new[] { Trace("us-central1-b", "a100_40gb_8", [1, 0]), Trace("us-central1-f", "a100_40gb_8", [1, 1]) };

        var byZone = SpotMarket.Build(offers, traces, Epoch, seed: 9).Assignments.ToDictionary(a => a.Zone, a => a.TraceName);

        Assert.Equal("test/us-central1-b_a100_40gb_8", byZone["us-central1-b"]);
        Assert.Equal("test/us-central1-f_a100_40gb_8", byZone["us-central1-f"]);
        Assert.Equal("test/us-central1-b_a100_40gb_8", byZone["us-central1-a"]); // unmatched zones: a → first alias
        Assert.Equal("test/us-central1-f_a100_40gb_8", byZone["us-central1-c"]); // c → second alias
    }

    [Fact]
    public void Build_BorrowedTier_SkipsNeverUpTraces()
    {
        var offer = AwsOffer("euc1-az1", region: "eu-central-1");
        var traces = new[] { Trace("us-east-1a", "v100_1", [0, 0]), Trace("us-west-2a", "v100_1", [1, 0]) };

        var market = SpotMarket.Build([offer], traces, Epoch, seed: 2);

        Assert.Equal("test/us-west-2a_v100_1", Assert.Single(market.Assignments).TraceName);
    }

    [Fact]
    public void Build_MappingTiers_PreferModelThenRegionThenAny()
    {
        var v100 = AwsOffer("use1-az1");
        var t4 = AwsOffer("use1-az1", gpu: "T4", type: "g4dn.xlarge");
        var cpu = AwsOffer("use1-az1", gpu: null, type: "m7i.xlarge");
        var far = AwsOffer("euc1-az1", gpu: "H100", region: "eu-central-1", type: "p5.48xlarge");
        var traces = new[]
        {
            Trace("us-east-1a", "v100_1", [1, 0]),
            Trace("us-east-1b", "intel_64", [1, 1, 0]),
            Trace("us-west-2a", "k80_1", [0, 1, 1, 1]),
        };

        var market = SpotMarket.Build([v100, t4, cpu, far], traces, Epoch, seed: 5);
        var rule = market.Assignments.ToDictionary(a => (a.Zone, a.Model), a => (a.TraceName, a.Rule));

        Assert.Equal(("test/us-east-1a_v100_1", "same region, same model"), rule[("use1-az1", "V100")]);
        Assert.Equal(("test/us-east-1b_intel_64", "same region, same model"), rule[("use1-az1", "CPU")]);
        Assert.Equal(("test/us-east-1a_v100_1", "same region, same class"), rule[("use1-az1", "T4")]);
        Assert.Equal("same cloud, same class", rule[("euc1-az1", "H100")].Rule);
        Assert.Contains("use1-az1 T4", market.Describe());
    }

    [Fact]
    public void OfferWithoutSpot_NeverAvailable()
    {
        var offer = AwsOffer("use1-az1") with { SpotPerHour = null };
        var market = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", [1])], Epoch, seed: 1);

        Assert.False(market.IsAvailable(offer, Epoch));
        Assert.Null(market.NextReclaim(offer, Epoch));
        Assert.Equal(0, market.AvailabilityFraction(offer));
        Assert.Throws<ArgumentException>(() => market.SpotPrice(offer, Epoch));
    }

    [Fact]
    public void EqualButDistinctOfferInstance_FoundByKey_UnknownZoneThrows()
    {
        var offer = AwsOffer("use1-az1");
        var market = ZeroPhase([offer], [Trace("us-east-1a", "v100_1", [1, 0])]);

        Assert.False(market.IsAvailable(offer with { InstanceType = "p3.16xlarge" }, Epoch + Gap));
        var e = Assert.Throws<ArgumentException>(() => market.IsAvailable(AwsOffer("use1-az9"), Epoch));
        Assert.Contains("To fix", e.Message);
    }

    [Fact]
    public void AlwaysAvailable_NeverReclaims_CatalogPrice()
    {
        var offer = AwsOffer("use1-az1", spot: 0.52m);
        var market = SpotMarket.AlwaysAvailable([offer]);

        Assert.True(market.IsAvailable(offer, Epoch));
        Assert.True(market.IsAvailable(AwsOffer("somewhere-else"), Epoch));
        Assert.Null(market.NextReclaim(offer, Epoch));
        Assert.Equal(0.52m, market.SpotPrice(offer, Epoch));
        Assert.Equal(1.0, market.AvailabilityFraction(offer));
    }

    [Fact]
    public void NextReclaim_Property_IsFirstDownTickAfterAndWithinOneCycle()
    {
        var gen =
            from data in Gen.Int[0, 2].Array[1, 50]
            from seed in Gen.Int
            from offsetMinutes in Gen.Int[-100_000, 100_000]
            select (data, seed, offsetMinutes);

        gen.Sample(x =>
        {
            var offer = AwsOffer("use1-az1");
            var market = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", x.data)], Epoch, x.seed);
            var after = Epoch + TimeSpan.FromMinutes(x.offsetMinutes) + TimeSpan.FromSeconds(17);
            var reclaim = market.NextReclaim(offer, after);
            if (x.data.All(v => v > 0))
            {
                return reclaim is null;
            }

            if (reclaim is not { } r || r <= after || r > after + Gap * x.data.Length || market.IsAvailable(offer, r))
            {
                return false;
            }

            // Every tick start strictly between after and r is up.
            for (var t = r - Gap; t > after; t -= Gap)
            {
                if (!market.IsAvailable(offer, t))
                {
                    return false;
                }
            }

            return true;
        }, iter: 2000);
    }

    [Fact]
    public void History_CountsHoursUpAndReclaimsOfTheWholeTicksBeforeTheTimeAsked()
    {
        var offer = AwsOffer("use1-az1");
        var market = ZeroPhase([offer], [Trace("us-east-1a", "v100_1", [1, 1, 0, 1, 0, 0, 1, 1])]);

        // At tick 7 (+5 min) the five ticks before are 2..6 = down, up, down, down, up: one up→down at tick 4,
        // and tick 2's drop counts too (tick 1 was up).
        var h = market.History(offer, Epoch + 7 * Gap + TimeSpan.FromMinutes(5), 5 * Gap)!.Value;
        Assert.Equal(2 * Gap.TotalHours, h.UpHours, 9);
        Assert.Equal(2, h.Reclaims);
        Assert.Equal(5 * Gap, h.Window);

        // Two whole cycles plus one tick, ending at tick 1: wraps backwards through the trace.
        var w = market.History(offer, Epoch + Gap, 17 * Gap)!.Value;
        Assert.Equal(11 * Gap.TotalHours, w.UpHours, 9);
        Assert.Equal(4, w.Reclaims);
    }

    [Fact]
    public void History_AlwaysUpTrace_HasNoReclaims_OfferWithoutSpot_HasNone()
    {
        var spot = AwsOffer("use1-az1");
        var onDemandOnly = AwsOffer("use1-az1", type: "p3.8xlarge") with { SpotPerHour = null };
        var market = SpotMarket.Build([spot, onDemandOnly], [Trace("us-east-1a", "v100_1", [1, 2, 1])], Epoch, 3);

        var h = market.History(spot, Epoch + TimeSpan.FromDays(2), TimeSpan.FromDays(30))!.Value;
        Assert.Equal(0, h.Reclaims);
        Assert.Equal(30 * 24, h.UpHours, 6);
        Assert.Null(market.History(onDemandOnly, Epoch, TimeSpan.FromDays(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => market.History(spot, Epoch, TimeSpan.Zero));
    }

    [Fact]
    public void History_Property_ReadsNothingAtOrAfterTheTimeAsked_AndMatchesTickByTick()
    {
        var gen =
            from data in Gen.Int[0, 1].Array[1, 40]
            from seed in Gen.Int
            from atTick in Gen.Int[-500, 500]
            from windowTicks in Gen.Int[1, 120]
            select (data, seed, atTick, windowTicks);

        gen.Sample(x =>
        {
            var offer = AwsOffer("use1-az1");
            var before = Epoch + x.atTick * Gap + TimeSpan.FromSeconds(31);
            var market = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", x.data)], Epoch, x.seed);
            var h = market.History(offer, before, x.windowTicks * Gap)!.Value;

            // Tick by tick over the window, with the replay's own availability answers.
            var start = Epoch + (x.atTick - x.windowTicks) * Gap;
            double up = 0;
            var reclaims = 0;
            for (var t = start; t < Epoch + x.atTick * Gap; t += Gap)
            {
                var isUp = market.IsAvailable(offer, t);
                if (isUp) up += Gap.TotalHours;
                else if (market.IsAvailable(offer, t - Gap)) reclaims++;
            }
            if (Math.Abs(h.UpHours - up) > 1e-9 || h.Reclaims != reclaims) return false;

            // The same market with the tick at `before` and every later one changed, up to the tick just
            // before the window (which tells whether the window's first tick is a reclaim), answers the
            // same: nothing at or after the time asked is read.
            var n = x.data.Length;
            var phase = market.Assignments[0].Phase;
            var current = (int)(((x.atTick + phase) % n + n) % n);
            if (x.windowTicks >= n - 1) return true; // the window and the tick before it cover the whole cycle
            var changed = (int[])x.data.Clone();
            for (var k = 0; k < n - x.windowTicks - 1; k++) changed[(current + k) % n] ^= 1;
            var other = SpotMarket.Build([offer], [Trace("us-east-1a", "v100_1", changed)], Epoch, x.seed);
            var g = other.History(offer, before, x.windowTicks * Gap)!.Value;
            return Math.Abs(g.UpHours - h.UpHours) < 1e-9 && g.Reclaims == h.Reclaims;
        }, iter: 2000);
    }
}
