using System.Diagnostics;
using System.Text.Json;
using Gureum.Backends.Local;
using Gureum.Core.Control;
using Gureum.Core.Persistence;

namespace Gureum.Backends.Tests.Local;

/// <summary>
/// A server restart: the first executor is disposed (its jobs keep running, as they do when the
/// server is killed), a second one with the same handle store recovers.
/// </summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly InMemoryRunHandleStore _handles = new();

    public void Dispose() => _dir.Dispose();

    private LocalExecutor Executor(IClusterObserver observer)
    {
        var ex = new LocalExecutor(new LocalExecutorOptions { Root = _dir.Path, Isolation = LocalIsolation.None, UseCgroups = false, PollInterval = TimeSpan.FromMilliseconds(50) }, _handles, TimeProvider.System);
        ex.Attach(observer);
        return ex;
    }

    /// <summary>Waits until the job touches ./go in its work dir, then exits with <paramref name="code"/>.</summary>
    private static string WaitForGo(int code) => $"echo started; while [ ! -f go ]; do sleep 0.05; done; echo going; exit {code}";

    [Fact]
    public async Task RecoverAsync_ProcessStillRunning_ReadoptsItAndReportsItsExit()
    {
        var first = new RecordingObserver();
        var ex1 = Executor(first);
        await ex1.StartAsync(J.Running("long", WaitForGo(5)), [], default);
        var run = ex1.GetRun("long")!;
        await LocalExecutorTests.WaitForFileText(run.StdoutPath, "started");
        await ex1.DisposeAsync(); // "server killed": the job keeps running

        var second = new RecordingObserver();
        await using var ex2 = Executor(second);
        await ex2.RecoverAsync(second, default);
        Assert.Empty(second.Calls); // still running: adopted, nothing to report yet
        Assert.False(ex2.GetRun("long")!.Ended);

        File.WriteAllText(Path.Combine(run.WorkDirectory, "go"), "");
        Assert.Equal("exited long failed", await second.WaitForAsync("exited long"));
        await ex2.WhenEndedAsync("long", default).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, ex2.GetRun("long")!.ExitCode);
        Assert.Empty(first.Calls);
        Assert.Empty(await _handles.ListAsync("local", default));
        Assert.Equal("started\ngoing\n", File.ReadAllText(run.StdoutPath));
    }

    [Fact]
    public async Task RecoverAsync_ExitWhileDown_ReportsItWithItsCode()
    {
        var ex1 = Executor(new RecordingObserver());
        await ex1.StartAsync(J.Running("quick", WaitForGo(0)), [], default);
        await ex1.StartAsync(J.Running("sad", WaitForGo(4)), [], default);
        var quick = ex1.GetRun("quick")!;
        var sad = ex1.GetRun("sad")!;
        await LocalExecutorTests.WaitForFileText(quick.StdoutPath, "started");
        await LocalExecutorTests.WaitForFileText(sad.StdoutPath, "started");
        await ex1.DisposeAsync();
        File.WriteAllText(Path.Combine(quick.WorkDirectory, "go"), "");
        File.WriteAllText(Path.Combine(sad.WorkDirectory, "go"), "");
        await WaitForFile(Path.Combine(quick.RunDirectory, "exit_code"));
        await WaitForFile(Path.Combine(sad.RunDirectory, "exit_code"));

        var observer = new RecordingObserver();
        await using var ex2 = Executor(observer);
        await ex2.RecoverAsync(observer, default);

        Assert.Equal(["exited quick ok", "exited sad failed"], observer.Calls.Order(StringComparer.Ordinal));
        Assert.Equal(4, ex2.GetRun("sad")!.ExitCode);
        Assert.Empty(await _handles.ListAsync("local", default));
    }

    [Fact]
    public async Task RecoverAsync_DeadPidWithoutExitCode_ReportsLost()
    {
        using var gone = Process.Start("true")!;
        await gone.WaitForExitAsync();
        var runDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "ghost", "attempt-1")).FullName;
        await SaveHandle("ghost", gone.Id, 4242, runDir);

        var observer = new RecordingObserver();
        await using var ex = Executor(observer);
        await ex.RecoverAsync(observer, default);

        Assert.Equal(["lost ghost"], observer.Calls);
        Assert.Empty(await _handles.ListAsync("local", default));
    }

    [Fact]
    public async Task RecoverAsync_PidReusedByAnotherProcess_ReportsLostAndKillsNothing()
    {
        // Our own pid is alive but its start time is not the one recorded: a reused pid.
        var runDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "reused", "attempt-1")).FullName;
        await SaveHandle("reused", Environment.ProcessId, 1, runDir);

        var observer = new RecordingObserver();
        await using var ex = Executor(observer);
        await ex.RecoverAsync(observer, default);

        Assert.Equal(["lost reused"], observer.Calls);
        Assert.True(ProcFs.IsAlive(Environment.ProcessId, 0));
    }

    [Fact]
    public async Task RecoverAsync_CalledTwice_ReportsOnce()
    {
        var ex1 = Executor(new RecordingObserver());
        await ex1.StartAsync(J.Running("once", "exit 0"), [], default);
        var run = ex1.GetRun("once")!;
        await ex1.DisposeAsync();
        await WaitForFile(Path.Combine(run.RunDirectory, "exit_code"));

        var observer = new RecordingObserver();
        await using var ex2 = Executor(observer);
        await ex2.RecoverAsync(observer, default);
        await ex2.RecoverAsync(observer, default);
        Assert.Equal(["exited once ok"], observer.Calls);
    }

    private Task SaveHandle(string jobId, int pid, ulong startTime, string runDir)
    {
        var data = JsonSerializer.Serialize(new { pid, startTime, attempt = 1, runDir, workDir = runDir, container = (string?)null, cgroups = Array.Empty<string>() });
        return _handles.SaveAsync(new RunHandle(jobId, "local", "local-test", data, DateTimeOffset.UnixEpoch), default).AsTask();
    }

    private static async Task WaitForFile(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} never appeared");
            await Task.Delay(20);
        }
    }
}
