using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Core.Planning;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Core.Tests.Control;

public sealed class ControlLoopWaitReasonTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Offer A100x8 = new()
    {
        Cloud = "aws", Region = "us-east-1", Zone = "us-east-1a", InstanceType = "p4d", GpuModel = "A100", GpuCount = 8,
        VCpus = 96, MemoryGiB = 1152, OnDemandPerHour = 32m, SpotPerHour = 12m,
    };

    private static JobSpec Job(string id, int gpus = 4) => new()
    {
        Id = id, User = "ana", Lab = "nlp", SubmitTime = T0, Resources = ResourceRequest.FromTrace(gpus, 0, 4, 16), Duration = TimeSpan.FromHours(1),
    };

    /// <summary>A decision core whose next plan the test writes (the loop, not a policy, is under test).</summary>
    private sealed class ScriptedCore : IDecisionCore
    {
        public Dictionary<string, string> Reasons { get; } = new(StringComparer.Ordinal);
        public List<PlanAction> Actions { get; } = [];
        public string Name => "scripted";

        public Plan Decide(ClusterSnapshot snapshot)
        {
            var plan = new Plan(Actions.ToList()) { WaitReasons = new Dictionary<string, string>(Reasons, StringComparer.Ordinal) };
            Actions.Clear();
            return plan;
        }
    }

    private sealed class NoBackend : INodeProvisioner, IExecutor
    {
        public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StopAsync(JobView job, CancellationToken ct) => ValueTask.CompletedTask;
    }

    /// <summary>The real in-memory store, counting the wait reasons it is asked to write.</summary>
    private sealed class CountingStore(InMemoryClusterStore inner) : IClusterStore
    {
        public int ReasonWrites { get; set; }
        public int Batches { get; set; }
        public IReadOnlyList<Offer> Offers => inner.Offers;
        public ValueTask<ClusterSnapshot> SnapshotAsync(DateTimeOffset now, CancellationToken ct) => inner.SnapshotAsync(now, ct);
        public ValueTask<JobView> AddJobAsync(JobSpec spec, DateTimeOffset now, CancellationToken ct) => inner.AddJobAsync(spec, now, ct);
        public ValueTask<JobView?> GetJobAsync(string jobId, CancellationToken ct) => inner.GetJobAsync(jobId, ct);
        public ValueTask<Node?> GetNodeAsync(string nodeId, CancellationToken ct) => inner.GetNodeAsync(nodeId, ct);
        public ValueTask<IReadOnlyList<JobView>> JobsOnNodeAsync(string nodeId, CancellationToken ct) => inner.JobsOnNodeAsync(nodeId, ct);
        public ValueTask<JobView> StartJobAsync(string jobId, IReadOnlyList<Placement> placements, DateTimeOffset now, CancellationToken ct) => inner.StartJobAsync(jobId, placements, now, ct);
        public ValueTask<JobView> EndRunAsync(string jobId, RunOutcome outcome, TimeSpan workSaved, DateTimeOffset now, CancellationToken ct) => inner.EndRunAsync(jobId, outcome, workSaved, now, ct);
        public ValueTask<JobView?> CancelJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct) => inner.CancelJobAsync(jobId, reason, now, ct);
        public ValueTask<JobView?> SetHoldAsync(string jobId, string? hold, CancellationToken ct) => inner.SetHoldAsync(jobId, hold, ct);
        public ValueTask RejectJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct) => inner.RejectJobAsync(jobId, reason, now, ct);
        public ValueTask AddNodeAsync(Node node, CancellationToken ct) => inner.AddNodeAsync(node, ct);
        public ValueTask<Node> SetNodeStateAsync(string nodeId, NodeState state, DateTimeOffset now, CancellationToken ct) => inner.SetNodeStateAsync(nodeId, state, now, ct);
        public string NewNodeId() => inner.NewNodeId();
        public ValueTask RecordSpotTroubleAsync(string zone, string? gpuModel, DateTimeOffset at, CancellationToken ct) => inner.RecordSpotTroubleAsync(zone, gpuModel, at, ct);
        public ValueTask AppendEventAsync(ClusterEvent e, CancellationToken ct) => inner.AppendEventAsync(e, ct);

        public ValueTask SetWaitReasonsAsync(IReadOnlyList<KeyValuePair<string, string>> reasons, DateTimeOffset now, CancellationToken ct)
        {
            ReasonWrites += reasons.Count;
            Batches++;
            return inner.SetWaitReasonsAsync(reasons, now, ct);
        }
    }

    private static (ControlLoop Loop, ScriptedCore Core, CountingStore Store, InMemoryClusterStore Memory) Build(ControlLoopOptions? options = null)
    {
        var memory = new InMemoryClusterStore([A100x8]);
        var store = new CountingStore(memory);
        var core = new ScriptedCore();
        var backend = new NoBackend();
        return (new ControlLoop(store, core, backend, backend, new FakeTimeProvider(T0), options), core, store, memory);
    }

    [Fact]
    public async Task RunOnceAsync_PlanExplainsWaits_StoresReasonOnEachPendingJob()
    {
        var (loop, core, _, memory) = Build();
        foreach (var id in new[] { "a", "b" }) await loop.SubmitAsync(Job(id), CancellationToken.None);
        core.Reasons["a"] = "waiting for 4×A100: node n000001 is booting";
        core.Reasons["b"] = "lab quota: 16/16 GPUs of lab nlp in use";

        await loop.RunOnceAsync(CancellationToken.None);

        Assert.Equal("waiting for 4×A100: node n000001 is booting", (await memory.GetJobAsync("a", CancellationToken.None))!.WaitReason);
        Assert.Equal("lab quota: 16/16 GPUs of lab nlp in use", (await memory.GetJobAsync("b", CancellationToken.None))!.WaitReason);
        var snapshot = await memory.SnapshotAsync(T0, CancellationToken.None);
        Assert.Equal(["waiting for 4×A100: node n000001 is booting", "lab quota: 16/16 GPUs of lab nlp in use"], snapshot.Pending.Select(j => j.WaitReason));
    }

    [Fact]
    public async Task RunOnceAsync_SameReasonsAgain_WritesOnlyTheOneThatChanged()
    {
        var (loop, core, store, memory) = Build();
        for (var i = 0; i < 50; i++)
        {
            await loop.SubmitAsync(Job($"j{i}"), CancellationToken.None);
            core.Reasons[$"j{i}"] = "waiting for 4×A100: every eligible ready node is full";
        }
        await loop.RunOnceAsync(CancellationToken.None);
        Assert.Equal(50, store.ReasonWrites);

        await loop.RunOnceAsync(CancellationToken.None);
        await loop.RunOnceAsync(CancellationToken.None);
        Assert.Equal(50, store.ReasonWrites); // nothing changed: no writes at all
        Assert.Equal(1, store.Batches);

        core.Reasons["j7"] = "blocked behind job j3";
        await loop.RunOnceAsync(CancellationToken.None);
        Assert.Equal(51, store.ReasonWrites);
        Assert.Equal("blocked behind job j3", (await memory.GetJobAsync("j7", CancellationToken.None))!.WaitReason);
    }

    [Fact]
    public async Task RunOnceAsync_MoreChangesThanTheLimit_WritesTheRestAtLaterDecisions()
    {
        var (loop, core, store, memory) = Build(new ControlLoopOptions { MaxWaitReasonWrites = 2 });
        for (var i = 0; i < 5; i++)
        {
            await loop.SubmitAsync(Job($"j{i}"), CancellationToken.None);
            core.Reasons[$"j{i}"] = $"reason {i}";
        }
        var written = new List<int>();
        for (var d = 0; d < 4; d++)
        {
            var before = store.ReasonWrites;
            await loop.RunOnceAsync(CancellationToken.None);
            written.Add(store.ReasonWrites - before);
        }
        Assert.Equal([2, 2, 1, 0], written);
        for (var i = 0; i < 5; i++) Assert.Equal($"reason {i}", (await memory.GetJobAsync($"j{i}", CancellationToken.None))!.WaitReason);
    }

    [Fact]
    public async Task RunOnceAsync_JobStarts_ClearsReasonAndStartEventSaysNodeOfferMarketZone()
    {
        var (loop, core, _, memory) = Build();
        await memory.AddNodeAsync(Node.Create("n000001", A100x8, Market.Spot, NodeState.Ready, T0), CancellationToken.None);
        await loop.SubmitAsync(Job("a"), CancellationToken.None);
        core.Reasons["a"] = "waiting for 4×A100: node n000001 is booting";
        await loop.RunOnceAsync(CancellationToken.None);

        core.Reasons.Clear();
        core.Actions.Add(new StartJob("a", [new Placement("n000001", [0, 1, 2, 3], 1000, 4, 16)], "fits"));
        await loop.RunOnceAsync(CancellationToken.None);

        var job = (await memory.GetJobAsync("a", CancellationToken.None))!;
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.Null(job.WaitReason);
        var started = Assert.Single(memory.Events, e => e.Kind == EventKind.JobStarted);
        Assert.Equal("fits; on n000001 (aws/us-east-1a/p4d, Spot, zone us-east-1a, 4×A100 of 8)", started.Message);
    }

    [Fact]
    public async Task SetWaitReasonsAsync_JobNotPending_IsSkipped()
    {
        var (loop, _, _, memory) = Build();
        await loop.SubmitAsync(Job("a"), CancellationToken.None);
        await loop.CancelAsync("a", "test", CancellationToken.None);
        await memory.SetWaitReasonsAsync([new("a", "late reason"), new("unknown", "x")], T0, CancellationToken.None);
        Assert.Null((await memory.GetJobAsync("a", CancellationToken.None))!.WaitReason);
    }
}
