using System.Diagnostics;
using System.Text.Json;
using Gureum.Backends.Local;
using Gureum.Core.Control;
using Gureum.Core.Persistence;

namespace Gureum.Backends.Tests.Local;

/// <summary>Real processes through the real wrapper: exit codes, logs, cap, stop, process groups.</summary>
public sealed class LocalExecutorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly InMemoryRunHandleStore _handles = new();
    private readonly RecordingObserver _observer = new();

    public void Dispose() => _dir.Dispose();

    private LocalExecutor Executor(Func<LocalExecutorOptions, LocalExecutorOptions>? configure = null)
    {
        var options = new LocalExecutorOptions { Root = _dir.Path, Isolation = LocalIsolation.None, UseCgroups = false, PollInterval = TimeSpan.FromMilliseconds(50) };
        var ex = new LocalExecutor(configure?.Invoke(options) ?? options, _handles, TimeProvider.System);
        ex.Attach(_observer);
        return ex;
    }

    private static async Task<int?> EndOf(LocalExecutor ex, string jobId) =>
        await ex.WhenEndedAsync(jobId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    [Fact]
    public async Task StartAsync_CommandSucceeds_ReportsSuccessAndCapturesBothStreams()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("ok-1", "echo out; echo err >&2"), [], default);

        Assert.Equal("exited ok-1 ok", await _observer.WaitForAsync("exited ok-1"));
        await EndOf(ex, "ok-1"); // the run is over (handle deleted) just after the report
        var run = ex.GetRun("ok-1")!;
        Assert.Equal(0, run.ExitCode);
        Assert.True(run.Ended);
        Assert.Equal("out\n", File.ReadAllText(run.StdoutPath));
        Assert.Equal("err\n", File.ReadAllText(run.StderrPath));
        Assert.Empty(await _handles.ListAsync("local", default)); // handle forgotten once reported
    }

    [Fact]
    public async Task StartAsync_CommandExitsNonZero_ReportsFailureWithExitCode()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("bad-1", "exit 3"), [], default);

        Assert.Equal("exited bad-1 failed", await _observer.WaitForAsync("exited bad-1"));
        Assert.Equal(3, ex.GetRun("bad-1")!.ExitCode);
    }

    [Fact]
    public async Task StartAsync_JobRunsInItsOwnSessionWithCleanEnvironment()
    {
        Environment.SetEnvironmentVariable("GUREUM_TEST_SECRET", "s3cret");
        await using var ex = Executor();
        var job = J.Running("env-1", "echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$; echo secret=${GUREUM_TEST_SECRET:-none}; echo id=$GUREUM_JOB_ID; pwd; echo \"seed=$SEED msg=$MSG\"");
        job = job with { Spec = job.Spec with { Env = new Dictionary<string, string> { ["SEED"] = "7", ["MSG"] = "hello world" } } };
        await ex.StartAsync(job, [], default);
        await EndOf(ex, "env-1");

        var run = ex.GetRun("env-1")!;
        var lines = File.ReadAllLines(run.StdoutPath);
        var jobPid = int.Parse(File.ReadAllText(Path.Combine(run.RunDirectory, "job.pid")).Trim());
        Assert.Equal($"sid={jobPid} pid={jobPid}", lines[0]); // session (and group) leader: its own session
        Assert.NotEqual(Environment.ProcessId, jobPid);
        Assert.Equal("secret=none", lines[1]);
        Assert.Equal("id=env-1", lines[2]);
        Assert.Equal(run.WorkDirectory, lines[3]);
        Assert.Equal("seed=7 msg=hello world", lines[4]); // the spec's env reaches the job
    }

    [Fact]
    public async Task StartAsync_OutputBeyondCap_KeepsFirstBytesThenMarkerAndJobStillEnds()
    {
        await using var ex = Executor(o => o with { LogCapBytes = 1000 });
        // 200 kB: far more than the cap and more than a pipe buffer, so a blocked writer would hang.
        await ex.StartAsync(J.Running("chatty", "head -c 200000 /dev/zero | tr '\\0' a; echo done >&2"), [], default);

        Assert.Equal("exited chatty ok", await _observer.WaitForAsync("exited chatty"));
        var run = ex.GetRun("chatty")!;
        var text = File.ReadAllText(run.StdoutPath);
        Assert.StartsWith(new string('a', 1000) + "\n[gureum: log capped at 1000 bytes", text, StringComparison.Ordinal);
        Assert.True(text.Length < 1200, $"stdout.log has {text.Length} chars");
        Assert.Equal("done\n", File.ReadAllText(run.StderrPath)); // under the cap: no marker
    }

    [Fact]
    public async Task StopAsync_ProcessIgnoresSigterm_KilledAfterGraceAndNotReported()
    {
        await using var ex = Executor(o => o with { StopGracePeriod = TimeSpan.FromSeconds(1) });
        var job = J.Running("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.1; done");
        await ex.StartAsync(job, [], default);
        await WaitForFileText(ex.GetRun("stubborn")!.StdoutPath, "ready");

        var sw = Stopwatch.StartNew();
        await ex.StopAsync(job, default);
        var code = await EndOf(ex, "stubborn");

        Assert.Equal(137, code); // 128 + SIGKILL
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.9), $"killed after {sw.Elapsed}, before the 1 s grace");
        await Task.Delay(200);
        Assert.DoesNotContain(_observer.Calls, c => c.Contains("stubborn", StringComparison.Ordinal)); // Stop does not report
    }

    [Fact]
    public async Task StopAsync_CooperativeProcess_EndsBySigterm()
    {
        await using var ex = Executor(o => o with { StopGracePeriod = TimeSpan.FromSeconds(30) });
        var job = J.Running("polite", "echo ready; sleep 60");
        await ex.StartAsync(job, [], default);
        await WaitForFileText(ex.GetRun("polite")!.StdoutPath, "ready");

        await ex.StopAsync(job, default);
        Assert.Equal(143, await EndOf(ex, "polite")); // 128 + SIGTERM: no SIGKILL needed
    }

    [Fact]
    public async Task TimeLimit_Reached_JobIsStoppedAndReportedFailedEvenIfItExitsZero()
    {
        await using var ex = Executor(o => o with { StopGracePeriod = TimeSpan.FromSeconds(5) });
        // Exits 0 on SIGTERM: still a failure, the job did not finish within its limit.
        await ex.StartAsync(J.Running("late", "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done", timeLimit: TimeSpan.FromSeconds(1)), [], default);

        Assert.Equal("exited late failed", await _observer.WaitForAsync("exited late"));
        var run = ex.GetRun("late")!;
        Assert.Equal(0, run.ExitCode);
        Assert.True(File.Exists(Path.Combine(run.RunDirectory, LocalExecutor.TimedOutFile)));
        Assert.Equal("ready\nbye\n", File.ReadAllText(run.StdoutPath));
    }

    [Fact]
    public async Task StopAsync_JobWithChildProcesses_KillsTheWholeGroup()
    {
        await using var ex = Executor(o => o with { StopGracePeriod = TimeSpan.FromSeconds(1) });
        var job = J.Running("family", "trap '' TERM; sleep 300 & echo $! > child.pid; sleep 300 & echo ready; wait");
        await ex.StartAsync(job, [], default);
        var run = ex.GetRun("family")!;
        await WaitForFileText(run.StdoutPath, "ready");
        var child = int.Parse(File.ReadAllText(Path.Combine(run.WorkDirectory, "child.pid")).Trim());
        Assert.True(ProcFs.IsAlive(child, 0));

        await ex.StopAsync(job, default);
        await EndOf(ex, "family");

        Assert.False(ProcFs.IsAlive(child, 0), $"child {child} survived the stop");
    }

    [Fact]
    public async Task Exit_MainProcessEndsLeavingBackgroundChild_ChildIsKilled()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("leaver", "sleep 300 & echo $! > child.pid; exit 0"), [], default);
        await EndOf(ex, "leaver");

        var child = int.Parse(File.ReadAllText(Path.Combine(ex.GetRun("leaver")!.WorkDirectory, "child.pid")).Trim());
        Assert.False(ProcFs.IsAlive(child, 0));
    }

    [Fact]
    public async Task StartAsync_NoCommand_FailsWithMessage()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("empty", null), [], default);

        Assert.Equal("exited empty failed", await _observer.WaitForAsync("exited empty"));
        Assert.Contains("To fix: set `run:`", File.ReadAllText(ex.GetRun("empty")!.StderrPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ImageWithoutPodman_FailsWithMessage()
    {
        await using var ex = Executor(o => o with { UsePodman = false });
        await ex.StartAsync(J.Running("img", "echo hi", image: "localhost/none:1"), [], default);

        Assert.Equal("exited img failed", await _observer.WaitForAsync("exited img"));
        var err = File.ReadAllText(ex.GetRun("img")!.StderrPath);
        Assert.Contains("localhost/none:1", err, StringComparison.Ordinal);
        Assert.Contains("To fix:", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_SecondAttempt_NewLogsSameWorkDir()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("again", "echo one > note; echo first"), [], default);
        await EndOf(ex, "again");
        var first = ex.GetRun("again")!;
        await ex.StartAsync(J.Running("again", "cat note; echo second", attempts: 2), [], default);
        await EndOf(ex, "again");
        var second = ex.GetRun("again")!;

        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.StdoutPath, second.StdoutPath);
        Assert.Equal("first\n", File.ReadAllText(first.StdoutPath));
        Assert.Equal("one\nsecond\n", File.ReadAllText(second.StdoutPath)); // the work dir survived
    }

    [Fact]
    public async Task CopyLogAsync_Follow_StreamsUntilTheJobEnds()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("tail", "for i in 1 2 3 4 5; do echo line$i; sleep 0.1; done"), [], default);

        using var sink = new MemoryStream();
        var end = await ex.CopyLogAsync("tail", LogStream.Stdout, 0, follow: true, sink, default).WaitAsync(TimeSpan.FromSeconds(30));

        var text = System.Text.Encoding.UTF8.GetString(sink.ToArray());
        Assert.Equal("line1\nline2\nline3\nline4\nline5\n", text);
        Assert.Equal(text.Length, end);
        using var rest = new MemoryStream();
        Assert.Equal(end, await ex.CopyLogAsync("tail", LogStream.Stdout, end, follow: false, rest, default));
        Assert.Equal(0, rest.Length);
        using var part = new MemoryStream();
        await ex.CopyLogAsync("tail", LogStream.Stdout, 6, follow: true, part, default); // ended: returns at once
        Assert.Equal("line2\nline3\nline4\nline5\n", System.Text.Encoding.UTF8.GetString(part.ToArray()));
    }

    [Fact]
    public async Task GetRun_AfterExecutorRestart_ReadsExitCodeFromDisk()
    {
        await using (var ex = Executor())
        {
            await ex.StartAsync(J.Running("disk", "echo x; exit 9"), [], default);
            await EndOf(ex, "disk");
        }
        await using var again = Executor();
        var run = again.GetRun("disk")!;
        Assert.Equal(9, run.ExitCode);
        Assert.Equal("x\n", File.ReadAllText(run.StdoutPath));
        Assert.Null(again.GetRun("never-ran"));
    }

    [Fact]
    public async Task StartAsync_SavesHandleWithPidAndStartTime()
    {
        await using var ex = Executor();
        await ex.StartAsync(J.Running("h-1", "sleep 5"), [J.Node("n1", J.Offer())], default);

        var h = Assert.Single(await _handles.ListAsync("local", default));
        Assert.Equal("n1", h.NodeId);
        using var doc = JsonDocument.Parse(h.Data);
        var pid = doc.RootElement.GetProperty("pid").GetInt32();
        var start = doc.RootElement.GetProperty("startTime").GetUInt64();
        Assert.Equal(ProcFs.Stat(pid)!.Value.StartTime, start);
        await ex.StopAsync(J.Running("h-1", "sleep 5"), default);
        await EndOf(ex, "h-1");
    }

    [Fact]
    public void SafeName_OddIds_AreDistinctFileNames()
    {
        Assert.Equal("job-1", LocalExecutor.SafeName("job-1"));
        var a = LocalExecutor.SafeName("../etc");
        var b = LocalExecutor.SafeName("__/etc");
        Assert.DoesNotContain('/', a);
        Assert.NotEqual(a, b);
        Assert.NotEqual("..", LocalExecutor.SafeName(".."));
    }

    internal static async Task WaitForFileText(string path, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(File.Exists(path) && File.ReadAllText(path).Contains(text, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"'{text}' never appeared in {path}");
            await Task.Delay(20);
        }
    }
}
