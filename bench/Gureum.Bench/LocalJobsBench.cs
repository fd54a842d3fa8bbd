using System.Diagnostics;
using Gureum.Backends.Local;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;

/// <summary>
/// Local backend overhead: wall time from <c>StartAsync</c> to the reported exit of a job running
/// <c>true</c>, one job at a time, per isolation mode. Usage: <c>local-jobs [N]</c>.
/// </summary>
internal static class LocalJobsBench
{
    public static async Task RunAsync(int n)
    {
        var modes = new List<(string Name, LocalIsolation Isolation, bool Cgroups)> { ("process", LocalIsolation.None, false), ("process+cgroup", LocalIsolation.None, true) };
        if (File.Exists("/usr/bin/bwrap")) modes.Add(("bwrap+cgroup", LocalIsolation.Bubblewrap, true));
        foreach (var (name, isolation, cgroups) in modes)
        {
            var root = Directory.CreateTempSubdirectory("gureum-bench-").FullName;
            var observer = new Observer();
            await using var ex = new LocalExecutor(new LocalExecutorOptions { Root = root, Isolation = isolation, UseCgroups = cgroups, PollInterval = TimeSpan.FromMilliseconds(20) }, new InMemoryRunHandleStore(), TimeProvider.System);
            ex.Attach(observer);
            var times = new List<double>();
            for (var i = 0; i < n; i++)
            {
                var job = new JobView
                {
                    Seq = i, Status = JobStatus.Running, Attempts = 1, QueuedSince = DateTimeOffset.UnixEpoch,
                    Spec = new JobSpec { Id = $"b{i}", User = "u", Lab = "l", SubmitTime = DateTimeOffset.UnixEpoch, Resources = new ResourceRequest(0, 0, 1, 0.5), Command = "true" },
                };
                var sw = Stopwatch.StartNew();
                await ex.StartAsync(job, [], default);
                await ex.WhenEndedAsync(job.Id, default);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"{name,-16} {n} jobs: start→exit median {times[n / 2]:F0} ms, p95 {times[(int)(n * 0.95)]:F0} ms, max {times[^1]:F0} ms (cgroups: {ex.CgroupVersion})");
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed class Observer : IClusterObserver
    {
        public ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct) => ValueTask.CompletedTask;
    }
}
