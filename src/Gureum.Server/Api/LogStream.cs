using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gureum.Server.Api;

/// <summary>
/// Job logs over HTTP: a plain read from a byte offset, or follow mode, which streams what the
/// job writes (polling its log file) until the job has ended and the file is drained.
/// </summary>
internal static class LogStream
{
    /// <summary>How often follow mode looks for new output and for the job's end.</summary>
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>Writes the file from <paramref name="offset"/>.</summary>
    public static async Task<IResult> ReadAsync(HttpContext http, string path, long offset, CancellationToken ct)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        if (!File.Exists(path)) return Results.Empty;
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset > 0) f.Seek(Math.Min(offset, f.Length), SeekOrigin.Begin);
        await f.CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }

    /// <summary>Streams the log as it grows until the job ends (or the client goes away).</summary>
    public static async Task<IResult> FollowAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, TimeProvider time,
        string jobId, string stream, long offset, CancellationToken ct)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.StartAsync(ct);
        var position = offset;
        var buffer = new byte[64 * 1024];
        while (!ct.IsCancellationRequested)
        {
            var job = await store.GetJobAsync(jobId, ct);
            if (job is null) break;
            var ended = job.Status is not (JobStatus.Pending or JobStatus.Running);
            if (await rt.Backends.LogPathAsync(job, stream, ct) is { } path && File.Exists(path))
            {
                await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (f.Length < position) position = 0; // rotated or truncated: start over
                f.Seek(position, SeekOrigin.Begin);
                int n;
                while ((n = await f.ReadAsync(buffer, ct)) > 0)
                {
                    await http.Response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
                    position += n;
                }
                await http.Response.Body.FlushAsync(ct);
            }
            if (ended) break; // drained after the end: done
            try { await Task.Delay(PollEvery, time, ct); }
            catch (OperationCanceledException) { break; }
        }
        return Results.Empty;
    }
}
