using System.Diagnostics;
using System.Text.Json;
using Gureum.Backends.Local;
using Gureum.Core.Persistence;
using Xunit.Abstractions;

namespace Gureum.Backends.Tests.Local;

/// <summary>bubblewrap, cgroup limits and Podman, each on the real tool.</summary>
public sealed class IsolationTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly InMemoryRunHandleStore _handles = new();
    private readonly RecordingObserver _observer = new();

    public void Dispose() => _dir.Dispose();

    private LocalExecutor Executor(LocalIsolation isolation, bool cgroups, bool podman = false)
    {
        var ex = new LocalExecutor(new LocalExecutorOptions
        {
            Root = _dir.Path, Isolation = isolation, UseCgroups = cgroups, UsePodman = podman, PollInterval = TimeSpan.FromMilliseconds(50),
        }, _handles, TimeProvider.System);
        ex.Attach(_observer);
        return ex;
    }

    [NeedsFact("bwrap")]
    public async Task Bubblewrap_JobCannotWriteSystemButCanWriteItsWorkDir()
    {
        await using var ex = Executor(LocalIsolation.Bubblewrap, cgroups: false);
        Assert.True(ex.UsesBubblewrap);
        var marker = $"gureum-probe-{Guid.NewGuid():N}";
        await ex.StartAsync(J.Running("boxed",
            $"touch /usr/{marker} 2>/dev/null && echo usr-writable || echo usr-readonly; " +
            $"echo hi > ./out && echo work-ok; touch /tmp/{marker} && echo tmp-ok; " +
            "getent hosts localhost >/dev/null && echo net-ok"), [], default);
        await ex.WhenEndedAsync("boxed", default).WaitAsync(TimeSpan.FromSeconds(60));

        var run = ex.GetRun("boxed")!;
        var lines = File.ReadAllLines(run.StdoutPath);
        Assert.Equal(["usr-readonly", "work-ok", "tmp-ok", "net-ok"], lines);
        Assert.False(File.Exists($"/usr/{marker}"));
        Assert.False(File.Exists($"/tmp/{marker}")); // private /tmp
        Assert.Equal("hi\n", File.ReadAllText(Path.Combine(run.WorkDirectory, "out")));
    }

    [NeedsFact("bwrap")]
    public async Task Bubblewrap_StopReachesTheSandboxedProcess()
    {
        await using var ex = Executor(LocalIsolation.Bubblewrap, cgroups: false);
        var job = J.Running("boxed-stop", "echo ready; sleep 60");
        await ex.StartAsync(job, [], default);
        await LocalExecutorTests.WaitForFileText(ex.GetRun("boxed-stop")!.StdoutPath, "ready");
        await ex.StopAsync(job, default);
        var code = await ex.WhenEndedAsync("boxed-stop", default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(143, code);
    }

    [NeedsFact("cgroups")]
    public async Task Cgroup_MemoryHogOverItsLimit_IsKilledWhileSmallJobPasses()
    {
        await using var ex = Executor(LocalIsolation.None, cgroups: true);
        Assert.NotEqual(CgroupVersion.None, ex.CgroupVersion);
        // tail keeps a line in memory; /dev/zero has no newline, so it holds everything it reads.
        await ex.StartAsync(J.Running("hog", "head -c 400000000 /dev/zero | tail > /dev/null", cpus: 1, memGiB: 0.0625), [], default);
        await ex.StartAsync(J.Running("small", "head -c 8000000 /dev/zero | tail > /dev/null", cpus: 1, memGiB: 0.0625), [], default);

        Assert.Equal("exited hog failed", await _observer.WaitForAsync("exited hog", TimeSpan.FromSeconds(120)));
        Assert.Equal("exited small ok", await _observer.WaitForAsync("exited small", TimeSpan.FromSeconds(120)));
        Assert.Equal(137, ex.GetRun("hog")!.ExitCode); // SIGKILL from the OOM killer
    }

    [NeedsFact("cgroups")]
    public async Task Cgroup_LimitsFromTheRequestAreWritten()
    {
        await using var ex = Executor(LocalIsolation.None, cgroups: true);
        var job = J.Running("limited", "echo ready; sleep 30", cpus: 1.5, memGiB: 0.5);
        await ex.StartAsync(job, [], default);
        await LocalExecutorTests.WaitForFileText(ex.GetRun("limited")!.StdoutPath, "ready");

        var h = Assert.Single(await _handles.ListAsync("local", default));
        var dirs = JsonDocument.Parse(h.Data).RootElement.GetProperty("cgroups").EnumerateArray().Select(e => e.GetString()!).ToList();
        // The wrapper writes job.pid (atomically) after starting the job, which may print first.
        var pidFile = Path.Combine(ex.GetRun("limited")!.RunDirectory, "job.pid");
        await LocalExecutorTests.WaitForFileText(pidFile, "");
        var jobPid = File.ReadAllText(pidFile).Trim();
        if (ex.CgroupVersion == CgroupVersion.V1)
        {
            var mem = dirs.Single(d => d.Contains("/memory/", StringComparison.Ordinal));
            var cpu = dirs.Single(d => d.Contains("/cpu/", StringComparison.Ordinal));
            Assert.Equal((512L * 1024 * 1024).ToString(), File.ReadAllText(Path.Combine(mem, "memory.limit_in_bytes")).Trim());
            Assert.Equal("150000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
            Assert.Contains(jobPid, File.ReadAllLines(Path.Combine(mem, "cgroup.procs")));
        }
        else
        {
            Assert.Equal((512L * 1024 * 1024).ToString(), File.ReadAllText(Path.Combine(dirs[0], "memory.max")).Trim());
            Assert.Equal("150000 100000", File.ReadAllText(Path.Combine(dirs[0], "cpu.max")).Trim());
        }
        await ex.StopAsync(job, default);
        await ex.WhenEndedAsync("limited", default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(dirs, d => Assert.False(Directory.Exists(d), $"{d} left behind"));
    }

    /// <summary>
    /// Podman with a local image only. The image is <c>GUREUM_TEST_IMAGE</c>, else
    /// <c>localhost/gureum-test:1</c>, built when missing by <c>podman import</c> of a folder holding
    /// the machine's static busybox (nothing is pulled). Skips, saying why, when podman or busybox is absent.
    /// </summary>
    [NeedsFact("podman")]
    public async Task Podman_JobWithImage_RunsInContainerWithWorkDirLogsAndExitCode()
    {
        var image = await LocalImage();
        if (image is null) return;
        await using var ex = Executor(LocalIsolation.None, cgroups: false, podman: true);
        await ex.StartAsync(J.Running("boxed-img", "echo in-container; echo data > /work/out; exit 4", image: image, cpus: 1, memGiB: 0.25), [], default);

        Assert.Equal("exited boxed-img failed", await _observer.WaitForAsync("exited boxed-img", TimeSpan.FromSeconds(120)));
        var run = ex.GetRun("boxed-img")!;
        Assert.Equal(4, run.ExitCode);
        Assert.Equal("in-container\n", File.ReadAllText(run.StdoutPath));
        Assert.Equal("data\n", File.ReadAllText(Path.Combine(run.WorkDirectory, "out")));
    }

    [NeedsFact("podman")]
    public async Task Podman_StopContainerJob_EndsIt()
    {
        var image = await LocalImage();
        if (image is null) return;
        await using var ex = Executor(LocalIsolation.None, cgroups: false, podman: true);
        var job = J.Running("boxed-stop-img", "echo ready; sleep 60", image: image);
        await ex.StartAsync(job, [], default);
        await LocalExecutorTests.WaitForFileText(ex.GetRun("boxed-stop-img")!.StdoutPath, "ready");
        await ex.StopAsync(job, default);
        var code = await ex.WhenEndedAsync("boxed-stop-img", default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Equal("", await Run("podman", "ps", "-a", "--filter", "name=gureum-boxed-stop-img", "--format", "{{.Names}}"));
    }

    private async Task<string?> LocalImage()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (ProcFs.Which("podman") is null)
        {
            output.WriteLine("Skipped: podman is not installed (apt-get install podman); the container path was not tested.");
            return null;
        }
        var image = Environment.GetEnvironmentVariable("GUREUM_TEST_IMAGE") ?? "localhost/gureum-test:1";
        if ((await Run("podman", "image", "exists", image)) is not null) return image;
        if (image != "localhost/gureum-test:1" || !File.Exists("/bin/busybox"))
        {
            var why = $"Skipped: local image {image} not found and cannot be built (needs /bin/busybox from busybox-static); nothing is pulled.";
            output.WriteLine(why);
            Assert.False(ci, why);
            return null;
        }
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        Directory.CreateDirectory(Path.Combine(root, "usr", "bin"));
        Directory.CreateDirectory(Path.Combine(root, "tmp"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
        foreach (var tool in new[] { "sh", "echo", "sleep", "cat", "ls", "wc", "touch" })
            File.CreateSymbolicLink(Path.Combine(root, "bin", tool), "busybox");
        var tar = Path.Combine(_dir.Path, "rootfs.tar");
        Assert.NotNull(await Run("tar", "-C", root, "-cf", tar, "."));
        Assert.NotNull(await Run("podman", "import", tar, image));
        output.WriteLine($"Built local image {image} from /bin/busybox with podman import.");
        return image;
    }

    /// <summary>Runs a tool; its stdout when it exits 0, else null.</summary>
    private static async Task<string?> Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? stdout.Trim() : null;
    }
}
