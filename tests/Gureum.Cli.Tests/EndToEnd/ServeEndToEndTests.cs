using System.Text.Json;
using Gureum.Contracts.Api;

namespace Gureum.Cli.Tests.EndToEnd;

/// <summary>
/// Issue 3's end-to-end Must-show: a real <c>gureum serve</c> on a loopback port, the real CLI as
/// processes: log in with the printed admin token, submit a job that runs and completes, read its
/// logs, cancel another mid-run, and see both end states in <c>ls --json</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ServeEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(90);
    private GureumServer _server = null!;

    public async Task InitializeAsync() => _server = await GureumServer.StartAsync(TimeSpan.FromSeconds(90));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static T Json<T>(CliRun run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonSerializer.Deserialize<T>(run.Stdout, GureumJson.Options) ?? throw new InvalidOperationException(run.ToString());
    }

    private string WriteSpec(string name, string yaml)
    {
        var path = Path.Combine(_server.Root, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private async Task<JobDto> WaitForAsync(string id, Func<JobDto, bool> until, string what)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        JobDto job;
        do
        {
            job = Json<JobDto>(await _server.CliAsync("show", id, "--json"));
            if (until(job)) return job;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {id} never became {what}; last: {JsonSerializer.Serialize(job, GureumJson.Options)}\n--- server\n{_server.Output}");
    }

    [Fact]
    public async Task ServeSubmitLogsCancel_RealProcesses_BothEndStatesInLs()
    {
        // Log in with the token the first start printed; the config file is written 0600.
        var login = await _server.CliAsync("login", "--server", _server.Url, "--token", _server.AdminToken);
        Assert.True(login.ExitCode == 0, login + "\n--- server\n" + _server.Output);
        Assert.Contains("Logged in", login.Stdout);
        var config = Path.Combine(_server.Root, "cli-config", "gureum", "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        var me = Json<UserDto>(await _server.CliAsync("whoami", "--json"));
        Assert.Equal(Roles.Admin, me.Role);

        // A job that runs and completes; --wait follows it to its end.
        var hello = WriteSpec("hello.yaml", """
            name: hello
            resources:
              cpus: 1
              memory: 256Mi
            run: echo hello from gureum && sleep 1
            """);
        var done = Json<JobDto>(await _server.CliAsync(JobTimeout, "submit", hello, "--wait", "--json"));
        Assert.Equal(JobStatuses.Completed, done.Status);
        Assert.NotNull(done.StartedAt);
        Assert.True(done.EndedAt >= done.StartedAt!.Value.AddSeconds(0.9), $"ran from {done.StartedAt} to {done.EndedAt}, shorter than its sleep 1");

        var logs = await _server.CliAsync("logs", done.Id);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal("hello from gureum\n", logs.Stdout);

        // A long job, cancelled while it runs.
        var sleeper = WriteSpec("sleeper.yaml", """
            name: sleeper
            resources: {cpus: 1, memory: 256Mi}
            run: echo started && sleep 600
            """);
        var submitted = Json<JobDto>(await _server.CliAsync("submit", sleeper, "--json"));
        var running = await WaitForAsync(submitted.Id, j => j.Status == JobStatuses.Running, "Running");
        Assert.NotEmpty(running.Nodes);
        var cancel = await _server.CliAsync("cancel", submitted.Id);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        var cancelled = await WaitForAsync(submitted.Id, j => j.IsTerminal(), "ended");
        Assert.Equal(JobStatuses.Cancelled, cancelled.Status);
        Assert.True(cancelled.EndedAt - cancelled.StartedAt < TimeSpan.FromSeconds(120), "cancel did not stop the 600 s sleep");

        // A job that fails: submit --wait exits with the documented "job failed" code.
        var failing = WriteSpec("fail.yaml", "name: fails\nresources: {memory: 256Mi}\nrun: echo oops >&2; exit 3\n");
        var failed = await _server.CliAsync(JobTimeout, "submit", failing, "--wait");
        Assert.True(failed.ExitCode == ExitCodes.JobFailed, failed.ToString());
        Assert.Contains("Failed", failed.Stderr);

        // ls shows every end state; the human table too.
        var all = Json<JobDto[]>(await _server.CliAsync("ls", "--all", "--json"));
        Assert.Equal(JobStatuses.Completed, all.Single(j => j.Id == done.Id).Status);
        Assert.Equal(JobStatuses.Cancelled, all.Single(j => j.Id == submitted.Id).Status);
        var failedJob = all.Single(j => j.Name == "fails");
        Assert.Equal(JobStatuses.Failed, failedJob.Status);
        var errLogs = await _server.CliAsync("logs", failedJob.Id, "--stderr");
        Assert.Equal("oops\n", errLogs.Stdout);
        var table = await _server.CliAsync("ls", "--all");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(done.Id, table.Stdout);
        Assert.Contains("Cancelled", table.Stdout);

        var onlyCancelled = Json<JobDto[]>(await _server.CliAsync("ls", "--all", "--status", "cancelled", "--json"));
        Assert.Equal([submitted.Id], onlyCancelled.Select(j => j.Id));
    }

    [Fact]
    public async Task WhyAndDryRun_RealCli_TablesAndJson()
    {
        var login = await _server.CliAsync("login", "--server", _server.Url, "--token", _server.AdminToken);
        Assert.True(login.ExitCode == 0, login.ToString());
        var spec = WriteSpec("probe.yaml", """
            name: probe
            resources: {cpus: 1, memory: 256Mi}
            time_limit: 5m
            run: sleep 1
            """);

        // Dry run: a table for people, the DTO for scripts; nothing is submitted.
        var table = await _server.CliAsync("submit", spec, "--dry-run");
        Assert.True(table.ExitCode == 0, table.ToString());
        foreach (var line in new[] { "Dry run (nothing submitted): policy static", "starts in", "runs for", "costs", "Why: fits; on ", "Duration model: spec fallback" })
            Assert.Contains(line, table.Stdout);
        var dry = Json<DryRunDto>(await _server.CliAsync("submit", spec, "--dry-run", "--json"));
        Assert.False(dry.Submitted);
        Assert.True(dry.DurationSeconds!.Low <= dry.DurationSeconds.Estimate && dry.DurationSeconds.Estimate <= dry.DurationSeconds.High);
        Assert.Equal(300, dry.DurationSeconds.High, 0); // the time limit: no job has finished yet
        Assert.Empty(Json<JobDto[]>(await _server.CliAsync("ls", "--all", "--json")));

        // why: the job's decisions, as a table and as JSON.
        var job = Json<JobDto>(await _server.CliAsync("submit", spec, "--json"));
        await WaitForAsync(job.Id, j => j.IsTerminal(), "ended");
        var why = await _server.CliAsync("why", job.Id);
        Assert.True(why.ExitCode == 0, why.ToString());
        Assert.Contains($"{job.Id} (probe): Completed at ", why.Stdout);
        foreach (var word in new[] { "JobSubmitted", "JobStarted", "JobCompleted", "OnDemand", "fits; on " })
            Assert.Contains(word, why.Stdout);
        var dto = Json<JobWhyDto>(await _server.CliAsync("why", job.Id, "--json"));
        Assert.Equal(["JobSubmitted", "JobStarted", "JobCompleted"], dto.Timeline.Select(s => s.Kind));
        Assert.NotNull(dto.Timeline[1].Offer);

        var missing = await _server.CliAsync("why", "no-such-job");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("To fix:", missing.Stderr);
    }

    [Fact]
    public async Task SubmitWait_ProcessExitCodes_ShownInShowAndLs()
    {
        Assert.Equal(0, (await _server.CliAsync("login", "--server", _server.Url, "--token", _server.AdminToken)).ExitCode);
        var ok = Json<JobDto>(await _server.CliAsync(JobTimeout, "submit", WriteSpec("ok.yaml", "resources: {memory: 256Mi}\nrun: true\n"), "--wait", "--json"));
        var bad = await _server.CliAsync(JobTimeout, "submit", WriteSpec("bad.yaml", "resources: {memory: 256Mi}\nrun: exit 3\n"), "--wait", "--json");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(ExitCodes.JobFailed, bad.ExitCode);
        Assert.Equal(3, JsonSerializer.Deserialize<JobDto>(bad.Stdout, GureumJson.Options)!.ExitCode);
    }

    [Fact]
    public async Task Submit_InvalidSpec_EveryErrorWithLineAndExitCode2()
    {
        Assert.Equal(0, (await _server.CliAsync("login", "--server", _server.Url, "--token", _server.AdminToken)).ExitCode);
        var bad = WriteSpec("bad.yaml", "name: bad\nresources:\n  gpus: A100:x\n  memroy: 4Gi\nrun: echo x\n");

        var run = await _server.CliAsync("submit", bad);

        Assert.True(run.ExitCode == ExitCodes.BadInput, run.ToString());
        Assert.Contains("resources.gpus: \"A100:x\" is not a count (line 3, col 9)", run.Stderr);
        Assert.Contains("did you mean \"memory\"", run.Stderr);
        Assert.Contains("To fix:", run.Stderr);
        Assert.Empty(Json<JobDto[]>(await _server.CliAsync("ls", "--all", "--json")));
    }

    [Fact]
    public async Task Commands_BadTokenAndUnknownJob_DocumentedExitCodes()
    {
        var badLogin = await _server.CliAsync("login", "--server", _server.Url, "--token", "not-a-real-token-000000");
        Assert.True(badLogin.ExitCode == ExitCodes.AuthFailed, badLogin.ToString());
        Assert.Contains("To fix:", badLogin.Stderr);

        Assert.Equal(0, (await _server.CliAsync("login", "--server", _server.Url, "--token", _server.AdminToken)).ExitCode);
        var missing = await _server.CliAsync("show", "no-such-job");
        Assert.True(missing.ExitCode == ExitCodes.NotFound, missing.ToString());

        // release: documented exit codes (a held job's release is tested through the API in Gureum.Server.Tests).
        var noJob = await _server.CliAsync("release", "no-such-job");
        Assert.True(noJob.ExitCode == ExitCodes.NotFound, noJob.ToString());
        var done = Json<JobDto>(await _server.CliAsync(JobTimeout, "submit", WriteSpec("done.yaml", "resources: {memory: 256Mi}\nrun: true\n"), "--wait", "--json"));
        var notHeld = await _server.CliAsync("release", done.Id);
        Assert.True(notHeld.ExitCode == ExitCodes.Rejected, notHeld.ToString());
        Assert.Contains("not held", notHeld.Stderr, StringComparison.Ordinal);
        Assert.Contains("To fix:", notHeld.Stderr, StringComparison.Ordinal);

        foreach (var cmd in new[] { "nodes", "offers", "labs", "users", "quota" })
        {
            var r = await _server.CliAsync(cmd, "--json");
            Assert.True(r.ExitCode == 0, $"{cmd}: {r}");
            Assert.StartsWith("[", r.Stdout.TrimStart());
            var human = await _server.CliAsync(cmd);
            Assert.True(human.ExitCode == 0, $"{cmd}: {human}");
        }
        var nodes = Json<NodeDto[]>(await _server.CliAsync("nodes", "--json"));
        Assert.NotEmpty(nodes); // the local backend's node: this machine
    }
}
