using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gureum.Backends.Local;

/// <summary>Which stream of a job's output.</summary>
public enum LogStream
{
    Stdout,
    Stderr,
}

/// <summary>What the local backend knows about one run of a job.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">Run number (the job's <see cref="JobView.Attempts"/> when it started).</param>
/// <param name="RunDirectory">Folder of this run (logs, exit code, wrapper).</param>
/// <param name="WorkDirectory">The job's working directory, shared by its runs (checkpoints survive restarts).</param>
/// <param name="StdoutPath">stdout log file.</param>
/// <param name="StderrPath">stderr log file.</param>
/// <param name="ExitCode">Exit code once known (128+N: killed by signal N); null while running or when unknown.</param>
/// <param name="Ended">Whether the run is over.</param>
public sealed record LocalRunInfo(string JobId, int Attempt, string RunDirectory, string WorkDirectory, string StdoutPath, string StderrPath, int? ExitCode, bool Ended);

/// <summary>
/// Runs jobs as real processes on this machine (pipeline in <c>Local/README.md</c>). Each run is
/// started through <see cref="JobWrapper"/> in a session of its own, with per-run log files (capped)
/// and an exit-code file, optionally in cgroups, a bubblewrap sandbox or a Podman container. The run's
/// identity (wrapper pid + start time from /proc) is saved in the <see cref="IRunHandleStore"/> so a
/// restarted server re-adopts it (<see cref="RecoverAsync"/>).
/// </summary>
/// <remarks>
/// Exits are reported to the observer from a background task (never from inside
/// <see cref="StartAsync"/> or <see cref="StopAsync"/>), so the host must serialize observer calls with
/// its control loop. Disposing the executor stops watching but leaves jobs running: they belong to
/// the cluster, not to this server process, and the next server re-adopts them. Thread-safe.
/// </remarks>
public sealed partial class LocalExecutor : IRecoverableExecutor, IAsyncDisposable
{
    /// <summary>Backend name in run handles.</summary>
    public const string BackendName = "local";

    /// <summary>File written in a run's folder when the run reached its time limit.</summary>
    public const string TimedOutFile = "timed_out";

    private readonly LocalExecutorOptions _options;
    private readonly IRunHandleStore _handles;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Cgroups? _cgroups;
    private readonly string? _bwrap;
    private readonly string? _podman;
    private readonly string _setsid;
    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private IClusterObserver? _observer;

    /// <summary>Probes the machine once (bubblewrap, Podman, cgroups) and logs what it will use.</summary>
    public LocalExecutor(LocalExecutorOptions options, IRunHandleStore handles, TimeProvider time, ILogger<LocalExecutor>? logger = null)
    {
        options.Validate();
        _options = options;
        _handles = handles;
        _time = time;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        Directory.CreateDirectory(options.Root);
        _setsid = ProcFs.Which("setsid") ?? throw new InvalidOperationException("The local backend needs `setsid` (util-linux) on PATH. To fix: install util-linux.");

        _bwrap = options.Isolation == LocalIsolation.None ? null : options.BwrapPath ?? ProcFs.Which("bwrap");
        if (options.Isolation == LocalIsolation.Bubblewrap && _bwrap is null)
            throw new InvalidOperationException("Isolation = Bubblewrap but `bwrap` is not installed. To fix: apt-get install bubblewrap, or use Isolation = Auto.");
        _podman = options.UsePodman ? options.PodmanPath ?? ProcFs.Which("podman") : null;
        if (options.UseCgroups)
        {
            var cg = Cgroups.Probe(options.CgroupRoot, "/proc/self/cgroup");
            if (cg.Version == CgroupVersion.None) LogNoCgroups(cg.Unavailable ?? "unknown");
            else _cgroups = cg;
        }
        LogIsolation(_bwrap ?? "none (plain processes)", _podman ?? "none", CgroupVersion.ToString());
    }

    /// <summary>cgroup version in use for job limits (<see cref="Local.CgroupVersion.None"/> when limits are off).</summary>
    public CgroupVersion CgroupVersion => _cgroups?.Version ?? CgroupVersion.None;

    /// <summary>Whether jobs without an image run inside bubblewrap.</summary>
    public bool UsesBubblewrap => _bwrap is not null;

    /// <summary>Whether jobs naming an image can run (Podman found and enabled).</summary>
    public bool SupportsImages => _podman is not null;

    /// <summary>The options in force.</summary>
    public LocalExecutorOptions Options => _options;

    /// <summary>Sets where exits are reported. Call once, before the first <see cref="StartAsync"/>
    /// (<see cref="RecoverAsync"/> sets it too).</summary>
    public void Attach(IClusterObserver observer) => _observer = observer ?? throw new ArgumentNullException(nameof(observer));

    // ---------------------------------------------------------------- start

    /// <inheritdoc />
    public async ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct)
    {
        if (_observer is null) throw new InvalidOperationException("LocalExecutor.Attach(observer) must be called before jobs start.");
        if (_runs.ContainsKey(job.Id)) throw new InvalidOperationException($"Job {job.Id} is already running on the local backend.");
        var attempt = Math.Max(1, job.Attempts);
        var jobDir = JobDirectory(job.Id);
        var runDir = Path.Combine(jobDir, $"attempt-{attempt.ToString(CultureInfo.InvariantCulture)}");
        var workDir = Path.Combine(jobDir, "work");
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true); // a start that never got going before a crash
        Directory.CreateDirectory(runDir);
        Directory.CreateDirectory(workDir);
        var nodeId = nodes.Count > 0 ? nodes[0].Id : "local";

        var spec = job.Spec;
        var useImage = !string.IsNullOrWhiteSpace(spec.Image);
        string? problem = null;
        if (useImage && _podman is null)
            problem = $"the job names image '{spec.Image}' but this server runs no containers (podman {(_options.UsePodman ? "is not installed" : "is disabled")}). To fix: remove `image` from the spec, or install podman on the server.";
        else if (!useImage && string.IsNullOrWhiteSpace(spec.Command))
            problem = "the job has no command. To fix: set `run:` in the job spec.";

        var run = new Run(job.Id, nodeId, attempt, runDir, workDir);
        _runs[job.Id] = run;
        try { await LaunchAsync(job, run, problem, ct); }
        catch
        {
            _runs.TryRemove(new KeyValuePair<string, Run>(job.Id, run));
            throw;
        }
    }

    private async Task LaunchAsync(JobView job, Run run, string? problem, CancellationToken ct)
    {
        var spec = job.Spec;
        var (runDir, workDir, attempt, useImage) = (run.RunDir, run.WorkDir, run.Attempt, !string.IsNullOrWhiteSpace(job.Spec.Image));
        if (problem is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(runDir, JobWrapper.StderrFile), $"gureum: cannot start: {problem}\n", ct);
            await File.WriteAllTextAsync(Path.Combine(runDir, JobWrapper.ExitCodeFile), "127\n", ct);
            LogCannotStart(job.Id, problem);
            run.Watcher = Task.Run(() => FinishAsync(run, 127, lost: null));
            return;
        }

        var container = useImage ? ContainerName(job.Id, attempt) : null;
        JobCgroup? cgroup = null;
        if (!useImage && _cgroups is not null)
        {
 try { cgroup = _cgroups.Create(SafeName(job.Id) + "-" + attempt.ToString(CultureInfo.InvariantCulture), spec.Resources.Cpus, spec.Resources.MemoryGiB); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { LogCgroupFailed(job.Id, e.Message); }
        }
        run.Cgroups = cgroup?.Directories ?? [];
        run.Container = container;
        if (spec.TimeLimit is { } limit && limit > TimeSpan.Zero) run.Deadline = _time.GetUtcNow() + limit;

        var wrapper = Path.Combine(runDir, JobWrapper.FileName);
        await File.WriteAllTextAsync(wrapper, JobWrapper.Text, ct);
        var psi = new ProcessStartInfo(_setsid) { UseShellExecute = false, WorkingDirectory = workDir };
        foreach (var a in (string[])["sh", wrapper, runDir, _options.LogCapBytes.ToString(CultureInfo.InvariantCulture), "--"]) psi.ArgumentList.Add(a);
        foreach (var a in CommandLine(job, workDir, container)) psi.ArgumentList.Add(a);
        SetEnvironment(psi, job, workDir, useImage, cgroup);

        // Save the handle before the process exists: a crash right after the start still leaves a
        // trace (recovery then identifies the wrapper by wrapper.pid and its command line).
        await SaveHandleAsync(run, ct);
        Process child;
        try { child = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null"); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            await File.WriteAllTextAsync(Path.Combine(runDir, JobWrapper.StderrFile), $"gureum: cannot start the job's process: {e.Message}\n", ct);
            await File.WriteAllTextAsync(Path.Combine(runDir, JobWrapper.ExitCodeFile), "127\n", ct);
            LogCannotStart(job.Id, e.Message);
            run.Watcher = Task.Run(() => FinishAsync(run, 127, lost: null));
            return;
        }
        run.Child = child;
        run.Pid = child.Id;
        run.StartTime = ProcFs.Stat(child.Id)?.StartTime ?? 0;
        await SaveHandleAsync(run, ct);
        LogStarted(job.Id, run.Pid, container is not null ? "podman" : _bwrap is not null ? "bubblewrap" : "process", runDir);
        run.Watcher = Task.Run(() => WatchChildAsync(run));
        run.Limit = Task.Run(() => EnforceDeadlineAsync(run));
    }

    private IEnumerable<string> CommandLine(JobView job, string workDir, string? container)
    {
        var spec = job.Spec;
        if (container is not null)
        {
            var res = spec.Resources;
            List<string> a = [_podman!, "run", "--rm", "--runtime", "runc", "--pull=never", "--name", container, "--sig-proxy=true",
                "-v", $"{workDir}:/work", "-w", "/work", "-e", "HOME=/work", "-e", $"GUREUM_JOB_ID={job.Id}",
                "-e", $"GUREUM_ATTEMPT={Math.Max(1, job.Attempts).ToString(CultureInfo.InvariantCulture)}"];
            foreach (var (name, value) in spec.Env) a.AddRange(["-e", $"{name}={value}"]);
            if (res.MemoryGiB > 0) a.Add($"--memory={((long)Math.Ceiling(res.MemoryGiB * 1024 * 1024 * 1024)).ToString(CultureInfo.InvariantCulture)}b");
            if (res.Cpus > 0) a.Add($"--cpus={res.Cpus.ToString("0.###", CultureInfo.InvariantCulture)}");
            a.AddRange(_options.PodmanArgs);
            a.Add(spec.Image!);
            if (!string.IsNullOrWhiteSpace(spec.Command)) a.AddRange(["sh", "-c", spec.Command]);
            return a;
        }
        if (_bwrap is not null)
        {
            // Read-only system, private /tmp, the work dir writable, network shared. No new pid
            // namespace: its init would ignore SIGTERM and make every stop wait for the grace period.
            List<string> a = [_bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                "--bind", workDir, workDir, "--chdir", workDir, "--unshare-ipc", "--die-with-parent"];
            foreach (var dev in Directory.Exists("/dev") ? Directory.GetFiles("/dev", "nvidia*") : [])
                a.AddRange(["--dev-bind", dev, dev]);
            a.AddRange(["--", "sh", "-c", spec.Command!]);
            return a;
        }
        return ["sh", "-c", spec.Command!];
    }

    /// <summary>A clean environment: the server's secrets (database URLs, tokens) are not passed on.</summary>
    private static void SetEnvironment(ProcessStartInfo psi, JobView job, string workDir, bool podman, JobCgroup? cgroup)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        var home = Environment.GetEnvironmentVariable("HOME");
        psi.Environment.Clear();
        psi.Environment["PATH"] = path;
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["HOME"] = podman && home is not null ? home : workDir; // podman's own config lives in the server's HOME
        psi.Environment["TMPDIR"] = "/tmp";
        foreach (var (name, value) in job.Spec.Env) psi.Environment[name] = value; // the spec's env; Gureum's own names follow and win
        psi.Environment["GUREUM_JOB_ID"] = job.Id;
        psi.Environment["GUREUM_ATTEMPT"] = Math.Max(1, job.Attempts).ToString(CultureInfo.InvariantCulture);
        psi.Environment["GUREUM_WORK_DIR"] = workDir;
        var gpus = job.Placements.Count > 0 ? job.Placements[0].GpuIndices : [];
        var visible = string.Join(',', gpus.Select(g => g.ToString(CultureInfo.InvariantCulture)));
        psi.Environment["CUDA_VISIBLE_DEVICES"] = visible; // empty: a job that asked for no GPU sees none
        psi.Environment["NVIDIA_VISIBLE_DEVICES"] = visible.Length > 0 ? visible : "none";
        if (cgroup is not null) psi.Environment["GUREUM_CGROUP_PROCS"] = string.Join(' ', cgroup.ProcsFiles);
    }

    // ---------------------------------------------------------------- stop

    /// <inheritdoc />
    /// <remarks>Sends SIGTERM to the job's process group and returns; SIGKILL follows after
    /// <see cref="LocalExecutorOptions.StopGracePeriod"/> if anything is left (a container is also
    /// killed through podman). The exit is recorded (<see cref="GetRun"/>) but not reported.</remarks>
    public async ValueTask StopAsync(JobView job, CancellationToken ct)
    {
        if (!_runs.TryGetValue(job.Id, out var run) || run.Ended.Task.IsCompleted) return;
        Interlocked.Exchange(ref run.StopRequested, 1);
        await TerminateAsync(run, ct);
    }

    /// <summary>SIGTERM now, SIGKILL after the grace period (in the background). Once per run.</summary>
    private async Task TerminateAsync(Run run, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref run.Terminating, 1) == 1) return;
        var pgid = await JobGroupAsync(run, ct);
        if (pgid is null) return; // ended before it got going
        LogStopping(run.JobId, pgid.Value);
        ProcFs.SignalGroup(pgid.Value, ProcFs.SigTerm);
        run.Escalation = Task.Run(() => EscalateAsync(run, pgid.Value));
    }

    /// <summary>Ends a run that reaches its time limit as a stop would, and marks it failed
    /// (<c>timed_out</c> in its folder), whatever its exit code.</summary>
    private async Task EnforceDeadlineAsync(Run run)
    {
        if (run.Deadline is not { } deadline) return;
        try
        {
            var wait = deadline - _time.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.WhenAny(run.Ended.Task, Task.Delay(wait, _time, _disposed.Token));
            if (run.Ended.Task.IsCompleted || _disposed.IsCancellationRequested) return;
            run.TimedOut = true;
            await File.WriteAllTextAsync(Path.Combine(run.RunDir, TimedOutFile), deadline.ToString("O", CultureInfo.InvariantCulture) + "\n", _disposed.Token);
            LogTimedOut(run.JobId, deadline.ToString("O", CultureInfo.InvariantCulture));
            await TerminateAsync(run, _disposed.Token);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { LogBackgroundError(run.JobId, e); }
    }

    private async Task EscalateAsync(Run run, int pgid)
    {
        try
        {
            var deadline = _time.GetUtcNow() + _options.StopGracePeriod;
            var step = TimeSpan.FromMilliseconds(Math.Min(100, Math.Max(1, _options.StopGracePeriod.TotalMilliseconds)));
            while (_time.GetUtcNow() < deadline && ProcFs.GroupExists(pgid) && !run.Ended.Task.IsCompleted)
                await Task.Delay(step, _time, _disposed.Token);
            if (run.Ended.Task.IsCompleted || !ProcFs.GroupExists(pgid)) return;
            LogKilling(run.JobId, pgid, _options.StopGracePeriod.TotalSeconds);
            ProcFs.SignalGroup(pgid, ProcFs.SigKill);
            if (run.Container is { } name) await PodmanAsync(["kill", "--signal", "KILL", name]);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { LogBackgroundError(run.JobId, e); }
    }

    private async Task PodmanAsync(string[] args)
    {
        if (_podman is null) return;
        var psi = new ProcessStartInfo(_podman) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi);
        if (p is null) return;
        await p.StandardOutput.ReadToEndAsync();
        await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
    }

    /// <summary>The job's process group (its pid, written by the wrapper to job.pid), waiting up to
    /// 5 s for the wrapper to get that far; null when the run ended first.</summary>
    private async Task<int?> JobGroupAsync(Run run, CancellationToken ct)
    {
        var file = Path.Combine(run.RunDir, JobWrapper.JobPidFile);
        for (var i = 0; i < 100; i++)
        {
            if (ReadInt(file) is { } pid && pid > 1) return pid;
            if (run.Ended.Task.IsCompleted) return null;
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, ct);
        }
        return null;
    }

    // ---------------------------------------------------------------- watching and reporting

    private async Task WatchChildAsync(Run run)
    {
        try
        {
            await run.Child!.WaitForExitAsync(_disposed.Token);
            await FinishAsync(run, ReadExitCode(run.RunDir), lost: null);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { LogBackgroundError(run.JobId, e); }
        finally { run.Child?.Dispose(); }
    }

    private async Task WatchAdoptedAsync(Run run)
    {
        try
        {
            while (ProcFs.IsAlive(run.Pid, run.StartTime))
                await Task.Delay(_options.PollInterval, _time, _disposed.Token);
            var code = ReadExitCode(run.RunDir);
            await FinishAsync(run, code, lost: code is null ? $"wrapper (pid {run.Pid}) ended without recording an exit code" : null);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { LogBackgroundError(run.JobId, e); }
    }

    /// <summary>Ends a run once: clean up, report (unless stopped), forget the handle.</summary>
    private async Task FinishAsync(Run run, int? code, string? lost, IClusterObserver? observerOverride = null)
    {
        if (Interlocked.Exchange(ref run.Finished, 1) == 1) return;
        var ct = _disposed.Token;
        if (code is null && lost is null) lost = $"wrapper (pid {run.Pid}) ended without recording an exit code";
        if (lost is not null) KillOrphanedGroup(run);
        Cgroups.Remove(run.Cgroups);
        if (run.Container is { } name) await PodmanAsync(["rm", "--force", "--ignore", name]);
        var stopped = Volatile.Read(ref run.StopRequested) == 1;
        LogEnded(run.JobId, code?.ToString(CultureInfo.InvariantCulture) ?? "unknown", stopped);
        if (!stopped && (observerOverride ?? _observer) is { } observer)
        {
            try
            {
                if (lost is not null) await observer.OnJobLostAsync(run.JobId, lost, ct);
                else await observer.OnJobExitedAsync(run.JobId, code == 0 && !run.TimedOut && !File.Exists(Path.Combine(run.RunDir, TimedOutFile)), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException) { LogBackgroundError(run.JobId, e); }
        }
        await _handles.DeleteAsync(run.JobId, ct);
        _runs.TryRemove(new KeyValuePair<string, Run>(run.JobId, run));
        run.Ended.TrySetResult(code);
    }

    /// <summary>When the wrapper vanished, its job may live on: kill its group, but only after checking
    /// through /proc/PID/environ that the group leader really is this job (pids get reused).</summary>
    private static void KillOrphanedGroup(Run run)
    {
        if (ReadInt(Path.Combine(run.RunDir, JobWrapper.JobPidFile)) is not { } pgid || pgid <= 1 || !ProcFs.GroupExists(pgid)) return;
        string environ;
        try { environ = File.ReadAllText($"/proc/{pgid}/environ"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        if (environ.Split('\0').Contains($"GUREUM_JOB_ID={run.JobId}", StringComparer.Ordinal))
            ProcFs.SignalGroup(pgid, ProcFs.SigKill);
    }

    // ---------------------------------------------------------------- recovery

    /// <inheritdoc />
    /// <remarks>
    /// For each saved handle of this backend: an exit code on disk → reported as the job's exit;
    /// the wrapper still alive (same pid and same start time in /proc, or, for a handle saved just
    /// before a crash, the pid in wrapper.pid whose command line names the run's folder) → re-adopted
    /// and watched; otherwise → reported through <see cref="IClusterObserver.OnJobLostAsync"/> (the
    /// loop requeues it; the node stays) and what is left of its process group is killed.
    /// </remarks>
    public async ValueTask RecoverAsync(IClusterObserver observer, CancellationToken ct)
    {
        _observer ??= observer;
        foreach (var h in await _handles.ListAsync(BackendName, ct))
        {
            if (_runs.ContainsKey(h.JobId)) continue;
            HandleData? data;
            try { data = JsonSerializer.Deserialize(h.Data, HandleJson.Default.HandleData); }
            catch (JsonException e)
            {
                LogBadHandle(h.JobId, e.Message);
                await observer.OnJobLostAsync(h.JobId, $"unreadable run handle: {e.Message}", ct);
                await _handles.DeleteAsync(h.JobId, ct);
                continue;
            }
            if (data is null) continue;
            var run = new Run(h.JobId, h.NodeId, data.Attempt, data.RunDir, data.WorkDir)
            {
                Pid = data.Pid,
                StartTime = data.StartTime,
                Container = data.Container,
                Cgroups = data.Cgroups,
                Deadline = data.Deadline,
            };
            _runs[h.JobId] = run;
            var code = ReadExitCode(data.RunDir);
            if (code is not null)
            {
                LogRecovered(h.JobId, "exited while the server was down", code.Value.ToString(CultureInfo.InvariantCulture));
                await FinishAsync(run, code, lost: null, observer);
                continue;
            }
            if (IsWrapperAlive(run))
            {
                LogRecovered(h.JobId, "still running, re-adopted", run.Pid.ToString(CultureInfo.InvariantCulture));
                run.Watcher = Task.Run(() => WatchAdoptedAsync(run), CancellationToken.None);
                run.Limit = Task.Run(() => EnforceDeadlineAsync(run), CancellationToken.None);
                continue;
            }
            LogRecovered(h.JobId, "lost (no process, no exit code)", run.Pid.ToString(CultureInfo.InvariantCulture));
            await FinishAsync(run, null, $"process {run.Pid} is gone and recorded no exit code (server was down)", observer);
        }
    }

    private static bool IsWrapperAlive(Run run)
    {
        if (run.Pid > 0) return ProcFs.IsAlive(run.Pid, run.StartTime);
        // Saved before the process started: find it through wrapper.pid and check its command line.
        if (ReadInt(Path.Combine(run.RunDir, JobWrapper.WrapperPidFile)) is not { } pid) return false;
        if (ProcFs.CommandLine(pid) is not { } cmd || !cmd.Contains(Path.Combine(run.RunDir, JobWrapper.FileName), StringComparison.Ordinal)) return false;
        run.Pid = pid;
        run.StartTime = ProcFs.Stat(pid)?.StartTime ?? 0;
        return ProcFs.IsAlive(pid, run.StartTime);
    }

    // ---------------------------------------------------------------- what the API reads

    /// <summary>
    /// The latest run of a job, from memory or from its folder on disk (so logs and exit codes of
    /// jobs that ended before a restart are still served); null when the job never ran here.
    /// </summary>
    public LocalRunInfo? GetRun(string jobId)
    {
        // Ended once finishing began: the observer hears of the exit before the run is forgotten,
        // and the exit code is on disk by then.
        if (_runs.TryGetValue(jobId, out var run)) return Info(run.JobId, run.Attempt, run.RunDir, run.WorkDir, run.Ended.Task.IsCompleted || Volatile.Read(ref run.Finished) == 1);
        var jobDir = JobDirectory(jobId);
        if (!Directory.Exists(jobDir)) return null;
        var latest = Directory.GetDirectories(jobDir, "attempt-*")
            .Select(d => (Dir: d, N: int.TryParse(Path.GetFileName(d)["attempt-".Length..], CultureInfo.InvariantCulture, out var n) ? n : 0))
            .OrderByDescending(x => x.N).FirstOrDefault();
        if (latest.Dir is null) return null;
        return Info(jobId, latest.N, latest.Dir, Path.Combine(jobDir, "work"), ended: true);
    }

    private LocalRunInfo Info(string jobId, int attempt, string runDir, string workDir, bool ended)
    {
        int? code = null;
        if (ended) code = ReadExitCode(runDir);
        return new LocalRunInfo(jobId, attempt, runDir, workDir, Path.Combine(runDir, JobWrapper.StdoutFile), Path.Combine(runDir, JobWrapper.StderrFile), code, ended);
    }

    /// <summary>Completes when the job's current run has ended (its exit code, null when unknown);
    /// at once when the job is not running here.</summary>
    public Task<int?> WhenEndedAsync(string jobId, CancellationToken ct) =>
        _runs.TryGetValue(jobId, out var run) ? run.Ended.Task.WaitAsync(ct) : Task.FromResult(GetRun(jobId)?.ExitCode);

    /// <summary>
    /// Copies a job's log from byte <paramref name="offset"/> to <paramref name="destination"/>. With
    /// <paramref name="follow"/>, keeps copying new output (checking every
    /// <see cref="LocalExecutorOptions.PollInterval"/>) until the run ends, then copies the rest.
    /// Returns the offset after the last byte copied (to resume from). A job that never ran here
    /// copies nothing and returns <paramref name="offset"/>.
    /// </summary>
    public async Task<long> CopyLogAsync(string jobId, LogStream stream, long offset, bool follow, Stream destination, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (GetRun(jobId) is not { } info) return offset;
        var path = stream == LogStream.Stdout ? info.StdoutPath : info.StderrPath;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            // Read "ended" before copying, so output written just before the end is not missed.
            var ended = !follow || IsEnded(jobId, info.RunDirectory);
            if (File.Exists(path))
            {
                await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
                if (offset < f.Length)
                {
                    f.Seek(offset, SeekOrigin.Begin);
                    int n;
                    while ((n = await f.ReadAsync(buffer, ct)) > 0)
                    {
                        await destination.WriteAsync(buffer.AsMemory(0, n), ct);
                        offset += n;
                    }
                    await destination.FlushAsync(ct);
                }
            }
            if (ended) return offset;
            await Task.Delay(_options.PollInterval, _time, ct);
        }
    }

    private bool IsEnded(string jobId, string runDir)
    {
        if (_runs.TryGetValue(jobId, out var run) && run.RunDir == runDir) return run.Ended.Task.IsCompleted;
        if (File.Exists(Path.Combine(runDir, JobWrapper.ExitCodeFile))) return true;
        var probe = new Run(jobId, "", 0, runDir, "");
        return !IsWrapperAlive(probe);
    }

    // ---------------------------------------------------------------- helpers

    private string JobDirectory(string jobId) => Path.Combine(_options.Root, SafeName(jobId));

    /// <summary>A file-name-safe job id: [A-Za-z0-9._-] kept, anything else replaced, plus a short hash
    /// when something was replaced (so two ids never share a folder).</summary>
    internal static string SafeName(string jobId)
    {
        var sb = new StringBuilder(jobId.Length);
        foreach (var ch in jobId) sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_');
        var s = sb.ToString();
        if (s == jobId && s is not ("." or "..") && s.Length <= 100) return s;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobId)))[..12];
        return $"{(s.Length > 80 ? s[..80] : s).Trim('.')}-{hash}";
    }

    private static string ContainerName(string jobId, int attempt) => $"gureum-{SafeName(jobId).ToLowerInvariant()}-{attempt.ToString(CultureInfo.InvariantCulture)}";

    private static int? ReadInt(string file)
    {
        try { return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var v) ? v : null; }
        catch (IOException) { return null; }
    }

    private static int? ReadExitCode(string runDir) => ReadInt(Path.Combine(runDir, JobWrapper.ExitCodeFile));

    private async Task SaveHandleAsync(Run run, CancellationToken ct)
    {
        var data = new HandleData(run.Pid, run.StartTime, run.Attempt, run.RunDir, run.WorkDir, run.Container, run.Cgroups, run.Deadline);
        await _handles.SaveAsync(new RunHandle(run.JobId, BackendName, run.NodeId, JsonSerializer.Serialize(data, HandleJson.Default.HandleData), _time.GetUtcNow()), ct);
    }

    /// <summary>Stops watching (jobs keep running; see the class remarks).</summary>
    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        foreach (var run in _runs.Values)
        {
            if (run.Watcher is { } w) await w.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (run.Escalation is { } e) await e.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (run.Limit is { } l) await l.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _disposed.Dispose();
    }

    private sealed class Run(string jobId, string nodeId, int attempt, string runDir, string workDir)
    {
        public string JobId { get; } = jobId;
        public string NodeId { get; } = nodeId;
        public int Attempt { get; } = attempt;
        public string RunDir { get; } = runDir;
        public string WorkDir { get; } = workDir;
        public int Pid { get; set; }
        public ulong StartTime { get; set; }
        public string? Container { get; set; }
        public IReadOnlyList<string> Cgroups { get; set; } = [];
        public Process? Child { get; set; }
        public Task? Watcher { get; set; }
        public Task? Escalation { get; set; }
        public Task? Limit { get; set; }
        public DateTimeOffset? Deadline { get; set; }
        public bool TimedOut { get; set; }
        public int StopRequested;
        public int Terminating;
        public int Finished;
        public TaskCompletionSource<int?> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // ---------------------------------------------------------------- logging

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Local backend: bubblewrap {Bwrap}; podman {Podman}; cgroups {Cgroups}")]
    private partial void LogIsolation(string bwrap, string podman, string cgroups);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Local backend: no cgroup limits ({Reason}); jobs run without memory/CPU limits")]
    private partial void LogNoCgroups(string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Job {JobId} started: pid {Pid}, {Isolation}, {RunDir}")]
    private partial void LogStarted(string jobId, int pid, string isolation, string runDir);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Job {JobId} cannot start: {Problem}")]
    private partial void LogCannotStart(string jobId, string problem);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Job {JobId} ended: exit {Code} (stopped: {Stopped})")]
    private partial void LogEnded(string jobId, string code, bool stopped);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Job {JobId}: SIGTERM to process group {Pgid}")]
    private partial void LogStopping(string jobId, int pgid);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "Job {JobId}: process group {Pgid} still alive {Grace} s after SIGTERM; SIGKILL")]
    private partial void LogKilling(string jobId, int pgid, double grace);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Error, Message = "Job {JobId}: background error")]
    private partial void LogBackgroundError(string jobId, Exception e);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Information, Message = "Recovery: job {JobId} {What} ({Detail})")]
    private partial void LogRecovered(string jobId, string what, string detail);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Warning, Message = "Recovery: job {JobId} has an unreadable run handle: {Error}")]
    private partial void LogBadHandle(string jobId, string error);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Job {JobId} reached its time limit at {Deadline}; stopping it")]
    private partial void LogTimedOut(string jobId, string deadline);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "Job {JobId}: cannot create its cgroup ({Error}); running without limits")]
    private partial void LogCgroupFailed(string jobId, string error);
}

/// <summary>The local backend's <see cref="RunHandle.Data"/>.</summary>
internal sealed record HandleData(int Pid, ulong StartTime, int Attempt, string RunDir, string WorkDir, string? Container, IReadOnlyList<string> Cgroups, DateTimeOffset? Deadline = null);

[System.Text.Json.Serialization.JsonSerializable(typeof(HandleData))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class HandleJson : System.Text.Json.Serialization.JsonSerializerContext;
