using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gureum.Contracts.Api;

namespace Gureum.Server.Tests.Fixtures;

/// <summary>Small helpers over the REST API for tests.</summary>
public static class ApiClient
{
    /// <summary>A job spec that the local backend runs for <paramref name="seconds"/> with no GPU.</summary>
    public static string SleepSpec(string name, double seconds, string? lab = null) =>
        $"name: {name}\n" + (lab is null ? "" : $"lab: {lab}\n") +
        "resources:\n  gpus: 0\n  cpus: 0.1\n  memory: 64Mi\n" +
        $"run: sleep {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n";

    /// <summary>POST the YAML; returns the response (not disposed).</summary>
    public static Task<HttpResponseMessage> SubmitAsync(HttpClient http, string yaml, CancellationToken ct = default) =>
        http.PostAsync("api/v1/jobs", new StringContent(yaml, Encoding.UTF8, "application/yaml"), ct);

    /// <summary>POST the YAML and read the created job; fails the test unless 201.</summary>
    public static async Task<JobDto> SubmitOkAsync(HttpClient http, string yaml)
    {
        using var r = await SubmitAsync(http, yaml);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"submit answered {(int)r.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<JobDto>(body, GureumJson.Options)!;
    }

    /// <summary>Creates a lab as admin.</summary>
    public static async Task CreateLabAsync(HttpClient admin, LabDto lab)
    {
        using var r = await admin.PostAsJsonAsync("api/v1/labs", lab, GureumJson.Options);
        Assert.True(r.IsSuccessStatusCode, $"POST labs answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates a user; returns their token.</summary>
    public static async Task<string> CreateUserAsync(HttpClient by, string name, string lab, string role)
    {
        using var r = await by.PostAsJsonAsync("api/v1/users", new CreateUserRequest(name, lab, role), GureumJson.Options);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"POST users answered {(int)r.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<CreateUserResponse>(body, GureumJson.Options)!.Token;
    }

    /// <summary>GET and deserialize; fails the test unless 2xx.</summary>
    public static async Task<T> GetAsync<T>(HttpClient http, string path)
    {
        using var r = await http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {path} answered {(int)r.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<T>(body, GureumJson.Options)!;
    }

    /// <summary>Polls a job until <paramref name="done"/> holds or the timeout passes.</summary>
    public static async Task<JobDto> WaitForAsync(HttpClient http, string id, Func<JobDto, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        JobDto job;
        do
        {
            job = await GetAsync<JobDto>(http, $"api/v1/jobs/{id}");
            if (done(job)) return job;
            await Task.Delay(100);
        } while (DateTime.UtcNow < until);
        Assert.Fail($"job {id} did not reach the expected state within {timeout}; last: {job.Status}, wait reason: {job.WaitReason}");
        return job;
    }

    /// <summary>A temporary directory removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("gureum-server-test-").FullName;

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
