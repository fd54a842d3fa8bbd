using Gureum.Core.Control;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>
/// Why a node was bought, through the real policies and control loop in a replay: every node the
/// autoscaler buys is recorded as a <see cref="EventKind.NodeRequested"/> event of each job it was
/// bought for (what <c>gureum why</c> reads), naming the node, and with the market and zone reason;
/// a job that merely packs onto a node already booting is not counted as a buyer.
/// </summary>
public sealed class NodeBoughtForTests
{
    // Spot is cheapest in z-b; z-a is dearer on both markets.
    private static readonly Core.Cloud.Offer A100x4A = B.Offer("a100.4", "A100", 4, 4.80m, 2.00m, zone: "z-a");
    private static readonly Core.Cloud.Offer A100x4B = B.Offer("a100.4", "A100", 4, 4.60m, 1.50m, zone: "z-b");

    private static List<ClusterEvent> Requests(ReplayOutcome o, string job) =>
        o.Events.Where(e => e.Kind == EventKind.NodeRequested && e.JobId == job).ToList();

    [Fact]
    public async Task Replay_SpotFallback_NodeRequestNamesEveryJobItWasBoughtForWithMarketAndZoneReason()
    {
        // j1–j3 arrive together: one 4-GPU node is bought for j1 and j2, j3 are packed onto it in the
        // same decision. j4 arrives while it boots and packs onto it too, but it was not bought for j4.
        var jobs = new[] { B.Job("j1", 0, 600), B.Job("j2", 0, 600), B.Job("j3", 0, 600), B.Job("j4", 30, 600) };
        var o = await B.Run("spot-fallback", jobs, [A100x4A, A100x4B], options: new ReplayOptions { KeepEvents = true });

        var bill = Assert.Single(o.Bills);
        Assert.Equal(A100x4B.Id, bill.Offer.Id);
        foreach (var id in new[] { "j1", "j2", "j3" })
        {
            var e = Assert.Single(Requests(o, id));
            Assert.Equal(bill.NodeId, e.NodeId);
            Assert.Equal(B.T0, e.At);
            Assert.StartsWith($"{A100x4B.Id} Spot: bought for j1: the cheapest spot offer it fits in a zone with no failed request or reclaim of A100 spot in the last 1 h (z-b, $1.5/h; on demand $4.6/h)", e.Message);
            Assert.EndsWith("; shared by 3 jobs: j1, j2, j3", e.Message);
            // It waited for that node and started on it.
            Assert.Equal(bill.NodeId, Assert.Single(o.Events, s => s.Kind == EventKind.JobStarted && s.JobId == id).NodeId);
            Assert.Equal(B.T0.AddSeconds(120), o.Jobs.Single(j => j.Id == id).FirstStartedAt);
        }
        Assert.Empty(Requests(o, "j4"));
        Assert.Equal(bill.NodeId, Assert.Single(o.Events, s => s.Kind == EventKind.JobStarted && s.JobId == "j4").NodeId);
    }

    [Fact]
    public async Task Replay_ReactiveGang_EachNodeOfTheGangIsBoughtForIt()
    {
        var jobs = new[] { B.Job("gang", 0, 600, gpus: 4, nodes: 2) };
        var o = await B.Run("reactive", jobs, [A100x4A, A100x4B], options: new ReplayOptions { KeepEvents = true });

        var requests = Requests(o, "gang");
        Assert.Equal(2, requests.Count);
        Assert.Equal(o.Bills.Select(b => b.NodeId).Order(), requests.Select(e => e.NodeId!).Order());
        Assert.All(requests, e => Assert.Equal($"{A100x4B.Id} OnDemand: bought for gang: the cheapest on-demand offer it fits in any zone it may use (z-b, $4.6/h)", e.Message));
        Assert.DoesNotContain(o.Events, e => e.Kind == EventKind.NodeRequested && e.JobId is null);
    }

    [Fact]
    public async Task Replay_Gureum_NodeRequestOfTheJobCarriesTheExpectedCostComparison()
    {
        var o = await B.Run("gureum", [B.Job("j1", 0, 600)], [A100x4A, A100x4B], options: new ReplayOptions { KeepEvents = true });
        var e = Assert.Single(Requests(o, "j1"));
        Assert.Equal(Assert.Single(o.Bills).NodeId, e.NodeId);
        Assert.Contains("bought for j1: ", e.Message);
        Assert.Contains("~$", e.Message); // the expected cost it compared
        Assert.Contains("/z-", e.Message); // the offer, with its zone
    }
}
