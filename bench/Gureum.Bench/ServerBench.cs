using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gureum.Autoscaling;
using Gureum.Backends.Sim;
using Gureum.Contracts.Specs;
using Gureum.Core.Control;
using Gureum.Persistence;
using Gureum.Server;
using Gureum.Server.Hosting;
using Gureum.Simulation.Cloud;

/// <summary>
/// <c>serve-http</c>: durable submissions per second and submit latency over loopback HTTP with 16
/// concurrent clients, against an in-process <c>gureum serve</c> (SQLite in a temp dir, or the
/// PostgreSQL given by <c>--db</c>), control loop running. A submission counts when the server
/// answered 201, i.e. after the store committed it.
/// </summary>
internal static class ServerBench
{
    public static async Task HttpAsync(string[] args)
    {
        string? db = null;
        var clients = 16;
        var seconds = 10.0;
        var backend = "sim";
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--db": db = args[++i]; break;
                case "--clients": clients = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--backend": backend = args[++i]; break;
                default: throw new ArgumentException($"unknown option {args[i]}; usage: serve-http [--db sqlite:PATH|postgres://…] [--clients 16] [--seconds 10] [--backend sim|local]");
            }
        }
        var dir = Directory.CreateTempSubdirectory("gureum-bench-").FullName;
        var port = FreePort();
        var options = new ServerOptions { Urls = $"http://127.0.0.1:{port}", DataDir = dir, Db = db, Backend = backend };
        await using var server = await GureumServer.StartAsync(options, TextWriter.Null, CancellationToken.None);
        var token = server.AdminToken ?? throw new InvalidOperationException("the benchmark needs a fresh database (no admin yet)");
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");

        // Jobs that ask for more CPUs than any node has: accepted and stored, then rejected by the
        // loop, so the benchmark measures the API and the store, with the loop running beside.
        static string Spec(int c, int i) => $"name: b{c}-{i}\nresources: {{cpus: 4096}}\nrun: 'true'\n";

        async Task<List<double>> Client(int c, DateTime until, bool record)
        {
            using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) }) { BaseAddress = baseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var lat = new List<double>(4096);
            for (var i = 0; DateTime.UtcNow < until; i++)
            {
                var t = Stopwatch.GetTimestamp();
                using var r = await http.PostAsync("api/v1/jobs", new StringContent(Spec(c, i), Encoding.UTF8, "application/yaml"));
                if (r.StatusCode != HttpStatusCode.Created)
                    throw new InvalidOperationException($"submit answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
                if (record) lat.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            return lat;
        }

        // Warm-up (JIT, connection pools, SQLite page cache), then the measured run.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Client(c, DateTime.UtcNow.AddSeconds(2), false)));
        var sw = Stopwatch.StartNew();
        var until = DateTime.UtcNow.AddSeconds(seconds);
        var all = (await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Client(1000 + c, until, true)))).SelectMany(l => l).ToList();
        var elapsed = sw.Elapsed.TotalSeconds;
        all.Sort();
        double P(double q) => all[Math.Min(all.Count - 1, (int)Math.Ceiling(q * all.Count) - 1)];
        var kind = db is null ? "sqlite" : db.StartsWith("sqlite", StringComparison.Ordinal) ? "sqlite" : "postgres";
        Console.WriteLine($"serve-http {kind}, {clients} clients, {elapsed:F1} s: {all.Count} durable submissions, {all.Count / elapsed:F0}/s; " +
                          $"latency p50 {P(0.50):F2} ms, p99 {P(0.99):F2} ms, max {all[^1]:F2} ms (targets: >= 1000/s, p99 < 50 ms)");
        try { Directory.Delete(dir, true); } catch (IOException) { }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// <c>serve-loop</c>: the live control loop's decision latency with N queued jobs: one tick =
    /// sync with the database, snapshot, decide, apply (write-through), on the durable cluster store
    /// over SQLite (temp) or <c>--db</c>, the reactive policy and the live sim backend (nodes boot
    /// in 2 minutes of wall time, so the queue stays full while measuring).
    /// </summary>
    public static async Task LoopAsync(string[] args)
    {
        string? db = null;
        var queued = 10_000;
        var ticks = 30;
        var warmup = 1;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--db": db = args[++i]; break;
                case "--queued": queued = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--ticks": ticks = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}; usage: serve-loop [--db …] [--queued 10000] [--ticks 30] [--warmup 1]");
            }
        }
        // A server runs for days: its ticks run code the JIT has long optimized. Warm-up runs (the
        // same work on a temp SQLite database, not reported) take a fresh process there first.
        for (var w = 0; w < warmup; w++)
        {
            Console.WriteLine($"warm-up run {w + 1} of {warmup} (temp SQLite, not measured)");
            await LoopRunAsync(null, queued, ticks, report: false);
        }
        await LoopRunAsync(db, queued, ticks, report: true);
    }

    private static async Task LoopRunAsync(string? db, int queued, int ticks, bool report)
    {
        var dir = Directory.CreateTempSubdirectory("gureum-bench-").FullName;
        db ??= $"sqlite:{Path.Combine(dir, "gureum.db")}";
        var time = TimeProvider.System;
        await using var store = await ControlPlaneStore.OpenAsync(db, new ControlPlaneStoreOptions(), CancellationToken.None);
        await store.AddLabAsync(new Lab("bench"), CancellationToken.None);
        await store.AddUserAsync(new User("bencher", "bench", Role.Researcher), CancellationToken.None);
        var sw = Stopwatch.StartNew();
        var models = new[] { "A100:1", "V100:2", "H100:8", "0.5", "A100:4" };
        await Parallel.ForAsync(0, queued, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var yaml = $"name: q{i}\nresources: {{gpus: \"{models[i % models.Length]}\", cpus: 4, memory: 16Gi}}\nrun: train\nduration: 1h\npriority: {i % 3}\n";
            var draft = JobSpecYaml.Parse(yaml, "bench").Draft ?? throw new InvalidOperationException("bench spec does not parse");
            var now = time.GetUtcNow();
            var r = await store.SubmitAsync(draft.ToJobSpec(JobIds.New(now), "bencher", "bench", now), yaml, now, ct);
            if (!r.Accepted) throw new InvalidOperationException(r.Reason);
        });
        if (report) Console.WriteLine($"queued {queued} jobs in {sw.Elapsed.TotalSeconds:F1} s");

        var offers = CatalogLoader.LoadDefault();
        var signal = new LoopSignal();
        var observer = new QueuedObserver(signal);
        using var sim = new SimBackend(time, new SimBackendOptions(), store);
        sim.Attach(observer);
        sw.Restart();
        var cluster = await store.OpenClusterStoreAsync(offers, new DurableClusterStoreOptions(), time.GetUtcNow(), CancellationToken.None);
        var core = PolicyCatalog.Create("reactive");
        var loop = new ControlLoop(cluster, core, sim, sim, time);
        var pure = new List<double>();
        var pureCpu = new List<double>();
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var first = await cluster.SyncAsync(time.GetUtcNow(), CancellationToken.None);
        if (report) Console.WriteLine($"open + first sync: {sw.Elapsed.TotalMilliseconds:F0} ms ({first.NewJobs.Count} new jobs)");
        var lat = new List<double>();
        var pending = 0;
        for (var t = 0; t < ticks + 1; t++)
        {
            var start = Stopwatch.GetTimestamp();
            var now = time.GetUtcNow();
            var sync = await cluster.SyncAsync(now, CancellationToken.None);
            var syncMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await observer.DrainAsync(loop, CancellationToken.None);
            foreach (var c in sync.CancelRequests) await loop.CancelAsync(c.JobId, c.Reason, CancellationToken.None);
            // The decision alone (snapshot + pure decide), timed apart from the full tick (which also
            // writes every action through to the database).
            self.Refresh();
            var cpu0 = self.TotalProcessorTime;
            var d0 = Stopwatch.GetTimestamp();
            GC.KeepAlive(core.Decide(await cluster.SnapshotAsync(now, CancellationToken.None)));
            var pureMs = Stopwatch.GetElapsedTime(d0).TotalMilliseconds;
            self.Refresh();
            if (t > 0) { pure.Add(pureMs); pureCpu.Add((self.TotalProcessorTime - cpu0).TotalMilliseconds); }
            var r0 = Stopwatch.GetTimestamp();
            var (g0, g1, g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var plan = await loop.RunOnceAsync(CancellationToken.None);
            if (report && Environment.GetEnvironmentVariable("GUREUM_BENCH_VERBOSE") == "1")
                Console.WriteLine($"tick {t}: sync {syncMs:F1} ms, run-once {Stopwatch.GetElapsedTime(r0).TotalMilliseconds:F1} ms, decide alone {pureMs:F1} ms, {plan.Actions.Count} actions, {plan.WaitReasons.Count} reasons, " +
                                  $"GCs during run-once gen0/1/2 {GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}");
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds - pureMs; // the extra measuring decide is not part of a tick
            pending = (await cluster.SnapshotAsync(now, CancellationToken.None)).Pending.Count;
            if (t == 0) { if (report) Console.WriteLine($"first decision: {ms:F1} ms, {plan.Actions.Count} actions"); }
            else lat.Add(ms);
        }
        await loop.FlushAsync();
        if (!report)
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
            return;
        }
        lat.Sort();
        pure.Sort();
        pureCpu.Sort();
        Console.WriteLine($"serve-loop {store.Provider}, {pending} queued: snapshot + decide median {pure[pure.Count / 2]:F1} ms, max {pure[^1]:F1} ms " +
                          $"(process CPU during it: median {pureCpu[pureCpu.Count / 2]:F1} ms) (target < 50 ms)");
        Console.WriteLine($"serve-loop {store.Provider}, {pending} queued: decision (sync + snapshot + decide + apply) median {lat[lat.Count / 2]:F1} ms, " +
                          $"p99 {lat[Math.Min(lat.Count - 1, (int)Math.Ceiling(0.99 * lat.Count) - 1)]:F1} ms, max {lat[^1]:F1} ms over {lat.Count} ticks (target < 50 ms)");
        try { Directory.Delete(dir, true); } catch (IOException) { }
    }
}
