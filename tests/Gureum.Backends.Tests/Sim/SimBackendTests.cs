using Gureum.Autoscaling;
using Gureum.Backends.Sim;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Simulation.Replay;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Backends.Tests.Sim;

/// <summary>The simulated cloud on a fake clock: boot delays, run times, billing, spot, recovery.</summary>
public sealed class SimBackendTests
{
    private readonly FakeTimeProvider _time = new(J.T0);
    private readonly RecordingObserver _observer = new();

    private SimBackend Backend(SimBackendOptions? options = null, IRunHandleStore? handles = null)
    {
        var b = new SimBackend(_time, options, handles);
        b.Attach(_observer);
        return b;
    }

    [Fact]
    public async Task RequestAsync_OnDemand_ReadyExactlyAfterBootDelay()
    {
        using var sim = Backend();
        await sim.RequestAsync(J.Node("n1", J.Offer(bootS: 120), state: NodeState.Requested), default);

        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.Empty(_observer.Calls);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["ready n1"], _observer.Calls);
    }

    [Fact]
    public async Task StartAsync_DeclaredDuration_EndsAfterDurationScaledToTheGpu()
    {
        using var sim = Backend();
        var a100 = J.Node("n1", J.Offer("A100"));
        // 660 s on the V100 reference; an A100 is 2.2× faster: 300 s.
        await sim.StartAsync(J.Running("j1", null, gpus: 1, duration: TimeSpan.FromSeconds(660)), [a100], default);

        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Empty(_observer.Calls);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["exited j1 ok"], _observer.Calls);
    }

    [Fact]
    public async Task StartAsync_DurationLongerThanTimeLimit_FailsAtTheLimit()
    {
        using var sim = Backend();
        await sim.StartAsync(J.Running("slow", null, duration: TimeSpan.FromHours(2), timeLimit: TimeSpan.FromMinutes(30)), [J.Node("n1", J.Offer(null, 0))], default);

        _time.Advance(TimeSpan.FromMinutes(29));
        Assert.Empty(_observer.Calls);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["exited slow failed"], _observer.Calls);
    }

    [Fact]
    public async Task StartAsync_NoDurationNoLimit_RunsUntilStopped()
    {
        using var sim = Backend();
        var job = J.Running("forever", "python serve.py");
        await sim.StartAsync(job, [J.Node("n1", J.Offer())], default);
        Assert.Equal(0, sim.PendingEvents);

        _time.Advance(TimeSpan.FromDays(30));
        Assert.Empty(_observer.Calls);
    }

    [Fact]
    public async Task StopAsync_PendingEnd_IsNeverReported()
    {
        using var sim = Backend();
        var job = J.Running("stopped", null, duration: TimeSpan.FromMinutes(10));
        await sim.StartAsync(job, [J.Node("n1", J.Offer())], default);
        _time.Advance(TimeSpan.FromMinutes(5));
        await sim.StopAsync(job, default);

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(_observer.Calls);
    }

    [Fact]
    public async Task Billing_PerSecondWithMinimum_MatchesReplayRules()
    {
        using var sim = Backend();
        var node = J.Node("n1", J.Offer(onDemand: 3.6m), state: NodeState.Requested); // $0.001 per second
        await sim.RequestAsync(node, default);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0.060m, sim.AccruedUsd); // 60 s minimum
        Assert.Equal(3.6m, sim.HourlyRate);

        _time.Advance(TimeSpan.FromSeconds(70));
        Assert.Equal(0.100m, sim.AccruedUsd);
        await sim.ReleaseAsync(node, default);
        _time.Advance(TimeSpan.FromHours(1));

        var bill = Assert.Single(sim.Bills);
        Assert.Equal(100, bill.BilledSeconds);
        Assert.Equal(0.100m, bill.BilledUsd);
        Assert.Equal(J.T0.AddSeconds(100), bill.End);
        Assert.Equal(0.100m, sim.AccruedUsd); // released: no longer accrues
        Assert.Equal(0m, sim.HourlyRate);
    }

    [Fact]
    public async Task Spot_Unavailable_ProvisionFails()
    {
        using var sim = Backend(new SimBackendOptions { Spot = new ScriptedSpot(available: false, reclaimAfter: null) });
        await sim.RequestAsync(J.Node("s1", J.Offer(spot: 1m), Market.Spot, NodeState.Requested), default);

        Assert.Equal("provision-failed s1", await _observer.WaitForAsync("provision-failed"));
        Assert.Empty(sim.Bills);
    }

    [Fact]
    public async Task Spot_Reclaim_ReportsNodeLostAndStopsBilling()
    {
        using var sim = Backend(new SimBackendOptions { Spot = new ScriptedSpot(available: true, reclaimAfter: TimeSpan.FromMinutes(10)) });
        await sim.RequestAsync(J.Node("s1", J.Offer(spot: 0.36m, bootS: 60), Market.Spot, NodeState.Requested), default);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["ready s1"], _observer.Calls);
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(["ready s1", "node-lost s1"], _observer.Calls);
        var bill = Assert.Single(sim.Bills);
        Assert.Equal(600, bill.BilledSeconds);
        Assert.Equal(0.06m, bill.BilledUsd);
    }

    [Fact]
    public async Task RecoverAsync_AfterRestart_RunEndsAtItsSavedTime()
    {
        var handles = new InMemoryRunHandleStore();
        using (var before = Backend(handles: handles))
            await before.StartAsync(J.Running("r1", null, duration: TimeSpan.FromMinutes(10)), [J.Node("n1", J.Offer(null, 0))], default);
        Assert.Single(await handles.ListAsync("sim", default));
        _time.Advance(TimeSpan.FromMinutes(4)); // down for 4 minutes: the old timers are gone

        using var after = Backend(handles: handles);
        await after.RecoverAsync(_observer, default);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(_observer.Calls);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["exited r1 ok"], _observer.Calls);
        Assert.Empty(await handles.ListAsync("sim", default));
    }

    /// <summary>The whole path on a fake clock: reactive policy buys a node, it boots, the job runs its duration, the node is billed.</summary>
    [Fact]
    public async Task ControlLoop_WithSimBackend_ProvisionsRunsAndBills()
    {
        var offer = J.Offer("V100", gpus: 1, onDemand: 3.6m, bootS: 120);
        var store = new InMemoryClusterStore([offer]);
        using var sim = new SimBackend(_time);
        var loop = new ControlLoop(store, PolicyCatalog.Create("reactive"), sim, sim, _time);
        sim.Attach(loop);
        await loop.SubmitAsync(new JobSpec
        {
            Id = "train", User = "ada", Lab = "nlp", SubmitTime = _time.GetUtcNow(),
            Resources = new ResourceRequest(1, 0, 1, 4), Duration = TimeSpan.FromMinutes(10), Command = "python train.py",
        }, default);

        await loop.RunOnceAsync(default); // buys a node
        var node = Assert.Single(sim.Bills);
        _time.Advance(TimeSpan.FromSeconds(120)); // boots: the loop hears OnNodeReady
        Assert.Equal(NodeState.Ready, (await store.GetNodeAsync(node.NodeId, default))!.State);
        await loop.RunOnceAsync(default); // places the job
        Assert.Equal(JobStatus.Running, (await store.GetJobAsync("train", default))!.Status);
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(JobStatus.Completed, (await store.GetJobAsync("train", default))!.Status);
        Assert.Equal((120 + 600) * 0.001m, sim.AccruedUsd); // billed from request, $3.6/h
    }

    /// <summary>A spot market whose answers the test sets (the trace-driven one needs real traces).</summary>
    private sealed class ScriptedSpot(bool available, TimeSpan? reclaimAfter) : ISpotMarket
    {
        public bool IsAvailable(Offer offer, DateTimeOffset t) => available;
        public DateTimeOffset? NextReclaim(Offer offer, DateTimeOffset after) => reclaimAfter is { } r ? after + r : null;
        public decimal SpotPrice(Offer offer, DateTimeOffset t) => offer.SpotPerHour!.Value;
        public IReadOnlyList<(DateTimeOffset At, decimal Price)> PriceChanges(Offer offer, DateTimeOffset from, DateTimeOffset to) => [];
        public Gureum.Core.Planning.SpotHistory? History(Offer offer, DateTimeOffset before, TimeSpan window) => null; // publishes no records
        public string Describe() => "scripted";
    }
}
