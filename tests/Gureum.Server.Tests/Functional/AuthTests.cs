using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// The auth matrix against a real <c>gureum serve</c>: every /api endpoint without a token and with
/// a bad token (401), with another lab's token (404 for that lab's resources) and with a role that
/// may not (403); and that the allowed calls do succeed, so a 4xx is not just a broken endpoint.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AuthTests : IAsyncLifetime
{
    private readonly ApiClient.TempDir _dir = new();
    private ServerProcess _server = null!;
    private HttpClient _admin = null!;
    private string _aliceToken = null!, _bobToken = null!, _nlpLeadToken = null!, _victorToken = null!, _visionLeadToken = null!;
    private string _aliceJob = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_dir.Path);
        var token = await _server.AdminToken;
        Assert.False(string.IsNullOrEmpty(token), $"first start printed no admin token:\n{_server.Output}");
        _admin = _server.Client(token);
        await ApiClient.CreateLabAsync(_admin, new LabDto("nlp"));
        await ApiClient.CreateLabAsync(_admin, new LabDto("vision"));
        _nlpLeadToken = await ApiClient.CreateUserAsync(_admin, "nlp-lead", "nlp", Roles.LabLead);
        _visionLeadToken = await ApiClient.CreateUserAsync(_admin, "vision-lead", "vision", Roles.LabLead);
        _aliceToken = await ApiClient.CreateUserAsync(_server.Client(_nlpLeadToken), "alice", "nlp", Roles.Researcher);
        _bobToken = await ApiClient.CreateUserAsync(_admin, "bob", "nlp", Roles.Researcher);
        _victorToken = await ApiClient.CreateUserAsync(_admin, "victor", "vision", Roles.Researcher);
        _aliceJob = (await ApiClient.SubmitOkAsync(_server.Client(_aliceToken), ApiClient.SleepSpec("alice-job", 60))).Id;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Every /api route with a body that would be valid for an allowed caller.</summary>
    private IEnumerable<(HttpMethod Method, string Path, HttpContent? Body)> AllApiRoutes() =>
    [
        (HttpMethod.Get, "api/v1/whoami", null),
        (HttpMethod.Post, "api/v1/jobs", new StringContent(ApiClient.SleepSpec("x", 1), Encoding.UTF8, "application/yaml")),
        (HttpMethod.Get, "api/v1/jobs", null),
        (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}", null),
        (HttpMethod.Post, $"api/v1/jobs/{_aliceJob}/cancel", null),
        (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/logs", null),
        (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/events", null),
        (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/why", null),
        (HttpMethod.Post, "api/v1/jobs?dryRun=true", new StringContent(ApiClient.SleepSpec("x", 1), Encoding.UTF8, "application/yaml")),
        (HttpMethod.Get, "api/v1/nodes", null),
        (HttpMethod.Get, "api/v1/offers", null),
        (HttpMethod.Get, "api/v1/labs", null),
        (HttpMethod.Post, "api/v1/labs", JsonContent.Create(new LabDto("robotics"), options: GureumJson.Options)),
        (HttpMethod.Put, "api/v1/labs/nlp", JsonContent.Create(new LabDto("nlp", 4, 100), options: GureumJson.Options)),
        (HttpMethod.Get, "api/v1/users", null),
        (HttpMethod.Post, "api/v1/users", JsonContent.Create(new CreateUserRequest("carol", "nlp", Roles.Researcher), options: GureumJson.Options)),
        (HttpMethod.Get, "api/v1/quotas", null),
        (HttpMethod.Get, "api/v1/events", null),
    ];

    private async Task<(HttpStatusCode Status, string Body, string? ContentType)> SendAsync(string? authorization, HttpMethod method, string path, HttpContent? body)
    {
        using var http = _server.Client();
        using var req = new HttpRequestMessage(method, path) { Content = body };
        if (authorization is not null) req.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var r = await http.SendAsync(req);
        return (r.StatusCode, await r.Content.ReadAsStringAsync(), r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task EveryApiRoute_NoOrBadToken_Is401ProblemDetails()
    {
        foreach (var auth in new string?[] { null, "Bearer not-a-token", "Bearer " + _aliceToken + "x", "Basic YWRtaW46YWRtaW4=" })
            foreach (var (method, path, body) in AllApiRoutes())
            {
                var (status, text, type) = await SendAsync(auth, method, path, body);
                Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {path} with '{auth}' answered {(int)status}: {text}");
                Assert.Equal("application/problem+json", type);
                Assert.Contains("\"status\":401", text.Replace(" ", ""), StringComparison.Ordinal);
            }
    }

    [Fact]
    public async Task JobRoutes_AnotherLabsToken_Are404()
    {
        foreach (var token in new[] { _victorToken, _visionLeadToken })
            foreach (var (method, path) in new[]
            {
                (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}"),
                (HttpMethod.Post, $"api/v1/jobs/{_aliceJob}/cancel"),
                (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/logs"),
                (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/events"),
                (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/why"),
                (HttpMethod.Get, $"api/v1/events?job={_aliceJob}"),
            })
            {
                var (status, text, type) = await SendAsync("Bearer " + token, method, path, null);
                Assert.True(status == HttpStatusCode.NotFound, $"{method} {path} by another lab answered {(int)status}: {text}");
                Assert.Equal("application/problem+json", type);
            }
        // Another lab's lab and users are not visible either.
        var lead = _server.Client(_visionLeadToken);
        using (var r = await lead.PostAsJsonAsync("api/v1/users", new CreateUserRequest("mallory", "nlp", Roles.Researcher), GureumJson.Options))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        var labs = await ApiClient.GetAsync<LabDto[]>(lead, "api/v1/labs");
        Assert.Equal(["vision"], labs.Select(l => l.Name));
        var quotas = await ApiClient.GetAsync<QuotaDto[]>(lead, "api/v1/quotas");
        Assert.Equal(["vision"], quotas.Select(q => q.Lab));
        var jobs = await ApiClient.GetAsync<PageDto<JobDto>>(lead, "api/v1/jobs?all=true");
        Assert.DoesNotContain(jobs.Items, j => j.Id == _aliceJob);
        // The job is still alive: none of the 404s cancelled it.
        var job = await ApiClient.GetAsync<JobDto>(_server.Client(_aliceToken), $"api/v1/jobs/{_aliceJob}");
        Assert.False(job.CancelRequested);
    }

    [Fact]
    public async Task AdminOnlyRoutes_LabLeadOrResearcher_Are403()
    {
        foreach (var token in new[] { _aliceToken, _nlpLeadToken })
        {
            foreach (var (method, path, body) in new (HttpMethod, string, HttpContent?)[]
            {
                (HttpMethod.Post, "api/v1/labs", JsonContent.Create(new LabDto("robotics"), options: GureumJson.Options)),
                (HttpMethod.Put, "api/v1/labs/nlp", JsonContent.Create(new LabDto("nlp", 1000, 100000), options: GureumJson.Options)),
            })
            {
                var (status, text, type) = await SendAsync("Bearer " + token, method, path, body);
                Assert.True(status == HttpStatusCode.Forbidden, $"{method} {path} answered {(int)status}: {text}");
                Assert.Equal("application/problem+json", type);
            }
        }
        // A researcher may not create users, nor list them, nor act on a lab-mate's job.
        foreach (var (method, path, body) in new (HttpMethod, string, HttpContent?)[]
        {
            (HttpMethod.Post, "api/v1/users", JsonContent.Create(new CreateUserRequest("carol", "nlp", Roles.Researcher), options: GureumJson.Options)),
            (HttpMethod.Get, "api/v1/users", null),
            (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}", null),
            (HttpMethod.Get, $"api/v1/jobs/{_aliceJob}/why", null),
            (HttpMethod.Post, $"api/v1/jobs/{_aliceJob}/cancel", null),
            (HttpMethod.Get, "api/v1/jobs?user=alice", null),
        })
        {
            var (status, text, _) = await SendAsync("Bearer " + _bobToken, method, path, body);
            Assert.True(status == HttpStatusCode.Forbidden, $"bob: {method} {path} answered {(int)status}: {text}");
        }
        // A lab lead may not make an admin.
        var (s, t, _) = await SendAsync("Bearer " + _nlpLeadToken, HttpMethod.Post, "api/v1/users",
            JsonContent.Create(new CreateUserRequest("eve", "nlp", Roles.Admin), options: GureumJson.Options));
        Assert.True(s == HttpStatusCode.Forbidden, $"lab lead creating an admin answered {(int)s}: {t}");
    }

    [Fact]
    public async Task AllowedCallers_GetWhatTheirRoleSees()
    {
        var me = await ApiClient.GetAsync<UserDto>(_server.Client(_aliceToken), "api/v1/whoami");
        Assert.Equal(new UserDto("alice", "nlp", Roles.Researcher), me);
        // alice sees her job; her lab lead sees it in the lab's list; the admin sees it everywhere.
        Assert.Equal(_aliceJob, (await ApiClient.GetAsync<JobDto>(_server.Client(_aliceToken), $"api/v1/jobs/{_aliceJob}")).Id);
        Assert.Contains((await ApiClient.GetAsync<PageDto<JobDto>>(_server.Client(_nlpLeadToken), "api/v1/jobs?all=true")).Items, j => j.Id == _aliceJob);
        Assert.Contains((await ApiClient.GetAsync<PageDto<JobDto>>(_admin, "api/v1/jobs?all=true")).Items, j => j.Id == _aliceJob);
        // bob's own list does not hold alice's job.
        Assert.DoesNotContain((await ApiClient.GetAsync<PageDto<JobDto>>(_server.Client(_bobToken), "api/v1/jobs?all=true")).Items, j => j.Id == _aliceJob);
        var users = await ApiClient.GetAsync<UserDto[]>(_server.Client(_nlpLeadToken), "api/v1/users");
        Assert.All(users, u => Assert.Equal("nlp", u.Lab));
        Assert.Contains(users, u => u.Name == "alice");
        // The lab lead cancels alice's job: 202 and the request is recorded.
        using var r = await _server.Client(_nlpLeadToken).PostAsync($"api/v1/jobs/{_aliceJob}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var job = await ApiClient.WaitForAsync(_admin, _aliceJob, j => j.Status == JobStatuses.Cancelled, TimeSpan.FromSeconds(30));
        Assert.Equal(JobStatuses.Cancelled, job.Status);
    }

    [Fact]
    public async Task PublicRoutes_NoToken_Answer()
    {
        foreach (var path in new[] { "healthz", "metrics", "openapi/v1.json" })
        {
            var (status, text, _) = await SendAsync(null, HttpMethod.Get, path, null);
            Assert.True(status == HttpStatusCode.OK, $"{path} answered {(int)status}: {text}");
        }
        var (_, metrics, type) = await SendAsync(null, HttpMethod.Get, "metrics", null);
        Assert.Equal("text/plain", type);
        Assert.Contains("# TYPE gureum_decision_latency_seconds histogram", metrics, StringComparison.Ordinal);
        var (_, openapi, _) = await SendAsync(null, HttpMethod.Get, "openapi/v1.json", null);
        Assert.Contains("/api/v1/jobs/{id}/cancel", openapi, StringComparison.Ordinal);
        Assert.Contains("/api/v1/jobs/{id}/why", openapi, StringComparison.Ordinal);
    }
}

/// <summary>Server tests start real processes; run them one class at a time on 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCollection
{
    public const string Name = "server processes";
}
