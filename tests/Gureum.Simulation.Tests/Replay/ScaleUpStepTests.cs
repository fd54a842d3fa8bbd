using Gureum.Autoscaling;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>
/// A burst larger than one decision's purchase limit is bought in steps a scan interval apart
/// (Cluster Autoscaler's --max-nodes-per-scaleup and --scan-interval), not one step per boot.
/// </summary>
public sealed class ScaleUpStepTests
{
    [Theory]
    [InlineData("reactive")]
    [InlineData("spot-fallback")]
    public async Task RunOnceAsync_BurstOverThePurchaseLimit_BuysTheRestAtTheNextScan(string policy)
    {
        var a100 = B.Offer("a100.1", "A100", 1, 1.20m, 0.40m, zone: "z-b", bootS: 600);
        var store = new InMemoryClusterStore([a100]);
        var time = new FakeTimeProvider(B.T0);
        var backend = new SilentBackend();
        var options = new ElasticOptions { MaxProvisionPerDecision = 2, RescanWhenLimited = TimeSpan.FromSeconds(10) };
        var loop = new ControlLoop(store, PolicyCatalog.Create(policy, options: options), backend, backend, time);
        for (var i = 0; i < 5; i++) await loop.SubmitAsync(B.Job($"j{i}", 0, 3600), default);

        var plan = await loop.RunOnceAsync(default);
        Assert.Equal(2, store.AliveNodes.Count);
        Assert.Equal(B.T0.AddSeconds(10), plan.WakeAt); // not the boot, 600 s away

        time.Advance(TimeSpan.FromSeconds(10));
        plan = await loop.RunOnceAsync(default);
        Assert.Equal(4, store.AliveNodes.Count);
        Assert.Equal(B.T0.AddSeconds(20), plan.WakeAt);

        time.Advance(TimeSpan.FromSeconds(10));
        plan = await loop.RunOnceAsync(default);
        Assert.Equal(5, store.AliveNodes.Count);
        Assert.True(plan.WakeAt is null || plan.WakeAt >= B.T0.AddSeconds(600), $"all bought: no early wake, got {plan.WakeAt}");
    }
}
