using Gureum.Autoscaling;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Simulation.Operator;
using Gureum.Simulation.Tests.Replay;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Simulation.Tests.Operator;

/// <summary>
/// The dry run's speed-ups (one node per shape among the nodes a decision changed, GPU arrays
/// copied without Array.Clone) must not change its answers: on a small busy cluster, the estimate
/// is exactly what the scheduler and dry run before them (commit 58071c8) answered.
/// </summary>
public sealed class DryRunRegressionTests
{
    private static readonly Core.Cloud.Offer A100x4 = B.Offer("a100.4", "A100", 4, 4.80m, 1.60m, zone: "z-a", vcpus: 32, mem: 256);

    /// <summary>12 fixed 4-GPU nodes, 12 running jobs, 60 queued of mixed sizes and lengths; the
    /// predictor has seen 30 finished jobs.</summary>
    private static async Task<Core.Planning.ClusterSnapshot> BusyClusterAsync()
    {
        var store = new InMemoryClusterStore([A100x4]);
        var time = new FakeTimeProvider(B.T0);
        var backend = new SilentBackend();
        var loop = new ControlLoop(store, PolicyCatalog.Create("static"), backend, backend, time);
        for (var i = 0; i < 12; i++) await store.AddNodeAsync(B.FleetNode($"f{i:D2}", A100x4), default);
        for (var i = 0; i < 12; i++) await loop.SubmitAsync(B.Job($"r{i}", 0, 600 * (i + 1), gpus: 1 + i % 4, lab: $"lab{i % 3}"), default);
        await loop.RunOnceAsync(default);
        time.Advance(TimeSpan.FromMinutes(5));
        for (var i = 0; i < 60; i++)
            await loop.SubmitAsync(B.Job($"q{i}", 300, 900 + 300 * (i % 7), gpus: new[] { 1, 1, 2, 4, 3 }[i % 5], lab: $"lab{i % 3}", priority: i % 11 == 0 ? 1 : 0), default);
        await loop.RunOnceAsync(default);
        return await store.SnapshotAsync(time.GetUtcNow(), default);
    }

    private static Autoscaling.Operator.HistoryDurationPredictor Predictor()
    {
        var p = new Autoscaling.Operator.HistoryDurationPredictor();
        for (var i = 1; i <= 30; i++) p.Observe(B.Job($"h{i}", 0, 0, lab: $"lab{i % 3}"), TimeSpan.FromSeconds(300 * i), B.T0);
        return p;
    }

    /// <summary>What they answered for this cluster before the speed-ups (every figure printed round-trip).</summary>
    private static readonly Dictionary<string, string> Before = new()
    {
        ["static"] = "static: start 1909.0909091 [545.4545455, 3545.4545455], duration 1772.7272728 [136.3636364, 3409.0909091], cost 1.1818181818666667 [0.09090909093333333, 2.272727272733333], test/z-a/a100.4 OnDemand A100; fits; on f08 (test/z-a/a100.4, OnDemand, zone z-a, 2×A100 of 4)",
        // Re-pinned when the gureum policy moved to the learned duration model (its untrained prior is
        // shorter than the history median's 1 h, so it now buys spot for q23): computed with the
        // scheduler files of before the speed-ups (SchedulingContext.cs, CapacityIndex.cs) restored.
        ["gureum"] = "gureum: start 120 [120, 120], duration 1772.7272728 [136.3636364, 3409.0909091], cost 0.3939393939555556 [0.030303030311111107, 0.7575757575777778], test/z-a/a100.4 Spot A100; fits; on n000010 (test/z-a/a100.4, Spot, zone z-a, 2×A100 of 4); node bought: test/z-a/a100.4 Spot: bought for q23: test/z-a/a100.4 Spot (A100 2.2× ref): ~$0.175 over 0.08 h, sharing with 0 job(s), survival 99 %; on-demand best test/z-a/a100.4 ~$0.524",
    };

    private static string R(Prediction.Interval i) =>
        FormattableString.Invariant($"{i.Estimate:R} [{i.Low:R}, {i.High:R}]");

    [Theory]
    [InlineData("static")]
    [InlineData("gureum")]
    public async Task EstimateAsync_BusyCluster_AnswersAsBeforeTheSpeedUp(string policy)
    {
        var snapshot = await BusyClusterAsync();
        var e = await DryRun.EstimateAsync(snapshot, B.Job("probe", 300, 0, gpus: 2, lab: "lab1") with { Duration = null },
            () => PolicyCatalog.Create(policy), Predictor(), horizon: TimeSpan.FromDays(7));
        var got = $"{policy}: start {R(e.StartInSeconds)}, duration {R(e.DurationSeconds)}, cost {R(e.CostUsd)}, {e.Offer} {e.Market} {e.GpuModel}; {e.Explanation}";
        Assert.Equal(Before[policy], got);
    }
}
