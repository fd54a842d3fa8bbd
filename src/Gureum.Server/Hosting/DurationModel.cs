using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Prediction;
using Gureum.Prediction.Duration;

namespace Gureum.Server.Hosting;

/// <summary>
/// The server's job-duration predictor for dry runs: <see cref="GbmDurationPredictor"/> (ML.NET
/// LightGbm) trained online from the store's finished jobs. Before any job has finished it falls
/// back to the spec: a declared <c>time_limit</c> L gives (estimate L, low L/10, high L), as
/// Slurm's backfill assumes a job runs to its limit; without one, 1 h (6 min–10 h), the prior of
/// the <c>gureum</c> policy's history model. Thread-safe: callers take <see cref="UseAsync"/>.
/// </summary>
/// <remarks>
/// What it learns from: completed jobs that ran once (attempts = 1), run time = end − start,
/// scaled to the job's reference GPU by the relative speed of the GPU it ran on. Jobs that were
/// preempted or requeued are left out (their wall time includes gaps). The most recent <see cref="MaxHistory"/>
/// completed jobs are read at most every <see cref="RefreshEvery"/>; each is learned from once.
/// </remarks>
public sealed class DurationModel(IControlPlaneStore store)
{
    /// <summary>Finished jobs read at first use, newest first.</summary>
    public const int MaxHistory = 6000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly GbmDurationPredictor _gbm = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private DateTimeOffset _now = DateTimeOffset.MinValue;
    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;

    /// <summary>The store is read for newly finished jobs at most this often.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);

    /// <summary>Jobs learned from so far.</summary>
    public int Observed => _seen.Count;

    /// <summary>
    /// Reads jobs that finished since the last call, then runs <paramref name="use"/> with the
    /// predictor and the time predictions must be asked at (never earlier than a previous call's:
    /// the predictor only moves forward). One caller at a time.
    /// </summary>
    public async Task<T> UseAsync<T>(DateTimeOffset now, Func<IDurationPredictor, DateTimeOffset, Task<T>> use, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await RefreshAsync(now, ct);
            if (now > _now) _now = now;
            return await use(new WithFallback(this), _now);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>What the predictor is, for the dry run's answer.</summary>
    public string Describe() => Observed == 0
        ? "spec fallback (no finished jobs yet): time_limit L → estimate L, interval L/10–L; none → 1 h (6 min–10 h)"
        : $"{_gbm.Name} v{_gbm.Version}, trained online on {Observed} finished jobs ({_gbm.Trainings} LightGbm fits; medians of similar jobs until 200 have finished)";

    private async Task RefreshAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (now - _refreshedAt < RefreshEvery) return;
        _refreshedAt = now;
        // Newest submissions first; a job submitted earlier may finish later, so every refresh
        // looks at the whole recent window and learns from the ones it has not seen.
        string? cursor = null;
        var read = 0;
        while (read < MaxHistory)
        {
            var page = await store.ListJobsAsync(new JobQuery { Statuses = [JobStatus.Completed], Limit = 1000, Cursor = cursor }, ct);
            foreach (var j in page.Items)
            {
                read++;
                if (j.Attempts != 1 || j.StartedAt is not { } s || j.EndedAt is not { } e || e <= s || !_seen.Add(j.Id)) continue;
                var speed = j.GpuModel is null ? 1 : GpuModels.SpeedOf(j.GpuModel) / GpuModels.SpeedOf(j.Spec.ReferenceGpu);
                _gbm.Observe(j.Spec, (e - s) * speed, e);
            }
            if (page.NextCursor is null) break;
            cursor = page.NextCursor;
        }
    }

    private sealed class WithFallback(DurationModel model) : IDurationPredictor
    {
        public string Name => model.Observed == 0 ? "spec-fallback" : model._gbm.Name;
        public string Version => model._gbm.Version;
        public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt) => model._gbm.Observe(spec, actual, endedAt);

        public Interval PredictSeconds(JobSpec spec, DateTimeOffset now)
        {
            if (model.Observed > 0) return model._gbm.PredictSeconds(spec, now);
            if (spec.TimeLimit is { } limit && limit > TimeSpan.Zero) return new Interval(limit.TotalSeconds, limit.TotalSeconds / 10, limit.TotalSeconds);
            return new Interval(3600, 360, 36_000);
        }
    }
}
