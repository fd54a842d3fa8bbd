using System.Diagnostics;
using System.Globalization;
using Gureum.Core.Domain;
using Gureum.Prediction;
using Gureum.Prediction.Duration;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Evaluation;

/// <summary>What <see cref="PredictorEvaluation.Run"/> scores and how.</summary>
public sealed record PredictorEvaluationOptions
{
    /// <summary>The shared data folder (holding traces/, spot_traces/, utilization/).</summary>
    public required string DataRoot { get; init; }

    /// <summary>Share of each data set (in time order) before the held-back test part. Default 0.7.</summary>
    public double TrainFraction { get; init; } = 0.7;

    /// <summary>Which tasks to run: any of duration, demand, spot, wait. Default all.</summary>
    public IReadOnlySet<string> Tasks { get; init; } = new HashSet<string>(["duration", "demand", "spot", "wait"], StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// Scores every learned predictor against its baselines on held-back later data: each data set is
/// split in time, models learn online from what ended before each prediction (never from the
/// part they are scored on before predicting it), and the same predictions are made by every
/// baseline. Data sets that are missing are reported in the notes and skipped.
/// </summary>
public static partial class PredictorEvaluation
{
    /// <summary>Runs the evaluation. Deterministic: same data, same report.</summary>
    /// <exception cref="DirectoryNotFoundException">The data root does not exist.</exception>
    public static PredictorReport Run(PredictorEvaluationOptions options, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(options.DataRoot)) throw new DirectoryNotFoundException($"Data folder not found: {options.DataRoot}");
        if (options.TrainFraction is <= 0.1 or >= 0.95) throw new ArgumentOutOfRangeException(nameof(options), options.TrainFraction, "TrainFraction must lie within 0.1..0.95.");
        var comparisons = new List<PredictorComparison>();
        var notes = new List<string>();
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        void Task(string name, Action body)
        {
            if (!options.Tasks.Contains(name)) return;
            ct.ThrowIfCancellationRequested();
            progress?.Report(name);
            var sw = Stopwatch.StartNew();
            body();
            seconds[name] = sw.Elapsed.TotalSeconds;
        }

        Task("duration", () => EvaluateDurations(options, comparisons, notes));
        Task("demand", () => EvaluateDemand(options, comparisons, notes));
        Task("spot", () => EvaluateSpot(options, comparisons, notes));
        Task("wait", () => EvaluateWait(options, comparisons, notes));
        return new PredictorReport { Comparisons = comparisons, Notes = notes, SecondsPerTask = seconds };
    }

    private static void EvaluateDurations(PredictorEvaluationOptions o, List<PredictorComparison> into, List<string> notes)
    {
        var shared = new SharedData(o.DataRoot);
        var (openb, dlrm) = (shared.OpenbPods, shared.DlrmTrace);
        foreach (var (path, format) in new[] { (openb, TraceFormat.Openb), (dlrm, TraceFormat.Dlrm) })
        {
            if (!File.Exists(path))
            {
                notes.Add($"duration: {path} not found; skipped.");
                continue;
            }

            var trace = TraceLoader.Load(path, format);
            var result = ScoreDurations(trace.Jobs, o.TrainFraction, leftCensoredAtEpoch: format == TraceFormat.Dlrm ? trace.Epoch : null, censoredIds: trace.CensoredJobIds);
            into.AddRange(result.Comparisons.Select(c => c with { Dataset = trace.Name }));
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"duration/{trace.Name}: {result.Used} jobs in submission order, the last {1 - o.TrainFraction:P0} held back ({result.Scored} scored); {result.Censored} jobs censored by the trace window excluded; a job is learned from at submit + run time (the imported spec has no trace queueing); the model retrained {result.Trainings} times."));
        }
    }

    /// <summary>Outcome of <see cref="ScoreDurations"/>.</summary>
    internal sealed record DurationScores(IReadOnlyList<PredictorComparison> Comparisons, int Used, int Scored, int Censored, int Trainings);

    /// <summary>
    /// Replays submissions and ends in time order through the learned predictor and the baselines;
    /// scores predictions for jobs submitted in the last (1 − trainFraction) of the order. Jobs
    /// ending at the trace's last end (right-censored) or, when given, submitted at the trace's first
    /// instant (left-censored), and jobs in <paramref name="censoredIds"/> (the trace's own record of
    /// censoring: a right-censored job that queued ends before the last end) are neither learned
    /// from nor scored, by the model and the baselines alike.
    /// </summary>
    internal static DurationScores ScoreDurations(IReadOnlyList<JobSpec> jobs, double trainFraction, DateTimeOffset? leftCensoredAtEpoch = null, GbmDurationOptions? modelOptions = null, IReadOnlySet<string>? censoredIds = null)
    {
        var withDuration = jobs.Where(j => j.Duration is not null).ToList();
        var lastEnd = withDuration.Count == 0 ? DateTimeOffset.MinValue : withDuration.Max(j => j.SubmitTime + j.Duration!.Value);
        var used = withDuration.Where(j => j.SubmitTime + j.Duration!.Value < lastEnd && (leftCensoredAtEpoch is not { } e || j.SubmitTime > e) && censoredIds?.Contains(j.Id) != true).ToList();
        var censored = withDuration.Count - used.Count;
        var model = new GbmDurationPredictor(modelOptions);
        var baselines = new OnlineDurationPredictor[] { new GlobalMedianDurationPredictor(), new UserMedianDurationPredictor(), new TimeLimitDurationPredictor() };
        var all = baselines.Prepend(model).ToArray();
        var firstTest = (int)(used.Count * trainFraction);
        var predictions = all.Select(_ => new List<double>()).ToArray();
        var limitMask = new List<bool>();
        var actual = new List<double>();
        for (var i = 0; i < used.Count; i++)
        {
            var j = used[i];
            for (var p = 0; p < all.Length; p++)
            {
                var est = all[p].PredictSeconds(j, j.SubmitTime);
                if (i >= firstTest) predictions[p].Add(est.Estimate);
            }

            if (i >= firstTest)
            {
                actual.Add(j.Duration!.Value.TotalSeconds);
                limitMask.Add(j.TimeLimit is { } l && l > TimeSpan.Zero);
            }

            foreach (var p in all) p.Observe(j, j.Duration!.Value, j.SubmitTime + j.Duration.Value);
        }

        var comparisons = new List<PredictorComparison>();
        foreach (var (metric, lower, f) in new (string, bool, Func<IReadOnlyList<double>, IReadOnlyList<double>, double>)[]
                 { ("MdAPE", true, PredictionMetrics.MedianApe), ("within-2x", false, PredictionMetrics.WithinFactor2) })
        {
            var scores = all.Select((p, k) =>
            {
                if (p is TimeLimitDurationPredictor)
                {
                    // Only where a limit is declared; n/a when the trace has none.
                    var idx = Enumerable.Range(0, actual.Count).Where(i => limitMask[i]).ToList();
                    return new PredictorScore(p.Name, idx.Count == 0 ? double.NaN : f(idx.Select(i => predictions[k][i]).ToList(), idx.Select(i => actual[i]).ToList()));
                }

                return new PredictorScore(p.Name, f(predictions[k], actual));
            }).ToList();
            comparisons.Add(new PredictorComparison("duration", "", metric, lower, actual.Count, scores[0], scores.Skip(1).ToList()));
        }

        return new DurationScores(comparisons, used.Count, actual.Count, censored, model.Trainings);
    }
}
