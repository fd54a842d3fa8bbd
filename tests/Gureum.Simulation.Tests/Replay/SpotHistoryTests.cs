using Gureum.Core.Cloud;
using Gureum.Core.Planning;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>The spot markets' published records (<see cref="SpotHistory"/>) as the decisions of a replay
/// see them: read off the market before the decision, refreshed hourly, none when the window is zero.</summary>
public sealed class SpotHistoryTests
{
    private static readonly Offer SpotA100 = B.Offer("a100.1", "A100", 1, 3.00m, spot: 0.60m, zone: "z-b");

    /// <summary>Passes every decision to the gureum policy and keeps what it was shown.</summary>
    private sealed class Recording(IDecisionCore inner) : IDecisionCore
    {
        public List<(DateTimeOffset Now, SpotSignals Spot)> Seen { get; } = [];
        public string Name => inner.Name;

        public Plan Decide(ClusterSnapshot snapshot)
        {
            Seen.Add((snapshot.Now, snapshot.Spot));
            return inner.Decide(snapshot);
        }
    }

    private static async Task<List<(DateTimeOffset Now, SpotSignals Spot)>> Decisions(ISpotMarket spot, TimeSpan window)
    {
        var core = new Recording(Autoscaling.PolicyCatalog.Create("gureum"));
        var jobs = Enumerable.Range(0, 12).Select(i => B.Job($"j{i}", i * 1500, 900)).ToList();
        await ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = core, Jobs = jobs, Offers = [SpotA100], Spot = spot, Options = new ReplayOptions { SpotHistoryWindow = window },
        });
        return core.Seen;
    }

    [Fact]
    public async Task Replay_EveryDecisionSeesTheMarketsRecordAsReadAtAnEarlierDecisionWithinTheHour()
    {
        // A 10-min trace, up 5 ticks, down 1, repeating with a twist so the record changes over the day.
        int[] data = [.. Enumerable.Range(0, 144).Select(i => i % 6 == 5 || i % 37 == 0 ? 0 : 1)];
        var market = SpotMarket.Build([SpotA100], [new SpotTrace("test/us-east-1a_a100_1", "us-east-1a", "a100_1", TimeSpan.FromMinutes(10), data, 1, null)], B.T0, seed: 7);
        var window = TimeSpan.FromHours(6);
        var key = SpotSignals.Key("z-b", "A100");

        var seen = await Decisions(market, window);

        Assert.True(seen.Count > 20, $"{seen.Count} decisions");
        var groups = seen.GroupBy(d => d.Spot.History, ReferenceEqualityComparer.Instance).ToList();
        Assert.True(groups.Count >= 4, $"the record was read {groups.Count} times over ~5 h");
        foreach (var g in groups)
        {
            var readAt = g.Min(d => d.Now);
            Assert.All(g, d => Assert.True(d.Now - readAt < TimeSpan.FromHours(1), $"decision at {d.Now:u} shown the record read at {readAt:u}"));
            var record = ((System.Collections.Immutable.ImmutableDictionary<string, SpotHistory>)g.Key!)[key];
            Assert.Equal(market.History(SpotA100, readAt, window), record);
        }
        Assert.Contains(seen, d => d.Spot.History[key].Reclaims > 0);
    }

    [Fact]
    public async Task Replay_CalmMarket_RecordsTheWholeWindowUpWithoutReclaims_ZeroWindow_PublishesNothing()
    {
        var calm = await Decisions(CalmSpotMarket.Instance, TimeSpan.FromDays(30));
        Assert.All(calm, d => Assert.Equal(new SpotHistory(720, 0, TimeSpan.FromDays(30)), d.Spot.History[SpotSignals.Key("z-b", "A100")]));

        var none = await Decisions(CalmSpotMarket.Instance, TimeSpan.Zero);
        Assert.All(none, d => Assert.Empty(d.Spot.History));
    }
}
