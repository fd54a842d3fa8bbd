using System.Diagnostics;
using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Persistence.Sql;
using Gureum.Persistence.Testing;

/// <summary>
/// Durable submissions per second and submit latency with N concurrent submitters, in process
/// (no HTTP): <c>store sqlite|postgres [SUBMITTERS] [SECONDS]</c>. SQLite writes a temp file with
/// synchronous=FULL; PostgreSQL is a temporary server with fsync=on (the store's real settings).
/// </summary>
internal static class StoreBench
{
    public static async Task RunAsync(string[] args)
    {
        var provider = args.Length > 1 ? args[1] : "sqlite";
        var submitters = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 16;
        var seconds = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 10;
        TempPostgresServer? pg = null;
        string? dir = null;
        string cs;
        switch (provider)
        {
            case "sqlite":
                dir = Path.Combine(Path.GetTempPath(), "gureum-bench-" + Guid.NewGuid().ToString("N")[..8]);
                cs = "sqlite:" + Path.Combine(dir, "bench.db");
                break;
            case "postgres":
                pg = await TempPostgresServer.StartAsync(fsync: true, default);
                cs = await pg.CreateDatabaseAsync(default);
                break;
            default:
                Console.Error.WriteLine("usage: Gureum.Bench store sqlite|postgres [SUBMITTERS] [SECONDS]");
                return;
        }
        try
        {
            await using var store = await ControlPlaneStore.OpenAsync(cs, null, default);
            await store.AddLabAsync(new Lab("nlp", MaxQueuedJobs: 10_000_000), default);
            var text = "name: bench\nresources:\n  gpus: A100:1\nrun: python train.py\n";

            // Warm-up: JIT, connection, pages.
            await Measure(store, submitters, TimeSpan.FromSeconds(1), text, "w");
            var me = Process.GetCurrentProcess();
            var cpu0 = me.TotalProcessorTime;
            var pg0 = pg?.ServerCpuTime() ?? TimeSpan.Zero;
            var (count, latencies, elapsed) = await Measure(store, submitters, TimeSpan.FromSeconds(seconds), text, "m");
            me.Refresh();
            var serverCpu = (pg?.ServerCpuTime() ?? TimeSpan.Zero) - pg0;
            var cpu = me.TotalProcessorTime - cpu0 + serverCpu;
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
            var writer = ((SqlControlPlaneStore)store).Writer;
            Console.WriteLine($"store {provider}: {submitters} submitters, {elapsed.TotalSeconds:F1} s: {count} durable submissions, {count / elapsed.TotalSeconds:F0}/s; " +
                              $"latency p50 {P(0.50):F2} ms, p99 {P(0.99):F2} ms, max {latencies[^1]:F2} ms; " +
                              $"{writer.Writes / (double)Math.Max(1, writer.Batches):F1} writes per commit (target >= 1,000/s)");
            // On a busy machine the rate above is bounded by the CPU share the bench gets; CPU per
            // submission (this process + the PostgreSQL server) says what the design costs.
            Console.WriteLine($"cpu: {cpu.TotalMilliseconds * 1000 / count:F0} us per submission ({(pg is null ? "this process" : "this process + postgres server")}), " +
                              $"i.e. {count / cpu.TotalSeconds:F0} submissions per CPU-second{(pg is null ? "" : $"; server share {serverCpu / cpu:P0}")}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"check: {(await store.CountQueuedByLabAsync(default))["nlp"]} jobs queued in the database");
        }
        finally
        {
            if (pg is not null) await pg.DisposeAsync();
            if (dir is not null) Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(long Count, List<double> LatenciesMs, TimeSpan Elapsed)> Measure(IControlPlaneStore store, int submitters, TimeSpan duration, string text, string prefix)
    {
        var sw = Stopwatch.StartNew();
        var all = await Task.WhenAll(Enumerable.Range(0, submitters).Select(w => Task.Run(async () =>
        {
            var lat = new List<double>();
            for (var i = 0; sw.Elapsed < duration; i++)
            {
                var spec = new JobSpec
                {
                    Id = $"{prefix}{w}-{i}", User = "ann", Lab = "nlp", Project = "bench", SubmitTime = DateTimeOffset.UtcNow,
                    Resources = new ResourceRequest(1, 0, 8, 64), GpuModels = ["A100"], Command = "python train.py",
                };
                var t = Stopwatch.GetTimestamp();
                var r = await store.SubmitAsync(spec, text, DateTimeOffset.UtcNow, default);
                lat.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (!r.Accepted) throw new InvalidOperationException(r.Reason);
            }
            return lat;
        })));
        var elapsed = sw.Elapsed;
        var latencies = all.SelectMany(l => l).ToList();
        return (latencies.Count, latencies, elapsed);
    }
}
