using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Durability: 16 clients submit as fast as they can, the server is killed with SIGKILL in the
/// middle of the burst, restarted on the same data directory, and every job whose submission was
/// answered 201 must be there, with the spec it was submitted with.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CrashTests
{
    [Theory]
    [InlineData("local")]
    [InlineData("sim")]
    public async Task Submit_Kill9MidBurst_EveryAcknowledgedJobSurvivesRestart(string backend)
    {
        using var dir = new ApiClient.TempDir();
        var acked = new ConcurrentDictionary<string, string>(); // id → name
        string token;
        var port = ServerProcess.FreePort();
        await using (var server = await ServerProcess.StartAsync(dir.Path, backend: backend, port: port))
        {
            token = (await server.AdminToken)!;
            Assert.NotNull(token);
            using var stop = new CancellationTokenSource();
            var failures = 0;
            var clients = Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
            {
                using var http = server.Client(token);
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var name = $"c{c}-{i}";
                    try
                    {
                        // A spec that can never fit this machine: it is accepted, then stays out of the way.
                        using var r = await ApiClient.SubmitAsync(http, $"name: {name}\nresources: {{cpus: 4096}}\nrun: 'true'\n", CancellationToken.None);
                        if (r.StatusCode != HttpStatusCode.Created) { Interlocked.Increment(ref failures); continue; }
                        var job = JsonSerializer.Deserialize<JobDto>(await r.Content.ReadAsStringAsync(), GureumJson.Options)!;
                        acked[job.Id] = name; // only now is it acknowledged to us
                    }
                    catch (HttpRequestException) { return; } // the server died under us
                    catch (TaskCanceledException) { return; }
                }
            })).ToArray();
            // Let the burst get going, then kill mid-burst.
            while (acked.Count < 300 && !server.HasExited) await Task.Delay(10);
            server.Kill9();
            stop.Cancel();
            await Task.WhenAll(clients);
            Assert.Equal(0, failures);
            Assert.True(acked.Count >= 300, $"only {acked.Count} acknowledged before the kill:\n{server.Output}");
        }

        await using var again = await ServerProcess.StartAsync(dir.Path, backend: backend, port: port);
        Assert.Null(await again.AdminToken); // not a first start: no new admin
        var http2 = again.Client(token);
        var missing = new List<string>();
        foreach (var (id, name) in acked)
        {
            using var r = await http2.GetAsync($"api/v1/jobs/{id}");
            if (r.StatusCode != HttpStatusCode.OK) { missing.Add($"{id} ({(int)r.StatusCode})"); continue; }
            var job = JsonSerializer.Deserialize<JobDto>(await r.Content.ReadAsStringAsync(), GureumJson.Options)!;
            Assert.Equal(name, job.Name);
        }
        Assert.True(missing.Count == 0, $"{missing.Count} of {acked.Count} acknowledged jobs are missing after restart: {string.Join(", ", missing.Take(20))}");
        // And the listing, paged, holds them all as well.
        var listed = new HashSet<string>();
        string? cursor = null;
        do
        {
            var page = await ApiClient.GetAsync<PageDto<JobDto>>(http2, "api/v1/jobs?all=true&limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            foreach (var j in page.Items) listed.Add(j.Id);
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Superset(acked.Keys.ToHashSet(), listed);
    }
}
