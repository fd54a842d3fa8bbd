using System.Globalization;
using Gureum.Autoscaling;
using Gureum.Core.Domain;
using Gureum.Prediction.Wait;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Evaluation;

public static partial class PredictorEvaluation
{
    private static void EvaluateWait(PredictorEvaluationOptions o, List<PredictorComparison> into, List<string> notes)
    {
        var shared = new SharedData(o.DataRoot);
        var openb = shared.OpenbPods;
        if (!File.Exists(openb))
        {
            notes.Add($"wait: {openb} not found; skipped.");
            return;
        }

        var trace = TraceLoader.Load(openb, TraceFormat.Openb);
        var catalogs = shared.Catalogs.Where(File.Exists).ToList();
        var offers = catalogs.Count > 0 ? CatalogLoader.LoadMany(catalogs) : CatalogLoader.LoadDefault();
        // Replayed by creation time on its own 6,212 GPUs, openb never queues (peak demand is about 65
        // GPUs), so the fleet is cut to every 128th node of its node list (12 nodes, 46 GPUs).
        const int Every = 128;
        var fleet = trace.Fleet.Where((_, i) => i % Every == 0).ToList();
        var r = ScoreWaits(trace with { Fleet = fleet }, offers, "static", o.TrainFraction);
        into.AddRange(r.Comparisons);
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"wait: openb replayed under 'static' on every {Every}th node of its node list ({fleet.Count} nodes, {fleet.Sum(n => n.Gpus)} GPUs; on the full list no job ever waits). At each submission the estimators see the snapshot the decision sees; an ETA is scored for jobs that decision left pending (started later than submitted: {r.Scored} of the jobs submitted in the last {1 - o.TrainFraction:P0}; {r.NeverStarted} never started, excluded); the model learns from such waits once the job has started. Slurm baselines assume every running job ends at its limit; openb declares none, so the partition default is 1 h or 24 h."));
    }

    internal sealed record WaitScores(IReadOnlyList<PredictorComparison> Comparisons, int Scored, int NeverStarted, double ZeroWaits);

    /// <summary>Replays <paramref name="trace"/> once, recording each job's snapshot features and the
    /// Slurm estimate at submission; then runs the learned estimator online in time order.</summary>
    internal static WaitScores ScoreWaits(Trace trace, IReadOnlyList<Core.Cloud.Offer> offers, string policy, double trainFraction)
    {
        var atSubmit = new Dictionary<string, (DateTimeOffset At, float[] Features, double Slurm1, double Slurm24)>(StringComparer.Ordinal);
        var slurm1 = new SlurmLimitWaitEstimator(TimeSpan.FromHours(1));
        var slurm24 = new SlurmLimitWaitEstimator(TimeSpan.FromHours(24));
        var core = PolicyCatalog.Create(policy);
        var jobs = trace.Jobs;
        var setup = new ReplaySetup
        {
            Core = core,
            Jobs = jobs,
            Offers = offers,
            Options = new ReplayOptions
            {
                OnSubmitted = (snapshot, submitted) =>
                {
                    var ids = submitted.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
                    foreach (var view in snapshot.Pending)
                    {
                        if (!ids.Contains(view.Id)) continue;
                        atSubmit[view.Id] = (snapshot.Now, WaitFeatures.Compute(view, snapshot), slurm1.PredictWaitSeconds(view, snapshot).Estimate, slurm24.PredictWaitSeconds(view, snapshot).Estimate);
                    }
                },
            },
        };
        if (core.Autoscaler is StaticPolicy)
        {
            var start = jobs.Count > 0 ? jobs[0].SubmitTime : trace.Epoch;
            setup = setup with { FixedFleet = FleetBuilder.FromTrace(trace.Fleet, offers, start).Fleet };
        }

        var outcome = ReplayEngine.RunAsync(setup).GetAwaiter().GetResult();
        // Pending after the submission-time decision = started strictly after submission.
        var started = outcome.Jobs.Where(j => j.FirstStartedAt is { } f && atSubmit.TryGetValue(j.Id, out var s) && f > s.At)
            .ToDictionary(j => j.Id, j => j.FirstStartedAt!.Value, StringComparer.Ordinal);
        var model = new GbmWaitEstimator();
        var neverStartedIds = outcome.Jobs.Where(j => j.FirstStartedAt is null).Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
        var ordered = jobs.Where(j => started.ContainsKey(j.Id) || neverStartedIds.Contains(j.Id)).ToList();
        var firstTest = (int)(ordered.Count * trainFraction);
        // Observations become usable when the job starts; feed them in start order as time passes.
        var starts = started.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var fed = 0;
        var pm = new List<double>();
        var pb1 = new List<double>();
        var pb24 = new List<double>();
        var actual = new List<double>();
        var neverStarted = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            var j = ordered[i];
            var (at, features, slurm1Estimate, slurm24Estimate) = atSubmit[j.Id];
            while (fed < starts.Count && starts[fed].Value <= at)
            {
                var s = atSubmit[starts[fed].Key];
                model.ObserveFeatures(s.Features, (starts[fed].Value - s.At).TotalSeconds, starts[fed].Value);
                fed++;
            }

            var estimate = model.PredictFeatures(features, at).Estimate;
            if (i < firstTest) continue;
            if (!started.TryGetValue(j.Id, out var first))
            {
                neverStarted++;
                continue;
            }

            pm.Add(estimate);
            pb1.Add(slurm1Estimate);
            pb24.Add(slurm24Estimate);
            actual.Add((first - at).TotalSeconds);
        }

        PredictorComparison Compare(string metric, Func<IReadOnlyList<double>, IReadOnlyList<double>, double> f) =>
            new("wait", $"openb replay ({policy}, cut fleet)", metric, true, actual.Count,
                new PredictorScore(model.Name, f(pm, actual)),
                [new PredictorScore(slurm1.Name + "@1h", f(pb1, actual)), new PredictorScore(slurm24.Name + "@24h", f(pb24, actual))]);
        return new WaitScores([Compare("MedAE-s", PredictionMetrics.MedianAbsoluteError), Compare("MAE-s", PredictionMetrics.MeanAbsoluteError)],
            actual.Count, neverStarted, actual.Count == 0 ? double.NaN : actual.Count(a => a == 0) / (double)actual.Count);
    }
}
