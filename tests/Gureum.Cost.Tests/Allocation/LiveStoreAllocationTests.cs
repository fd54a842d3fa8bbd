using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;
using Gureum.Persistence;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Cost.Tests.Allocation;

/// <summary>A live control loop writing to a real SQLite control-plane store, metered back from it.</summary>
public sealed class LiveStoreAllocationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gureum-cost-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero));

    private static readonly Offer Offer = new()
    {
        Cloud = "aws", Region = "us-east-1", Zone = "us-east-1a", InstanceType = "p3.8xlarge", GpuModel = "V100", GpuCount = 4,
        VCpus = 32, MemoryGiB = 244, OnDemandPerHour = 12.24m, SpotPerHour = 3.6720m,
    };

    private sealed class Backend : INodeProvisioner, IExecutor
    {
        public List<string> Started { get; } = [];
        public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) { Started.Add(job.Id); return ValueTask.CompletedTask; }
        public ValueTask StopAsync(JobView job, CancellationToken ct) => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task LiveMeter_SqliteStoreAfterARun_AllocationReconcilesWithNodeBills()
    {
        Directory.CreateDirectory(_dir);
        var cs = "sqlite:" + Path.Combine(_dir, "gureum.db");
        await using var store = await ControlPlaneStore.OpenAsync(cs, new ControlPlaneStoreOptions { Time = _time }, default);
        Assert.True(await store.AddLabAsync(new Lab("nlp"), default));
        Assert.True(await store.AddLabAsync(new Lab("vision"), default));
        Assert.Equal(AddUserResult.Added, await store.AddUserAsync(new User("ann", "nlp", Role.Researcher), default));
        Assert.Equal(AddUserResult.Added, await store.AddUserAsync(new User("cho", "vision", Role.Researcher), default));
        var t0 = _time.GetUtcNow();
        JobSpec Spec(string id, string lab, string user, int gpus, int milli = 0) => new()
        {
            Id = id, Name = id, User = user, Lab = lab, Project = "p", SubmitTime = _time.GetUtcNow(),
            Resources = ResourceRequest.FromTrace(gpus, milli, 4, 16), Command = "python train.py",
        };
        foreach (var s in new[] { Spec("a", "nlp", "ann", 2), Spec("b", "vision", "cho", 1, 500), Spec("c", "nlp", "ann", 4) })
            Assert.True((await store.SubmitAsync(s, "name: " + s.Name + "\n", _time.GetUtcNow(), default)).Accepted);
        var ds = await store.OpenClusterStoreAsync([Offer], null, _time.GetUtcNow(), default);
        var backend = new Backend();
        var loop = new ControlLoop(ds, PolicyCatalog.Create("static"), backend, backend, _time);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, t0, isFixed: true), default);
        await ds.AddNodeAsync(Node.Create("f2", Offer, Market.OnDemand, NodeState.Ready, t0, isFixed: true), default);
        await loop.RunOnceAsync(default);
        Assert.Equal(3, backend.Started.Count);
        _time.Advance(TimeSpan.FromMinutes(25));
        await loop.OnJobExitedAsync("a", succeeded: true, default);
        await loop.RunOnceAsync(default);
        _time.Advance(TimeSpan.FromMinutes(35));

        // Read back through a fresh store instance, as the cost report of another process would.
        await using var reader = await ControlPlaneStore.OpenAsync(cs, new ControlPlaneStoreOptions { Time = _time }, default);
        var (usage, bills) = await LiveMeter.LoadAsync(reader, t0, _time.GetUtcNow(), TimeSpan.FromMinutes(1), default);
        var lines = CostAllocator.Allocate("live", bills, usage);
        Assert.Equal(2, bills.Count);
        Assert.Equal(2 * 12.24m, bills.Sum(b => b.BilledUsd)); // two nodes for one hour
        Assert.Equal(bills.Sum(b => b.BilledUsd), lines.Sum(l => l.AmountUsd));
        // a: 2 of 4 GPUs for 25 min = 0.5 × 12.24 × 25/60 = 2.55; c: a whole node for the hour = 12.24 (or
        // the half-GPU job b: 0.5/4 of a node for an hour = 1.53), wherever the scheduler put them.
        Assert.Equal(2.55m, lines.Where(l => l.JobId == "a").Sum(l => l.AmountUsd));
        Assert.Equal(1.53m, lines.Where(l => l.JobId == "b").Sum(l => l.AmountUsd));
        Assert.Equal(12.24m, lines.Where(l => l.JobId == "c").Sum(l => l.AmountUsd));
        Assert.Equal(2 * 12.24m - 2.55m - 1.53m - 12.24m, lines.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
