using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Server.Hosting;
using Gureum.Server.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Server.Tests.Hosting;

/// <summary>The server's one duration model: learned from the store's finished jobs, shared by dry runs and the loop's <c>gureum</c> policy.</summary>
public sealed class DurationModelTests : IAsyncLifetime
{
    private static readonly Offer Offer = new()
    {
        Cloud = "aws", Region = "us-east-1", Zone = "us-east-1a", InstanceType = "p3.2xlarge", GpuModel = "V100", GpuCount = 1,
        VCpus = 8, MemoryGiB = 61, OnDemandPerHour = 3.06m,
    };

    private readonly ApiClient.TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private IControlPlaneStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = await ControlPlaneStore.OpenAsync("sqlite:" + Path.Combine(_dir.Path, "gureum.db"), null, default);
        Assert.True(await _store.AddLabAsync(new Lab("nlp"), default));
        Assert.Equal(AddUserResult.Added, await _store.AddUserAsync(new User("ann", "nlp", Role.Researcher), default));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Predictor_AskedByTheLoopsPolicy_LearnsFromTheStoresFinishedJobs()
    {
        // 240 jobs run one after another through a real control loop on the SQLite store: "eval-…"
        // jobs take 2 min, "train-…" jobs 2 h, in random order.
        var cluster = await _store.OpenClusterStoreAsync([Offer], null, _time.GetUtcNow(), default);
        await cluster.AddNodeAsync(Node.Create("n1", Offer, Market.OnDemand, NodeState.Ready, _time.GetUtcNow(), isFixed: true), default);
        var backend = new NoopBackend();
        var loop = new ControlLoop(cluster, PolicyCatalog.Create("static"), backend, backend, _time);
        var rng = new Random(5);
        for (var i = 0; i < 240; i++)
        {
            var quick = rng.Next(2) == 0;
            var spec = Spec($"{(quick ? "eval" : "train")}-{i}");
            Assert.True((await _store.SubmitAsync(spec, "", _time.GetUtcNow(), default)).Accepted);
            await cluster.SyncAsync(_time.GetUtcNow(), default);
            await loop.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromSeconds(quick ? 120 : 7200));
            await loop.OnJobExitedAsync(spec.Id, succeeded: true, default);
            await loop.RunOnceAsync(default);
        }

        var model = new DurationModel(_store, _time);
        Assert.StartsWith("spec fallback", model.Describe());
        // The server builds the loop's gureum policy on the shared predictor: asked, not fed.
        var gureum = Assert.IsType<GureumPolicy>(PolicyCatalog.Create("gureum", sharedDurations: model.Predictor).Autoscaler);
        Assert.Same(model.Predictor, gureum.Models.Duration);
        Assert.False(gureum.Models.LearnsDurations);

        // A question from the loop (no dry run) starts a background read of the store.
        _time.Advance(TimeSpan.FromMinutes(1));
        var first = model.Predictor.PredictSeconds(Spec("eval-1000"), _time.GetUtcNow());
        Assert.Equal(3600, first.Estimate); // nothing learned yet: the no-history fallback
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (model.Observed < 240 && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Null(model.LastRefreshError);
        Assert.Equal(240, model.Observed);
        Assert.StartsWith("duration-lgbm", model.Describe());

        var quickP = model.Predictor.PredictSeconds(Spec("eval-1001"), _time.GetUtcNow());
        var slowP = model.Predictor.PredictSeconds(Spec("train-1002"), _time.GetUtcNow());
        Assert.True(model.Trainings >= 1); // runs are applied when a question comes at or after their end
        Assert.True(quickP.Estimate < 600 && slowP.Estimate > 1800, $"eval {quickP.Estimate:0} s (truth 120), train {slowP.Estimate:0} s (truth 7,200)");
    }

    private JobSpec Spec(string id) => new()
    {
        Id = id, Name = id, User = "ann", Lab = "nlp", Project = "qa", SubmitTime = _time.GetUtcNow(),
        Resources = new ResourceRequest(1, 0, 4, 16), Command = "python run.py", ReferenceGpu = "V100",
    };

    private sealed class NoopBackend : INodeProvisioner, IExecutor
    {
        public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StopAsync(JobView job, CancellationToken ct) => ValueTask.CompletedTask;
    }
}
