using System.Diagnostics;
using System.Net;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Restart safety of running work: a local job keeps running while the server is SIGKILLed, the
/// restarted server re-adopts it (same process: pid and start time), sees it end, and the event log
/// says it was re-adopted. The job is a service (<c>kind: service</c>): its kind is stored with it.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RecoveryTests
{
    [Fact]
    public async Task Restart_RunningLocalJob_IsReadoptedAndCompletes()
    {
        using var dir = new ApiClient.TempDir();
        var port = ServerProcess.FreePort();
        string token, id, marks;
        await using (var server = await ServerProcess.StartAsync(dir.Path, port: port))
        {
            token = (await server.AdminToken)!;
            var http = server.Client(token);
            // The job records its own pid in its work dir (the one place a sandboxed job may write),
            // then runs past the crash and the restart.
            const string spec = "name: survivor\nkind: service\nresources: {gpus: 0, cpus: 0.1, memory: 64Mi}\nrun: echo $$ > pid; sleep 15; echo done > end\n";
            var submitted = await ApiClient.SubmitOkAsync(http, spec);
            Assert.Equal(JobKinds.Service, submitted.Kind);
            id = submitted.Id;
            marks = WorkDir(dir.Path, id);
            await ApiClient.WaitForAsync(http, id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(30));
            await WaitForFileAsync(Path.Combine(marks, "pid"));
            server.Kill9();
        }
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(marks, "pid"))).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(ProcessAlive(pid), "the job's process died with the server; it must outlive it");

        await using var again = await ServerProcess.StartAsync(dir.Path, port: port);
        var http2 = again.Client(token);
        var job = await ApiClient.WaitForAsync(http2, id, j => j.IsTerminal(), TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatuses.Completed, job.Status);
        Assert.Equal(JobKinds.Service, job.Kind);
        Assert.Equal(1, job.Attempts); // re-adopted, not restarted
        Assert.True(File.Exists(Path.Combine(marks, "end")));
        var events = await ApiClient.GetAsync<PageDto<EventDto>>(http2, $"api/v1/jobs/{id}/events");
        var kinds = events.Items.Select(e => e.Kind).ToList();
        Assert.Equal(1, kinds.Count(k => k == "JobStarted"));
        Assert.Contains(events.Items, e => e.Message.Contains("re-adopted", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("JobCompleted", kinds[^1]);
    }

    /// <summary>The local backend's work dir of a job under a server's data dir.</summary>
    internal static string WorkDir(string dataDir, string jobId) => Path.Combine(dataDir, "jobs", jobId, "work");

    internal static async Task WaitForFileAsync(string path)
    {
        var sw = Stopwatch.StartNew();
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"{path} did not appear");
            await Task.Delay(50);
        }
    }

    internal static bool ProcessAlive(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }
}
