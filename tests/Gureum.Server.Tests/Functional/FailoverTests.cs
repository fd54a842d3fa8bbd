using System.Diagnostics;
using System.Net;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;
using Xunit.Abstractions;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Two <c>gureum serve</c> replicas on one PostgreSQL database: one leads (runs the control loop),
/// both take submissions. The leader is SIGKILLed; the other must take over (measured, and bounded
/// by <see cref="TakeoverBound"/>), re-adopt the jobs the dead leader started, and no job may run
/// twice at once: every job's own start/end marks and the event log show one run at a time.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FailoverTests(PostgresFixture pg, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    /// <summary>Documented bound on takeover after the leader dies (README "Serve").</summary>
    public static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(10);

    [RequiresPostgresFact]
    public async Task KillLeader_SecondReplica_TakesOverAndNoJobRunsTwice()
    {
        using var dir = new ApiClient.TempDir();
        var db = await pg.CreateDatabaseAsync();
        // Both replicas share the data dir (job work dirs and logs), as they would share a volume.
        var a = await ServerProcess.StartAsync(dir.Path, db: db, extraArgs: ["--tick", "0.2s"]);
        var token = (await a.AdminToken)!;
        Assert.NotNull(token);
        var b = await ServerProcess.StartAsync(dir.Path, db: db, extraArgs: ["--tick", "0.2s"]);
        try
        {
            Assert.Null(await b.AdminToken); // one admin per database
            var (leader, follower) = await WhoLeadsAsync(a, b);
            var ids = new List<string>();
            for (var i = 0; i < 12; i++)
            {
                // Each job writes a start mark, runs a while, writes an end mark: two runs at once
                // would show as two starts in a row.
                var target = i % 2 == 0 ? a : b;
                var spec = $"name: f{i}\nresources: {{gpus: 0, cpus: 0.1, memory: 32Mi}}\nrun: echo start >> marks; sleep 3; echo end >> marks\n";
                ids.Add((await ApiClient.SubmitOkAsync(target.Client(token), spec)).Id);
            }
            // Some are running on the leader when it dies.
            await ApiClient.WaitForAsync(leader.Client(token), ids[0], j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(30));
            var killedAt = Stopwatch.StartNew();
            leader.Kill9();
            var tookOver = await WaitLeaderAsync(follower, TakeoverBound + TimeSpan.FromSeconds(20));
            output.WriteLine($"takeover after SIGKILL of the leader: {tookOver.TotalMilliseconds:F0} ms");
            Assert.True(tookOver < TakeoverBound, $"takeover took {tookOver}, bound {TakeoverBound}");

            var http = follower.Client(token);
            foreach (var id in ids)
            {
                var job = await ApiClient.WaitForAsync(http, id, j => j.IsTerminal(), TimeSpan.FromSeconds(120));
                Assert.True(job.Status == JobStatuses.Completed, $"{id} ended {job.Status}");
            }
            for (var i = 0; i < ids.Count; i++)
            {
                var lines = await File.ReadAllLinesAsync(Path.Combine(RecoveryTests.WorkDir(dir.Path, ids[i]), "marks"));
                for (var k = 1; k < lines.Length; k++)
                    Assert.False(lines[k] == "start" && lines[k - 1] == "start", $"f{i} started twice without ending: {string.Join(",", lines)}");
                Assert.Equal("end", lines[^1]);
                var events = await ApiClient.GetAsync<PageDto<EventDto>>(http, $"api/v1/jobs/{ids[i]}/events?limit=1000");
                var open = 0;
                foreach (var e in events.Items)
                {
                    if (e.Kind == "JobStarted") { open++; Assert.True(open == 1, $"{ids[i]} has two overlapping runs in the event log"); }
                    if (e.Kind is "JobCompleted" or "JobFailed" or "JobCancelled" or "JobRequeued") open = 0;
                }
            }
        }
        catch
        {
            output.WriteLine("---- replica a ----\n" + a.Output + "\n---- replica b ----\n" + b.Output);
            throw;
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    private static async Task<bool> IsLeaderAsync(ServerProcess s)
    {
        var h = await ApiClient.GetAsync<HealthDto>(s.Client(), "healthz");
        return h.Leader;
    }

    private static async Task<(ServerProcess Leader, ServerProcess Follower)> WhoLeadsAsync(ServerProcess a, ServerProcess b)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            var (la, lb) = (await IsLeaderAsync(a), await IsLeaderAsync(b));
            Assert.False(la && lb, "both replicas claim to lead");
            if (la) return (a, b);
            if (lb) return (b, a);
            await Task.Delay(100);
        }
        throw new TimeoutException("no replica became leader");
    }

    private static async Task<TimeSpan> WaitLeaderAsync(ServerProcess s, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (await IsLeaderAsync(s)) return sw.Elapsed;
            await Task.Delay(50);
        }
        return sw.Elapsed;
    }
}
