using System.Collections.Immutable;
using System.Diagnostics;
using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Core.Planning;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Operator;

/// <summary>
/// <c>why [PENDING]</c>: what explanations cost. (1) The control loop on the in-memory store with
/// PENDING queued jobs on a full 2,000-node fleet: the first decisions write the wait reasons
/// (at most 1,000 per decision), later ones write none. (2) A dry run on the same cluster
/// (<see cref="DryRun.EstimateAsync"/>: three replays, each stopped when the new job ends).
/// </summary>
internal static class WhyBench
{
    private sealed class NoBackend : INodeProvisioner, IExecutor
    {
        public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StopAsync(JobView job, CancellationToken ct) => ValueTask.CompletedTask;
    }

    public static async Task RunAsync(int pending)
    {
        var offers = CatalogLoader.LoadDefault();
        var p4d = offers.Where(o => o.InstanceType == "p4d.24xlarge").OrderBy(o => o.OnDemandPerHour).First();
        var t0 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var store = new InMemoryClusterStore(offers, new InMemoryStoreOptions { KeepEvents = false });
        var time = new Gureum.Simulation.Replay.SimulationTimeProvider(t0);
        var backend = new NoBackend();
        var loop = new ControlLoop(store, PolicyCatalog.Create("static"), backend, backend, time);
        for (var i = 0; i < 2000; i++) await store.AddNodeAsync(Node.Create($"f{i:D5}", p4d, Market.OnDemand, NodeState.Ready, t0, true), default);
        // Fill the fleet with 2,000 running 8-GPU jobs, then queue the rest.
        for (var i = 0; i < 2000; i++) await loop.SubmitAsync(Job($"r{i}", 8, t0, i), default);
        await loop.RunOnceAsync(default);
        var rnd = new Random(pending);
        for (var i = 0; i < pending; i++) await loop.SubmitAsync(Job($"j{i}", new[] { 1, 1, 2, 4, 8 }[rnd.Next(5)], t0, i), default);

        for (var tick = 1; tick <= 14; tick++)
        {
            time.AdvanceTo(time.GetUtcNow().AddSeconds(1));
            var sw = Stopwatch.StartNew();
            var plan = await loop.RunOnceAsync(default);
            var ms = sw.Elapsed.TotalMilliseconds;
            var stored = store.AllJobs.Count(j => j.Status == JobStatus.Pending && j.WaitReason is not null);
            Console.WriteLine($"static, {pending} queued on a full fleet: decision {tick,2} (snapshot+decide+apply+reasons) {ms,8:F1} ms; reasons stored so far {stored}; distinct reasons this plan {plan.WaitReasons.Values.Distinct().Count()}");
        }

        var snapshot = await store.SnapshotAsync(time.GetUtcNow(), default);
        var predictor = new HistoryDurationPredictor();
        foreach (var q in new[] { 0, 1000, pending })
        {
            var snap = snapshot with { Pending = snapshot.Pending.Take(q).ToList() };
            using var self = Process.GetCurrentProcess();
            var cpu0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var e = await DryRun.EstimateAsync(snap, Job("probe", 1, time.GetUtcNow(), 0) with { Duration = null }, () => PolicyCatalog.Create("static"), predictor, horizon: TimeSpan.FromDays(7));
            var wall = sw.Elapsed.TotalMilliseconds;
            self.Refresh();
            Console.WriteLine($"dry run, static, 2000 running + {q,6} queued: {wall,8:F0} ms ({(self.TotalProcessorTime - cpu0).TotalMilliseconds:F0} ms CPU, load average {LoadAverage()}); start in {e.StartInSeconds.Estimate:F0} s [{e.StartInSeconds.Low:F0}, {e.StartInSeconds.High:F0}]");
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static JobSpec Job(string id, int gpus, DateTimeOffset at, int i) => new()
    {
        Id = id, User = $"u{i % 50}", Lab = $"lab{i % 8}", SubmitTime = at, Resources = ResourceRequest.FromTrace(gpus, 0, 8, 32), Duration = TimeSpan.FromHours(1),
    };
}
