using System.Diagnostics;
using Gureum.Autoscaling;
using Gureum.Contracts.Api;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Persistence;
using Gureum.Prediction;
using Gureum.Server.Hosting;
using Gureum.Simulation.Operator;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gureum.Server.Api;

/// <summary>
/// <c>POST /api/v1/jobs?dryRun=true</c> after the spec passed the same validation as a submit:
/// the lab and queued-jobs checks a submit makes (read-only here), then <see cref="DryRun.EstimateAsync"/>
/// on the current cluster (the working set as committed in the database) with the server's policy
/// and <see cref="DurationModel"/>. Nothing is stored.
/// </summary>
/// <remarks>
/// Run time: one read of the working set, then three replays of the whole current queue plus the
/// job, each stopped when the job starts or at <see cref="Horizon"/>. Dry runs are serialized (one at
/// a time per server).
/// </remarks>
internal static class DryRunEndpoint
{
    /// <summary>Longest simulated time a dry-run replay covers; a job that has not started by then is answered "does not start".</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(7);

    public static async Task<IResult> RunAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, JobSpec spec, DateTimeOffset now, CancellationToken ct)
    {
        var options = http.RequestServices.GetRequiredService<ServerOptions>();
        var durations = http.RequestServices.GetRequiredService<DurationModel>();
        // The same refusals a submit would give, without storing anything.
        if (await store.GetLabAsync(spec.Lab, ct) is not { } lab)
            return Problems.Field("lab", $"Lab '{spec.Lab}' does not exist. Ask an admin to create it, or submit to your own lab.");
        if (lab.MaxQueuedJobs is { } max && (await store.CountQueuedByLabAsync(ct)).GetValueOrDefault(lab.Name) is var queued && queued >= max)
        {
            var reason = $"Lab '{spec.Lab}' already has {queued} queued jobs, its quota of queued jobs is {max}. Wait until some start, cancel some, or ask an admin to raise the quota.";
            return Problems.Create(StatusCodes.Status429TooManyRequests, "Over quota", $"{reason} To fix: wait for queued jobs to start or end, or ask your lab lead to raise the quota.",
                new Dictionary<string, object?> { ["reason"] = reason });
        }

        var started = Stopwatch.GetTimestamp();
        var (snapshot, source) = await SnapshotAsync(store, rt, now, ct);
        var (estimate, at) = await durations.UseAsync(now, async (predictor, when) =>
        {
            var e = await DryRun.EstimateAsync(snapshot with { Now = when }, spec with { SubmitTime = when }, () => PolicyCatalog.Create(options.EffectivePolicy),
                predictor, horizon: Horizon, ct: ct);
            return (e, when);
        }, ct);
        var took = Stopwatch.GetElapsedTime(started);
        var starts = !double.IsInfinity(estimate.StartInSeconds.Estimate);
        IntervalDto? Of(Interval i) => double.IsFinite(i.Estimate) && double.IsFinite(i.Low) && double.IsFinite(i.High) ? new IntervalDto(i.Estimate, i.Low, i.High) : null;
        DateTimeOffset? After(double seconds) => double.IsFinite(seconds) ? at.AddSeconds(seconds) : null;
        return Results.Ok(new DryRunDto
        {
            Submitted = false,
            Policy = options.EffectivePolicy,
            Predictor = durations.Describe(),
            At = at,
            StartInSeconds = Of(estimate.StartInSeconds),
            StartAt = After(estimate.StartInSeconds.Estimate),
            StartAtLow = After(estimate.StartInSeconds.Low),
            StartAtHigh = After(estimate.StartInSeconds.High),
            DurationSeconds = Of(estimate.DurationSeconds),
            CostUsd = Of(estimate.CostUsd),
            Offer = estimate.Offer,
            Market = estimate.Market?.ToString(),
            GpuModel = estimate.GpuModel,
            Explanation = starts ? estimate.Explanation : $"does not start within {Horizon.TotalDays:0} days of simulated time: {estimate.Explanation}",
            Method = $"3 replays (every other job at the duration predictor's low, estimate and high) of {snapshot.Running.Count} running and {snapshot.Pending.Count} queued jobs " +
                     $"on {snapshot.Nodes.Count} nodes from {source}, policy {options.EffectivePolicy}, horizon {Horizon.TotalDays:0} days, each stopped when the new job started; " +
                     $"nodes on their way are taken as ready, other jobs run for their predicted time; took {took.TotalMilliseconds:0} ms",
        });
    }

    /// <summary>The cluster now, as committed: the working set (pending and running jobs, alive
    /// nodes, quotas, spot trouble) read in one consistent transaction, the way a new leader loads it.
    /// Any replica can answer, and the answer agrees with what the API shows.</summary>
    private static async Task<(ClusterSnapshot Snapshot, string Source)> SnapshotAsync(IControlPlaneStore store, ControlPlaneRuntime rt, DateTimeOffset now, CancellationToken ct)
    {
        var cluster = await store.OpenClusterStoreAsync(rt.Offers, new DurableClusterStoreOptions(), now, ct);
        return (await cluster.SnapshotAsync(now, ct), "the database");
    }
}
