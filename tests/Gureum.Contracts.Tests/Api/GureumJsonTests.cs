using System.Text.Json;
using Gureum.Contracts.Api;

namespace Gureum.Contracts.Tests.Api;

public sealed class GureumJsonTests
{
    [Fact]
    public void Serialize_JobDto_IsCamelCaseWithoutNulls()
    {
        var job = new JobDto
        {
            Id = "j-1", User = "alice", Lab = "nlp", Project = "qa", Status = JobStatuses.Running,
            SubmittedAt = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero), Gpus = "A100:4", Nodes = ["local"], ExitCode = null,
        };
        var json = JsonSerializer.Serialize(job, GureumJson.Options);
        Assert.Contains("\"submittedAt\":\"2026-11-27T12:00:00+00:00\"", json);
        Assert.Contains("\"nodes\":[\"local\"]", json);
        Assert.DoesNotContain("exitCode", json);
        Assert.Equal(job with { Nodes = job.Nodes }, JsonSerializer.Deserialize<JobDto>(json, GureumJson.Options)! with { Nodes = job.Nodes });
    }

    [Fact]
    public void Deserialize_PageOfJobs_ReadsItemsAndCursor()
    {
        const string json = """{"items":[{"id":"a","user":"u","lab":"l","project":"p","status":"Completed","submittedAt":"2026-11-27T12:00:00Z","gpus":"0","exitCode":0}],"nextCursor":"c2"}""";
        var page = JsonSerializer.Deserialize<PageDto<JobDto>>(json, GureumJson.Options)!;
        Assert.Equal("c2", page.NextCursor);
        var j = Assert.Single(page.Items);
        Assert.Equal(0, j.ExitCode);
        Assert.True(j.IsTerminal());
    }

    [Fact]
    public void Deserialize_Problem_ReadsFieldErrors()
    {
        const string json = """{"title":"Invalid job spec","status":400,"errors":{"resources.gpus":["bad"]}}""";
        var p = JsonSerializer.Deserialize<ProblemDto>(json, GureumJson.Options)!;
        Assert.Equal(400, p.Status);
        Assert.Equal(["bad"], p.Errors!["resources.gpus"]);
    }
}
