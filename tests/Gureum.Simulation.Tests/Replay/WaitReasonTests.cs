using Gureum.Autoscaling;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>
/// The wait reasons the real policies give, through the real control loop and in-memory store:
/// they say what the job waits for and for whom, and stay the same while nothing changes.
/// </summary>
public sealed class WaitReasonTests
{
    private static readonly Core.Cloud.Offer A100 = B.Offer("a100.1", "A100", 1, 1.20m, 0.40m, zone: "z-b", bootS: 120);

    private static (ControlLoop Loop, InMemoryClusterStore Store, FakeTimeProvider Time) Build(string policy, InMemoryStoreOptions? options = null,
        Scheduling.Framework.ProfileConfig? profile = null)
    {
        var store = new InMemoryClusterStore([A100], options);
        var time = new FakeTimeProvider(B.T0);
        var backend = new SilentBackend();
        return (new ControlLoop(store, PolicyCatalog.Create(policy, profile), backend, backend, time), store, time);
    }

    private static async Task<string?> ReasonAsync(InMemoryClusterStore store, string id) => (await store.GetJobAsync(id, default))!.WaitReason;

    [Fact]
    public async Task RunOnceAsync_Reactive_SaysItBuysThenWhichNodeBootsAndWhen()
    {
        var (loop, store, time) = Build("reactive");
        await loop.SubmitAsync(B.Job("j1", 0, 600), default);
        await loop.RunOnceAsync(default);
        Assert.Equal("waiting for 1×GPU: buying test/z-b/a100.1 (OnDemand) for it, ready ~2024-01-01 00:02:00 UTC", await ReasonAsync(store, "j1"));

        time.Advance(TimeSpan.FromSeconds(30));
        await loop.SubmitAsync(B.Job("j2", 30, 600), default);
        await loop.RunOnceAsync(default);
        var node = store.AliveNodes[0];
        Assert.Equal($"waiting for 1×GPU: node {node.Id} (test/z-b/a100.1, OnDemand) is booting, ready ~2024-01-01 00:02:00 UTC", await ReasonAsync(store, "j1"));
        // j2 gets a node of its own, bought at 00:00:30.
        Assert.Equal("waiting for 1×GPU: buying test/z-b/a100.1 (OnDemand) for it, ready ~2024-01-01 00:02:30 UTC", await ReasonAsync(store, "j2"));
    }

    [Fact]
    public async Task Decide_NothingChanged_GivesTheSameReasonObjectAgain()
    {
        var (loop, store, time) = Build("reactive");
        await loop.SubmitAsync(B.Job("j1", 0, 600), default);
        await loop.RunOnceAsync(default); // buys a node for j1
        time.Advance(TimeSpan.FromSeconds(10));
        var core = PolicyCatalog.Create("reactive");
        var first = core.Decide(await store.SnapshotAsync(time.GetUtcNow(), default)).WaitReasons["j1"];
        time.Advance(TimeSpan.FromSeconds(10));
        var second = core.Decide(await store.SnapshotAsync(time.GetUtcNow(), default)).WaitReasons["j1"];

        var node = store.AliveNodes[0];
        Assert.Equal($"waiting for 1×GPU: node {node.Id} (test/z-b/a100.1, OnDemand) is booting, ready ~2024-01-01 00:02:00 UTC", second);
        Assert.Same(first, second); // kept from the last decision, not built again
        // Another core (its own memo) builds the same text.
        Assert.Equal(second, PolicyCatalog.Create("reactive").Decide(await store.SnapshotAsync(time.GetUtcNow(), default)).WaitReasons["j1"]);
    }

    [Fact]
    public async Task RunOnceAsync_LabAtQuota_SaysQuotaUseAndNeed()
    {
        var (loop, store, _) = Build("static", new InMemoryStoreOptions { LabGpuQuotas = new Dictionary<string, double> { ["lab-a"] = 1 } });
        var fleet = B.Offer("a100.4", "A100", 4, 4.80m);
        await store.AddNodeAsync(B.FleetNode("f1", fleet), default);
        await loop.SubmitAsync(B.Job("j1", 0, 600), default);
        await loop.SubmitAsync(B.Job("j2", 0, 600), default);
        await loop.RunOnceAsync(default);
        Assert.Null(await ReasonAsync(store, "j1")); // started
        Assert.Equal("lab quota: 1/1 GPUs of lab lab-a in use, it needs 1 more; it starts when the lab's running jobs free them", await ReasonAsync(store, "j2"));
    }

    [Fact]
    public async Task RunOnceAsync_Backfill_NamesTheJobAheadWithLabUserAndPriority()
    {
        var (loop, store, _) = Build("static", profile: Scheduling.Framework.Profiles.Backfill);
        var fleet = B.Offer("a100.4", "A100", 4, 4.80m);
        await store.AddNodeAsync(B.FleetNode("f1", fleet), default);
        await loop.SubmitAsync(B.Job("long", 0, 3600, gpus: 2, limitS: 3600), default);
        await loop.RunOnceAsync(default); // long runs on 2 of 4 GPUs until 01:00
        await loop.SubmitAsync(B.Job("big", 0, 600, gpus: 4, limitS: 600), default);
        await loop.SubmitAsync(B.Job("small", 0, 7200, gpus: 2, limitS: 7200), default);
        await loop.RunOnceAsync(default);
        Assert.StartsWith("waiting for 4×GPU: no ready node has that much free now", await ReasonAsync(store, "big"));
        Assert.StartsWith("blocked behind job big (lab lab-a, user u-lab-a, priority 0): it has the resources reserved from 2024-01-01 01:00:00Z", await ReasonAsync(store, "small"));
    }
}
