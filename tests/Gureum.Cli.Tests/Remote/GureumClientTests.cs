using System.Net;
using System.Text;
using Gureum.Contracts.Api;
using Gureum.Contracts.Client;

namespace Gureum.Cli.Tests.Remote;

public sealed class GureumClientTests
{
    private const string Job = """{"id":"j-7","user":"alice","lab":"nlp","project":"default","status":"Pending","submittedAt":"2026-11-27T12:00:00Z","gpus":"A100:1"}""";

    [Fact]
    public async Task SubmitAsync_SendsYamlWithBearerToken_ReturnsJob()
    {
        string? auth = null, contentType = null, body = null;
        await using var server = new LoopbackHttp(async ctx =>
        {
            auth = ctx.Request.Headers.Authorization;
            contentType = ctx.Request.ContentType;
            body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            await LoopbackHttp.WriteAsync(ctx, 201, "application/json", Job);
        });
        using var client = new GureumClient(server.Url, "tok-1");

        var job = await client.SubmitAsync("run: echo hi\n", CancellationToken.None);

        Assert.Equal("j-7", job.Id);
        Assert.Equal("Bearer tok-1", auth);
        Assert.StartsWith("application/yaml", contentType);
        Assert.Equal("run: echo hi\n", body);
    }

    [Fact]
    public async Task SubmitAsync_ProblemWithFieldErrors_ThrowsWithErrorsAndBadInputCode()
    {
        await using var server = new LoopbackHttp(ctx => LoopbackHttp.WriteAsync(ctx, 400, "application/problem+json",
            """{"title":"Invalid job spec","status":400,"detail":"job.yaml has 1 error","errors":{"resources.gpus":["resources.gpus: \"A100:x\" is not a count (line 4, col 9). To fix: write MODEL:COUNT like A100:4"]}}"""));
        using var client = new GureumClient(server.Url, "t");

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.SubmitAsync("x", CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Contains("job.yaml has 1 error", e.Message);
        Assert.Contains("(line 4, col 9)", Assert.Single(e.Errors["resources.gpus"]));
        Assert.Equal(ExitCodes.BadInput, ExitCodes.Of(e));
    }

    [Theory]
    [InlineData(401, ExitCodes.AuthFailed, "gureum login")]
    [InlineData(403, ExitCodes.AuthFailed, "lab lead")]
    [InlineData(404, ExitCodes.NotFound, "gureum ls --all")]
    [InlineData(429, ExitCodes.Rejected, "quota")]
    [InlineData(409, ExitCodes.Rejected, "quota")]
    [InlineData(500, ExitCodes.Failure, "server's log")]
    public async Task GetJobAsync_ErrorStatus_MapsToExitCodeAndFix(int status, int exit, string fix)
    {
        await using var server = new LoopbackHttp(ctx => LoopbackHttp.WriteAsync(ctx, status, "application/problem+json",
            $$"""{"title":"t{{status}}","status":{{status}},"reason":"lab nlp has 10 of 10 queued jobs"}"""));
        using var client = new GureumClient(server.Url, "t");

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.GetJobAsync("j-1", CancellationToken.None));

        Assert.Equal(exit, ExitCodes.Of(e));
        Assert.Contains(fix, e.Fix);
        Assert.Contains($"t{status}: lab nlp has 10 of 10 queued jobs", e.Message);
    }

    [Fact]
    public async Task GetJobAsync_DetailWithServersFix_KeepsServersFixAndPathOnly()
    {
        await using var server = new LoopbackHttp(ctx => LoopbackHttp.WriteAsync(ctx, 404, "application/problem+json",
            """{"title":"Not found","status":404,"detail":"Job 'x' was not found. To fix: check the id; you see only your own lab's resources."}"""));
        using var client = new GureumClient(server.Url, "t");

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.GetJobAsync("x", CancellationToken.None));

        Assert.Equal("GET /api/v1/jobs/x failed: Job 'x' was not found", e.Message);
        Assert.Equal("check the id; you see only your own lab's resources.", e.Fix);
    }

    [Fact]
    public async Task AnyCall_NothingListening_SaysServerNotReachableAndHowToFix()
    {
        var port = LoopbackHttp.FreePort();
        using var client = new GureumClient(new Uri($"http://127.0.0.1:{port}"), "t");

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.NodesAsync(CancellationToken.None));

        Assert.True(e.IsUnreachable);
        Assert.Equal($"server not reachable at http://127.0.0.1:{port}", e.Message);
        Assert.Equal("start it with `gureum serve` or check `gureum login --server`", e.Fix);
        Assert.Equal(ExitCodes.Unreachable, ExitCodes.Of(e));
    }

    [Fact]
    public async Task AnyCall_ServerTooSlow_TimesOutWithMessage()
    {
        await using var server = new LoopbackHttp(async ctx => { await Task.Delay(1500); await LoopbackHttp.WriteAsync(ctx, 200, "application/json", "[]"); });
        using var client = new GureumClient(server.Url, "t") { RequestTimeout = TimeSpan.FromMilliseconds(200) };

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.NodesAsync(CancellationToken.None));

        Assert.Contains("did not answer", e.Message);
        Assert.Equal(ExitCodes.Unreachable, ExitCodes.Of(e));
    }

    [Fact]
    public async Task ListAllJobsAsync_FollowsCursorsUpToMax()
    {
        var queries = new List<string>();
        await using var server = new LoopbackHttp(ctx =>
        {
            lock (queries) queries.Add(ctx.Request.QueryString.Value!);
            var cursor = (string?)ctx.Request.Query["cursor"];
            var next = cursor is null ? "\"c1\"" : cursor == "c1" ? "\"c2\"" : "null";
            var id = cursor ?? "c0";
            return LoopbackHttp.WriteAsync(ctx, 200, "application/json", $$"""{"items":[{{Job.Replace("j-7", id + "a")}},{{Job.Replace("j-7", id + "b")}}],"nextCursor":{{next}}}""");
        });
        using var client = new GureumClient(server.Url, "t");

        var jobs = await client.ListAllJobsAsync(new JobQuery { All = true, Status = "Pending" }, 5, CancellationToken.None);

        Assert.Equal(["c0a", "c0b", "c1a", "c1b", "c2a"], jobs.Select(j => j.Id));
        Assert.Contains("status=Pending", queries[0]);
        Assert.Contains("all=true", queries[0]);
        Assert.Contains("cursor=c1", queries[1]);
    }

    [Fact]
    public async Task CopyLogsAsync_StreamsChunkedBody()
    {
        string? query = null;
        await using var server = new LoopbackHttp(async ctx =>
        {
            query = ctx.Request.QueryString.Value!;
            ctx.Response.ContentType = "text/plain";
            for (var i = 0; i < 3; i++)
            {
                await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"line {i}\n"));
                await ctx.Response.Body.FlushAsync();
                await Task.Delay(20);
            }
        });
        using var client = new GureumClient(server.Url, "t");
        using var sink = new MemoryStream();

        var n = await client.CopyLogsAsync("j-1", stderr: true, follow: true, offset: 0, sink, CancellationToken.None);

        Assert.Equal("line 0\nline 1\nline 2\n", Encoding.UTF8.GetString(sink.ToArray()));
        Assert.Equal(sink.Length, n);
        Assert.Equal("?stream=stderr&follow=true", query);
    }

    [Fact]
    public async Task SubmitAsync_HtmlErrorPage_DoesNotDumpHtml()
    {
        await using var server = new LoopbackHttp(ctx => LoopbackHttp.WriteAsync(ctx, 502, "text/html", "<html><body>Bad gateway</body></html>"));
        using var client = new GureumClient(server.Url, "t");

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.SubmitAsync("run: x", CancellationToken.None));

        Assert.DoesNotContain("<html>", e.Message);
        Assert.Contains("502", e.Message);
    }

    [Fact]
    public async Task HealthAsync_NotJson_SaysItIsNotAGureumServer()
    {
        await using var server = new LoopbackHttp(ctx => LoopbackHttp.WriteAsync(ctx, 200, "text/plain", "hello"));
        using var client = new GureumClient(server.Url, null);

        var e = await Assert.ThrowsAsync<GureumApiException>(() => client.HealthAsync(CancellationToken.None));

        Assert.Contains("is a Gureum server", e.Fix);
    }
}
