using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Prediction;
using Gureum.Prediction.Duration;

namespace Gureum.Server.Hosting;

/// <summary>
/// The server's job-duration predictor: one <see cref="GbmDurationPredictor"/> (ML.NET LightGbm)
/// trained online from the store's finished jobs, shared by dry runs and the <c>gureum</c> policy of
/// the control loop (<see cref="Predictor"/>), the same class the replay's <c>gureum</c> policy
/// uses. Before any job has finished it falls back to the spec: a declared <c>time_limit</c> L gives
/// (estimate L, low L/10, high L), as Slurm's backfill assumes a job runs to its limit; without one,
/// 1 h (6 min–10 h). Thread-safe.
/// </summary>
/// <remarks>
/// What it learns from: completed jobs that ran once (attempts = 1), run time = end − start,
/// scaled to the job's reference GPU by the relative speed of the GPU it ran on. Jobs that were
/// preempted or requeued are left out (their wall time includes gaps). The most recent <see cref="MaxHistory"/>
/// completed jobs are read at most every <see cref="RefreshEvery"/>; each is learned from once.
/// A dry run refreshes before it predicts; the control loop's predictions start a refresh in the
/// background when one is due, so a decision never waits for the store. Only jobs that ended before
/// the read exist in the store, so nothing from the future is learned.
/// </remarks>
public sealed class DurationModel
{
    /// <summary>Finished jobs read at first use, newest first.</summary>
    public const int MaxHistory = 6000;

    private readonly IControlPlaneStore _store;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Lock _sync = new();
    private readonly GbmDurationPredictor _gbm = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private DateTimeOffset _now = DateTimeOffset.MinValue;
    private DateTimeOffset _refreshedAt = DateTimeOffset.MinValue;
    private int _observed;

    /// <summary>Creates the model over <paramref name="store"/>; <paramref name="time"/> stamps background refreshes.</summary>
    public DurationModel(IControlPlaneStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        Predictor = new Shared(this);
    }

    /// <summary>The store is read for newly finished jobs at most this often.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);

    /// <summary>Jobs learned from so far.</summary>
    public int Observed => Volatile.Read(ref _observed);

    /// <summary>LightGbm fits so far.</summary>
    public int Trainings { get { lock (_sync) return _gbm.Trainings; } }

    /// <summary>The last failure of a background refresh, if any (the next one retries).</summary>
    public string? LastRefreshError { get; private set; }

    /// <summary>
    /// The shared predictor (thread-safe; a time earlier than one already asked is moved up to it,
    /// since the predictor only moves forward). Its <see cref="IDurationPredictor.Observe"/> is for
    /// runs the store does not hold; the control loop's <c>gureum</c> policy does not feed it
    /// (the store is where it learns from).
    /// </summary>
    public IDurationPredictor Predictor { get; }

    /// <summary>
    /// Reads jobs that finished since the last refresh, then runs <paramref name="use"/> with
    /// <see cref="Predictor"/> and the time predictions are asked at (never earlier than a previous
    /// question's).
    /// </summary>
    public async Task<T> UseAsync<T>(DateTimeOffset now, Func<IDurationPredictor, DateTimeOffset, Task<T>> use, CancellationToken ct)
    {
        await RefreshAsync(now, wait: true, ct);
        DateTimeOffset when;
        lock (_sync)
        {
            if (now > _now) _now = now;
            when = _now;
        }
        return await use(Predictor, when);
    }

    /// <summary>What the predictor is, for the dry run's answer.</summary>
    public string Describe() => Observed == 0
        ? "spec fallback (no finished jobs yet): time_limit L → estimate L, interval L/10–L; none → 1 h (6 min–10 h)"
        : $"{_gbm.Name} v{_gbm.Version}, trained online on {Observed} finished jobs ({Trainings} LightGbm fits; medians of similar jobs until 200 have finished)";

    /// <summary>Reads newly finished jobs when a refresh is due. With <paramref name="wait"/> false it
    /// returns at once when another refresh is running.</summary>
    public async Task RefreshAsync(DateTimeOffset now, bool wait, CancellationToken ct)
    {
        if (wait) await _refresh.WaitAsync(ct);
        else if (!await _refresh.WaitAsync(0, ct)) return;
        try
        {
            if (now - _refreshedAt < RefreshEvery) return;
            _refreshedAt = now;
            // Newest submissions first; a job submitted earlier may finish later, so every refresh
            // looks at the whole recent window and learns from the ones it has not seen.
            var fresh = new List<(JobSpec Spec, TimeSpan Run, DateTimeOffset End)>();
            string? cursor = null;
            var read = 0;
            while (read < MaxHistory)
            {
                var page = await _store.ListJobsAsync(new JobQuery { Statuses = [JobStatus.Completed], Limit = 1000, Cursor = cursor }, ct);
                foreach (var j in page.Items)
                {
                    read++;
                    if (j.Attempts != 1 || j.StartedAt is not { } s || j.EndedAt is not { } e || e <= s) continue;
                    var speed = j.GpuModel is null ? 1 : GpuModels.SpeedOf(j.GpuModel) / GpuModels.SpeedOf(j.Spec.ReferenceGpu);
                    fresh.Add((j.Spec, (e - s) * speed, e));
                }
                if (page.NextCursor is null) break;
                cursor = page.NextCursor;
            }
            lock (_sync)
            {
                foreach (var (spec, run, end) in fresh)
                    if (_seen.Add(spec.Id)) _gbm.Observe(spec, run, end);
                Volatile.Write(ref _observed, _seen.Count);
            }
            LastRefreshError = null;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Starts a refresh in the background when one is due and none is running.</summary>
    private void RefreshSoon()
    {
        var now = _time.GetUtcNow();
        if (now - _refreshedAt < RefreshEvery || _refresh.CurrentCount == 0) return;
        _ = Task.Run(async () =>
        {
            try { await RefreshAsync(now, wait: false, CancellationToken.None); }
            catch (Exception e) { LastRefreshError = $"{e.GetType().Name}: {e.Message}"; }
        });
    }

    private sealed class Shared(DurationModel model) : IDurationPredictor
    {
        public string Name => model.Observed == 0 ? "spec-fallback" : model._gbm.Name;
        public string Version => model._gbm.Version;

        public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt)
        {
            lock (model._sync) model._gbm.Observe(spec, actual, endedAt);
        }

        public Interval PredictSeconds(JobSpec spec, DateTimeOffset now)
        {
            model.RefreshSoon();
            lock (model._sync)
            {
                if (now > model._now) model._now = now;
                if (model._observed > 0) return model._gbm.PredictSeconds(spec, model._now);
            }
            if (spec.TimeLimit is { } limit && limit > TimeSpan.Zero) return new Interval(limit.TotalSeconds, limit.TotalSeconds / 10, limit.TotalSeconds);
            return new Interval(3600, 360, 36_000);
        }
    }
}
