using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gureum.Contracts.Api;

namespace Gureum.Contracts.Client;

/// <summary>
/// A failed API call, said the way a user can act on: what went wrong (<see cref="Exception.Message"/>),
/// the field errors of a ProblemDetails answer, and how to fix it.
/// </summary>
public sealed class GureumApiException : Exception
{
    public GureumApiException(string message, string? fix, HttpStatusCode? status = null, IReadOnlyDictionary<string, string[]>? errors = null, Exception? inner = null)
        : base(message, inner)
    {
        Fix = fix;
        Status = status;
        Errors = errors ?? new Dictionary<string, string[]>();
    }

    /// <summary>How to fix it.</summary>
    public string? Fix { get; }

    /// <summary>HTTP status of the answer; null when no answer came (server not reachable).</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>Messages per field path (ProblemDetails <c>errors</c>).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>No answer: the server could not be reached.</summary>
    public bool IsUnreachable => Status is null;
}

/// <summary>
/// Typed client of the Gureum REST API (TEAM.md contract C). Every method throws
/// <see cref="GureumApiException"/> on a non-success answer or when the server is not reachable;
/// a retry helps only for the latter and for 5xx answers. Thread-safe like <see cref="HttpClient"/>.
/// </summary>
public sealed class GureumClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Timeout of every call except log following (which runs until the job ends).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A client of the server at <paramref name="server"/> with a bearer token (null: none).</summary>
    public GureumClient(Uri server, string? token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _ownsHttp = true;
        Configure(_http, server, token);
    }

    /// <summary>A client over an existing <see cref="HttpClient"/> (e.g. from IHttpClientFactory or a test host), which is not disposed.</summary>
    public GureumClient(HttpClient http, Uri server, string? token)
    {
        _http = http;
        Configure(_http, server, token);
    }

    /// <summary>Server base address.</summary>
    public Uri Server { get; private set; } = null!;

    private void Configure(HttpClient http, Uri server, string? token)
    {
        Server = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        http.BaseAddress = Server;
        http.Timeout = Timeout.InfiniteTimeSpan; // per call instead, so log following can run long
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("gureum-cli", typeof(GureumClient).Assembly.GetName().Version?.ToString() ?? "0"));
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    /// <summary><c>GET /healthz</c>.</summary>
    public Task<HealthDto> HealthAsync(CancellationToken ct) => GetAsync<HealthDto>("healthz", ct);

    /// <summary><c>GET /api/v1/whoami</c>.</summary>
    public Task<UserDto> WhoAmIAsync(CancellationToken ct) => GetAsync<UserDto>("api/v1/whoami", ct);

    /// <summary><c>POST /api/v1/jobs</c> with the YAML as the body.</summary>
    public async Task<JobDto> SubmitAsync(string specYaml, CancellationToken ct)
    {
        using var content = new StringContent(specYaml, Encoding.UTF8, "application/yaml");
        return await SendAsync<JobDto>(HttpMethod.Post, "api/v1/jobs", content, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /api/v1/jobs?dryRun=true</c>: what the server would do with the spec
    /// (predicted start, duration and cost with intervals, where and why), without submitting it.
    /// A bad spec fails exactly as a submit does.</summary>
    public async Task<DryRunDto> SubmitDryRunAsync(string specYaml, CancellationToken ct)
    {
        using var content = new StringContent(specYaml, Encoding.UTF8, "application/yaml");
        return await SendAsync<DryRunDto>(HttpMethod.Post, "api/v1/jobs?dryRun=true", content, ct).ConfigureAwait(false);
    }

    /// <summary><c>GET /api/v1/jobs</c>: one page.</summary>
    public Task<PageDto<JobDto>> ListJobsAsync(JobQuery query, CancellationToken ct) =>
        GetAsync<PageDto<JobDto>>("api/v1/jobs" + query.ToQueryString(), ct);

    /// <summary>Every job matching <paramref name="query"/>, following cursors, up to <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<JobDto>> ListAllJobsAsync(JobQuery query, int max, CancellationToken ct)
    {
        var all = new List<JobDto>();
        var q = query with { Limit = Math.Min(query.Limit ?? 200, max) };
        while (true)
        {
            var page = await ListJobsAsync(q, ct).ConfigureAwait(false);
            all.AddRange(page.Items);
            if (page.NextCursor is null || all.Count >= max || page.Items.Count == 0) break;
            q = q with { Cursor = page.NextCursor };
        }
        return all.Count > max ? all.GetRange(0, max) : all;
    }

    /// <summary><c>GET /api/v1/jobs/{id}</c>.</summary>
    public Task<JobDto> GetJobAsync(string id, CancellationToken ct) => GetAsync<JobDto>($"api/v1/jobs/{Uri.EscapeDataString(id)}", ct);

    /// <summary><c>GET /api/v1/jobs/{id}/why</c>: the job's state, wait reason and decision history.</summary>
    public Task<JobWhyDto> WhyAsync(string id, CancellationToken ct) => GetAsync<JobWhyDto>($"api/v1/jobs/{Uri.EscapeDataString(id)}/why", ct);

    /// <summary><c>POST /api/v1/jobs/{id}/cancel</c>.</summary>
    public Task<JobDto> CancelAsync(string id, CancellationToken ct) =>
        SendAsync<JobDto>(HttpMethod.Post, $"api/v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, ct);

    /// <summary><c>POST /api/v1/jobs/{id}/release</c>: an admin releases a held job (409 when it is not held).</summary>
    public Task<JobDto> ReleaseAsync(string id, CancellationToken ct) =>
        SendAsync<JobDto>(HttpMethod.Post, $"api/v1/jobs/{Uri.EscapeDataString(id)}/release", null, ct);

    /// <summary><c>GET /api/v1/jobs/{id}/events</c>.</summary>
    public Task<PageDto<EventDto>> JobEventsAsync(string id, CancellationToken ct) =>
        GetAsync<PageDto<EventDto>>($"api/v1/jobs/{Uri.EscapeDataString(id)}/events", ct);

    /// <summary>
    /// <c>GET /api/v1/jobs/{id}/logs</c>, copied to <paramref name="output"/> as it arrives. With
    /// <paramref name="follow"/>, the server streams until the job ends. Returns the bytes copied.
    /// </summary>
    public async Task<long> CopyLogsAsync(string id, bool stderr, bool follow, long offset, Stream output, CancellationToken ct)
    {
        var url = $"api/v1/jobs/{Uri.EscapeDataString(id)}/logs?stream={(stderr ? "stderr" : "stdout")}" +
                  (follow ? "&follow=true" : "") + (offset > 0 ? $"&offset={offset}" : "");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (!follow) cts.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token, ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
        var buffer = new byte[16 * 1024];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer, cts.Token).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, n), cts.Token).ConfigureAwait(false);
            await output.FlushAsync(cts.Token).ConfigureAwait(false);
            total += n;
        }
        return total;
    }

    /// <summary><c>GET /api/v1/nodes</c>.</summary>
    public Task<NodeDto[]> NodesAsync(CancellationToken ct) => GetAsync<NodeDto[]>("api/v1/nodes", ct);

    /// <summary><c>GET /api/v1/offers</c>.</summary>
    public Task<OfferDto[]> OffersAsync(CancellationToken ct) => GetAsync<OfferDto[]>("api/v1/offers", ct);

    /// <summary><c>GET /api/v1/labs</c>.</summary>
    public Task<LabDto[]> LabsAsync(CancellationToken ct) => GetAsync<LabDto[]>("api/v1/labs", ct);

    /// <summary><c>POST /api/v1/labs</c> (admin).</summary>
    public Task<LabDto> CreateLabAsync(LabDto lab, CancellationToken ct) => SendJsonAsync<LabDto, LabDto>(HttpMethod.Post, "api/v1/labs", lab, ct);

    /// <summary><c>PUT /api/v1/labs/{name}</c> (admin).</summary>
    public Task<LabDto> UpdateLabAsync(LabDto lab, CancellationToken ct) =>
        SendJsonAsync<LabDto, LabDto>(HttpMethod.Put, $"api/v1/labs/{Uri.EscapeDataString(lab.Name)}", lab, ct);

    /// <summary><c>GET /api/v1/users</c>.</summary>
    public Task<UserDto[]> UsersAsync(CancellationToken ct) => GetAsync<UserDto[]>("api/v1/users", ct);

    /// <summary><c>POST /api/v1/users</c>: the new user's token, shown once.</summary>
    public Task<CreateUserResponse> CreateUserAsync(CreateUserRequest request, CancellationToken ct) =>
        SendJsonAsync<CreateUserRequest, CreateUserResponse>(HttpMethod.Post, "api/v1/users", request, ct);

    /// <summary><c>GET /api/v1/quotas</c>.</summary>
    public Task<QuotaDto[]> QuotasAsync(CancellationToken ct) => GetAsync<QuotaDto[]>("api/v1/quotas", ct);

    /// <summary><c>GET /api/v1/events</c>.</summary>
    public Task<PageDto<EventDto>> EventsAsync(string? jobId, long? after, int? limit, CancellationToken ct)
    {
        var q = new List<string>();
        if (jobId is not null) q.Add("job=" + Uri.EscapeDataString(jobId));
        if (after is { } a) q.Add($"after={a}");
        if (limit is { } l) q.Add($"limit={l}");
        return GetAsync<PageDto<EventDto>>("api/v1/events" + (q.Count > 0 ? "?" + string.Join('&', q) : ""), ct);
    }

    private Task<T> GetAsync<T>(string url, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, url, null, ct);

    private async Task<TResponse> SendJsonAsync<TRequest, TResponse>(HttpMethod method, string url, TRequest body, CancellationToken ct)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body, GureumJson.Options), Encoding.UTF8, "application/json");
        return await SendAsync<TResponse>(method, url, content, ct).ConfigureAwait(false);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string url, HttpContent? content, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(text, GureumJson.Options)
                   ?? throw new GureumApiException($"{method} {url} answered an empty body", "check the server version matches the CLI (gureum --version)", response.StatusCode);
        }
        catch (JsonException e)
        {
            throw new GureumApiException($"{method} {url} answered something that is not the expected JSON: {e.Message}",
                $"check that {Server} is a Gureum server of this version", response.StatusCode, inner: e);
        }
    }

    /// <summary>Sends; turns "no answer" and non-success answers into <see cref="GureumApiException"/>.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken linked, CancellationToken caller)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, linked).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new GureumApiException($"{Server} did not answer {request.Method} {request.RequestUri} within {RequestTimeout.TotalSeconds:0} s",
                "check the server is running and not overloaded (gureum serve logs), then retry", inner: e);
        }
        if (response.IsSuccessStatusCode) return response;
        try
        {
            throw await ProblemAsync(request, response, linked).ConfigureAwait(false);
        }
        finally
        {
            response.Dispose();
        }
    }

    private GureumApiException Unreachable(HttpRequestException e)
    {
        var refused = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError;
        var why = refused ? "" : $" ({e.Message})";
        return new GureumApiException($"server not reachable at {Server.AbsoluteUri.TrimEnd('/')}{why}",
            "start it with `gureum serve` or check `gureum login --server`", inner: e);
    }

    private async Task<GureumApiException> ProblemAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken ct)
    {
        var status = response.StatusCode;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            body = "";
        }
        ProblemDto? problem = null;
        if (body.TrimStart().StartsWith('{'))
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemDto>(body, GureumJson.Options);
            }
            catch (JsonException)
            {
                // Not a problem document; the status line and body text say what we know.
            }
        }
        var what = problem?.Detail ?? problem?.Title ?? (body.Length is > 0 and < 500 && !body.TrimStart().StartsWith('<') ? body.Trim() : null)
                   ?? $"{(int)status} {response.ReasonPhrase}";
        if (problem?.Reason is { } reason && !what.Contains(reason, StringComparison.Ordinal)) what += $": {reason}";
        // The server's own "To fix:" is more specific than ours: keep it as the fix.
        string? serverFix = null;
        var at = what.IndexOf("To fix:", StringComparison.Ordinal);
        if (at >= 0)
        {
            serverFix = what[(at + "To fix:".Length)..].Trim();
            what = what[..at].TrimEnd();
        }
        var fix = serverFix is { Length: > 0 } ? serverFix : status switch
        {
            HttpStatusCode.Unauthorized => "log in with a valid token: gureum login --server URL --token TOKEN (the admin token is printed on the server's first start)",
            HttpStatusCode.Forbidden => "your role may not do this; ask an admin or your lab lead",
            HttpStatusCode.NotFound => "check the id or name (gureum ls --all lists the jobs you may see)",
            HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests => "wait for your lab's queued jobs to start or finish, or ask your lab lead to raise the quota (gureum quota)",
            HttpStatusCode.BadRequest when problem?.Errors is { Count: > 0 } => "correct each field listed above and submit again",
            HttpStatusCode.RequestEntityTooLarge => "send a smaller request (job specs are small YAML files)",
            >= HttpStatusCode.InternalServerError => "this is a server fault; retry, and if it persists look at the server's log",
            _ => null,
        };
        var target = request.RequestUri is { IsAbsoluteUri: true } u ? u.PathAndQuery : "/" + request.RequestUri?.OriginalString.TrimStart('/');
        return new GureumApiException($"{request.Method} {target} failed: {what.TrimEnd('.')}", fix, status, problem?.Errors);
    }
}

/// <summary>Filters of <c>GET /api/v1/jobs</c>.</summary>
public sealed record JobQuery
{
    /// <summary>Status name (<see cref="JobStatuses"/>).</summary>
    public string? Status { get; init; }
    public string? Lab { get; init; }
    public string? User { get; init; }
    /// <summary>Widen to everything the role may see (researcher: still own jobs only).</summary>
    public bool All { get; init; }
    public int? Limit { get; init; }
    public string? Cursor { get; init; }

    /// <summary>The query string, with a leading '?' when not empty.</summary>
    public string ToQueryString()
    {
        var q = new List<string>();
        if (Status is not null) q.Add("status=" + Uri.EscapeDataString(Status));
        if (Lab is not null) q.Add("lab=" + Uri.EscapeDataString(Lab));
        if (User is not null) q.Add("user=" + Uri.EscapeDataString(User));
        if (All) q.Add("all=true");
        if (Limit is { } l) q.Add($"limit={l}");
        if (Cursor is not null) q.Add("cursor=" + Uri.EscapeDataString(Cursor));
        return q.Count == 0 ? "" : "?" + string.Join('&', q);
    }
}
