using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Explanations and dry runs through a real <c>gureum serve</c> (local backend, static policy, a
/// real loopback port): a job that must wait says what it waits for; after it starts, <c>why</c>
/// shows where and why; a dry run answers intervals without creating a job, and refuses a bad spec
/// exactly like a submit.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class WhyAndDryRunTests : IAsyncLifetime
{
    private readonly ApiClient.TempDir _dir = new();
    private ServerProcess _server = null!;
    private HttpClient _admin = null!, _alice = null!, _victor = null!;
    private double _cpus;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_dir.Path);
        _admin = _server.Client((await _server.AdminToken)!);
        await ApiClient.CreateLabAsync(_admin, new LabDto("nlp", MaxQueuedJobs: 100));
        await ApiClient.CreateLabAsync(_admin, new LabDto("vision"));
        _alice = _server.Client(await ApiClient.CreateUserAsync(_admin, "alice", "nlp", Roles.Researcher));
        _victor = _server.Client(await ApiClient.CreateUserAsync(_admin, "victor", "vision", Roles.Researcher));
        var nodes = await ApiClient.GetAsync<NodeDto[]>(_admin, "api/v1/nodes");
        _cpus = Assert.Single(nodes).Cpus;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>A job that takes every CPU of the machine, so a second one must wait for it.</summary>
    private string WholeMachine(string name, double seconds, string? extra = null) =>
        $"name: {name}\nresources:\n  gpus: 0\n  cpus: {_cpus.ToString(CultureInfo.InvariantCulture)}\n  memory: 64Mi\n{extra}" +
        $"run: sleep {seconds.ToString(CultureInfo.InvariantCulture)}\n";

    private static async Task<JobWhyDto> WhyUntilAsync(HttpClient http, string id, Func<JobWhyDto, bool> done)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JobWhyDto why;
        do
        {
            why = await ApiClient.GetAsync<JobWhyDto>(http, $"api/v1/jobs/{id}/why");
            if (done(why)) return why;
            await Task.Delay(100);
        } while (DateTime.UtcNow < until);
        Assert.Fail($"why of {id} never matched; last: {JsonSerializer.Serialize(why, GureumJson.Options)}");
        return why;
    }

    private async Task<int> CountJobsAsync() => (await ApiClient.GetAsync<PageDto<JobDto>>(_admin, "api/v1/jobs?all=true&limit=1000")).Items.Count;

    [Fact]
    public async Task Why_JobThatMustWait_SaysWhatItWaitsForThenWhereItStartedAndWhy()
    {
        var blocker = await ApiClient.SubmitOkAsync(_alice, WholeMachine("blocker", 4));
        await ApiClient.WaitForAsync(_alice, blocker.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(60));
        var waiter = await ApiClient.SubmitOkAsync(_alice, WholeMachine("waiter", 0.2));

        var waiting = await WhyUntilAsync(_alice, waiter.Id, w => w.Job.WaitReason is not null);
        Assert.Equal(JobStatuses.Pending, waiting.Job.Status);
        var cpus = _cpus.ToString("0.##", CultureInfo.InvariantCulture);
        Assert.Equal($"waiting for {cpus} CPUs (no GPU): no ready node has that much free now; the fleet is fixed (policy static): it starts when jobs running on an eligible node end", waiting.Job.WaitReason);
        Assert.StartsWith("Pending for ", waiting.Summary);
        Assert.Contains(waiting.Job.WaitReason!, waiting.Summary);
        Assert.Equal(100, waiting.LabQuota!.MaxQueued);
        Assert.Equal("JobSubmitted", waiting.Timeline[0].Kind);

        // The start is committed before the process is launched and the event recorded after: wait for the event.
        var ran = await WhyUntilAsync(_alice, waiter.Id, w => w.Timeline.Any(s => s.Kind == "JobStarted"));
        var start = Assert.Single(ran.Timeline, s => s.Kind == "JobStarted");
        var node = Assert.Single(await ApiClient.GetAsync<NodeDto[]>(_admin, "api/v1/nodes"));
        Assert.Equal(node.Id, start.NodeId);
        Assert.Equal(node.Offer, start.Offer);
        Assert.Equal("OnDemand", start.Market);
        Assert.Equal(node.Zone, start.Zone);
        Assert.StartsWith($"fits; on {node.Id} ({node.Offer}, OnDemand, zone {node.Zone}", start.Message);
        Assert.True(start.At >= waiting.Timeline[0].At);
        // The stored wait reason is cleared once it runs.
        Assert.Null(ran.Job.WaitReason);
    }

    [Fact]
    public async Task DryRun_BusyMachine_ReturnsOrderedIntervalsAndCreatesNoJob()
    {
        var blocker = await ApiClient.SubmitOkAsync(_alice, WholeMachine("blocker", 30));
        await ApiClient.WaitForAsync(_alice, blocker.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(60));
        var before = await CountJobsAsync();

        using var r = await _alice.PostAsync("api/v1/jobs?dryRun=true", new StringContent(WholeMachine("probe", 1, "time_limit: 10m\n"), Encoding.UTF8, "application/yaml"));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"dry run answered {(int)r.StatusCode}: {body}");
        var d = JsonSerializer.Deserialize<DryRunDto>(body, GureumJson.Options)!;

        Assert.False(d.Submitted);
        Assert.Equal("static", d.Policy);
        foreach (var (name, i) in new[] { ("start", d.StartInSeconds!), ("duration", d.DurationSeconds!), ("cost", d.CostUsd!) })
            Assert.True(i.Low <= i.Estimate && i.Estimate <= i.High, $"{name}: {i.Low} ≤ {i.Estimate} ≤ {i.High} does not hold");
        // The machine is busy with the blocker (predicted by the no-history fallback to run 1 h): it cannot start at once.
        Assert.True(d.StartInSeconds!.Estimate > 0, $"start {d.StartInSeconds.Estimate} s on a busy machine");
        Assert.Equal(d.At.AddSeconds(d.StartInSeconds.Estimate), d.StartAt);
        // No finished jobs yet: the documented fallback, the time limit (10 min), is the duration's upper end.
        Assert.StartsWith("spec fallback", d.Predictor);
        Assert.Equal(600, d.DurationSeconds!.High, 0);
        Assert.Equal(60, d.DurationSeconds.Low, 0);
        Assert.Equal(0, d.CostUsd!.Estimate); // the local machine is priced at $0/h unless --local-price
        Assert.Contains("fits; on ", d.Explanation);
        Assert.Contains("1 running and 0 queued jobs", d.Method);
        Assert.Equal(before, await CountJobsAsync());
    }

    [Fact]
    public async Task DryRun_BadSpec_FailsExactlyLikeASubmit()
    {
        const string bad = "resources:\n  gpus: lots\nrun: sleep 1\n";
        using var submit = await ApiClient.SubmitAsync(_alice, bad);
        using var dry = await _alice.PostAsync("api/v1/jobs?dryRun=true", new StringContent(bad, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, submit.StatusCode);
        Assert.Equal(submit.StatusCode, dry.StatusCode);
        var a = JsonSerializer.Deserialize<ProblemDto>(await submit.Content.ReadAsStringAsync(), GureumJson.Options)!;
        var b = JsonSerializer.Deserialize<ProblemDto>(await dry.Content.ReadAsStringAsync(), GureumJson.Options)!;
        Assert.Equal(a.Errors!.Keys.Order(), b.Errors!.Keys.Order());
        Assert.Equal(a.Errors.Values.SelectMany(v => v), b.Errors.Values.SelectMany(v => v));
        Assert.Equal(0, await CountJobsAsync());
    }

    [Fact]
    public async Task Why_NoTokenOrAnotherLab_Is401Or404()
    {
        var job = await ApiClient.SubmitOkAsync(_alice, ApiClient.SleepSpec("mine", 0.1));
        using (var anon = _server.Client())
        using (var r = await anon.GetAsync($"api/v1/jobs/{job.Id}/why"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await _victor.GetAsync($"api/v1/jobs/{job.Id}/why"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
        using (var r = await _alice.GetAsync("api/v1/jobs/no-such-job/why"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        // The admin sees it: the 404 above was the lab rule, not a broken route.
        var why = await ApiClient.GetAsync<JobWhyDto>(_admin, $"api/v1/jobs/{job.Id}/why");
        Assert.Equal(job.Id, why.Job.Id);
    }
}
