using System.Globalization;
using Gureum.Prediction.Spot;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Evaluation;

public static partial class PredictorEvaluation
{
    private static readonly double[] SpotHorizonsHours = [1, 4, 12];

    private static void EvaluateSpot(PredictorEvaluationOptions o, List<PredictorComparison> into, List<string> notes)
    {
        var dir = new SharedData(o.DataRoot).SpotTraces;
        if (!Directory.Exists(dir))
        {
            notes.Add($"spot: {dir} not found; skipped.");
            return;
        }

        // The first raw-probe period is the same measurement as cant_be_late/availability/1-node/aws-10-26-2022.
        var traces = SpotTraceLoader.LoadDirectory(dir).Where(t => !t.Name.Contains("2022-10-26T22-05", StringComparison.Ordinal)).ToList();
        var (comparisons, scored, trainRows) = ScoreSpot(traces, o.TrainFraction);
        into.AddRange(comparisons);
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"spot: {traces.Count} traces (raw probe period 2022-10-26 left out: it duplicates a cant_be_late file); a tick counts as up when its value is ≥ 1 (multi-node traces: at least one instance up; availability probes are read as a held node's fate, as Can't Be Late does). Each trace is one market; its first {o.TrainFraction:P0} trains the model ({trainRows} examples), scored are up ticks of the later part whose horizon ends inside the trace ({scored} predictions, at most 1,500 per trace and horizon, evenly spaced). Both predictors keep reading the market's observations up to the prediction time; only the trees are frozen at the split."));
    }

    /// <summary>Scores on the later part of each trace; traces are placed so their splits coincide in time.</summary>
    internal static (IReadOnlyList<PredictorComparison> Comparisons, int Scored, int TrainRows) ScoreSpot(IReadOnlyList<SpotTrace> traces, double trainFraction)
    {
        var split = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var model = new GbmSpotRiskPredictor(new SpotRiskOptions { RetrainInterval = null });
        var baseline = new ConstantHazardSpotRiskPredictor();
        var starts = new DateTimeOffset[traces.Count];
        for (var k = 0; k < traces.Count; k++)
        {
            var t = traces[k];
            var s = (int)(t.Data.Length * trainFraction);
            starts[k] = split - t.Gap * s;
            for (var i = 0; i < t.Data.Length; i++)
            {
                var at = starts[k] + t.Gap * i;
                model.Observe(t.Name, t.GpuModel, at, t.Data[i] > 0);
                baseline.Observe(t.Name, t.GpuModel, at, t.Data[i] > 0);
            }
        }

        model.Train(split);
        var comparisons = new List<PredictorComparison>();
        var total = 0;
        foreach (var hours in SpotHorizonsHours)
        {
            var pm = new List<double>();
            var pb = new List<double>();
            var outcome = new List<bool>();
            for (var k = 0; k < traces.Count; k++)
            {
                var t = traces[k];
                var ahead = (int)Math.Ceiling(TimeSpan.FromHours(hours) / t.Gap);
                var first = (int)(t.Data.Length * trainFraction);
                var lastOrigin = t.Data.Length - 1 - ahead;
                if (lastOrigin < first) continue;
                var stride = Math.Max(1, (lastOrigin - first + 1) / 1500);
                for (var i = first; i <= lastOrigin; i += stride)
                {
                    if (t.Data[i] == 0) continue;
                    var survived = true;
                    for (var j = i + 1; j <= i + ahead; j++)
                    {
                        if (t.Data[j] == 0) { survived = false; break; }
                    }

                    var now = starts[k] + t.Gap * i;
                    pm.Add(model.SurvivalProbability(t.Name, t.GpuModel, TimeSpan.FromHours(hours), now));
                    pb.Add(baseline.SurvivalProbability(t.Name, t.GpuModel, TimeSpan.FromHours(hours), now));
                    outcome.Add(survived);
                }
            }

            total += outcome.Count;
            var label = hours.ToString(CultureInfo.InvariantCulture);
            comparisons.Add(new PredictorComparison("spot", "spot_traces (all markets)", $"Brier@{label}h", true, outcome.Count,
                new PredictorScore(model.Name, PredictionMetrics.Brier(pm, outcome)),
                [new PredictorScore(baseline.Name, PredictionMetrics.Brier(pb, outcome))]));
        }

        return (comparisons, total, model.TrainRows);
    }
}
