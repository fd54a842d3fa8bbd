using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gureum.Server;

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
        static string Spec(int c, int i) => $"name: b{c}-{i}\nresources: {{cpus: 100000}}\nrun: 'true'\n";

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
}
