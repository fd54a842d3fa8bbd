using System.Globalization;
using System.Text;

namespace Gureum.Simulation.Evaluation;

/// <summary>One predictor's score on one comparison.</summary>
/// <param name="Predictor">Predictor name (<see cref="Gureum.Prediction.IPredictor.Name"/>).</param>
/// <param name="Value">The metric's value; NaN when it could not be computed.</param>
public sealed record PredictorScore(string Predictor, double Value);

/// <summary>
/// A learned predictor against its baselines on one data set, one metric, one horizon, on held-back
/// later data (the model never saw what it is scored on before predicting it).
/// </summary>
/// <param name="Task">duration, demand, spot or wait.</param>
/// <param name="Dataset">Data set (and series) scored.</param>
/// <param name="Metric">Metric name, e.g. <c>MdAPE</c>, <c>within-2x</c>, <c>MASE@15m</c>, <c>Brier@4h</c>, <c>MedAE-s</c>.</param>
/// <param name="LowerIsBetter">Whether smaller values of the metric are better.</param>
/// <param name="Samples">Predictions scored.</param>
/// <param name="Model">The learned predictor's score.</param>
/// <param name="Baselines">Each baseline's score.</param>
public sealed record PredictorComparison(
    string Task, string Dataset, string Metric, bool LowerIsBetter, int Samples,
    PredictorScore Model, IReadOnlyList<PredictorScore> Baselines)
{
    /// <summary>True when the model is strictly better than every baseline that has a value.</summary>
    public bool BeatsAllBaselines => Baselines.Where(b => !double.IsNaN(b.Value)).All(b => LowerIsBetter ? Model.Value < b.Value : Model.Value > b.Value);

    /// <summary>The best baseline (by the metric), or null when none has a value.</summary>
    public PredictorScore? BestBaseline => Baselines.Where(b => !double.IsNaN(b.Value))
        .OrderBy(b => LowerIsBetter ? b.Value : -b.Value).FirstOrDefault();
}

/// <summary>All scores of <see cref="PredictorEvaluation.Run"/>, with every assumption stated.</summary>
public sealed record PredictorReport
{
    /// <summary>Every comparison, grouped by task in the order duration, demand, spot, wait.</summary>
    public required IReadOnlyList<PredictorComparison> Comparisons { get; init; }

    /// <summary>Splits, subsampling, censoring and other choices, one sentence each.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Wall-clock time per task in seconds.</summary>
    public required IReadOnlyDictionary<string, double> SecondsPerTask { get; init; }

    /// <summary>True when every comparison's model beats all its baselines.</summary>
    public bool AllBeaten => Comparisons.All(c => c.BeatsAllBaselines);

    /// <summary>A fixed-width text table, one comparison per line, then the notes.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(string.Format(ci, "{0,-8} {1,-34} {2,-12} {3,6}  {4,-24} {5}", "task", "dataset", "metric", "n", "model", "baselines"));
        foreach (var c in Comparisons)
        {
            var baselines = string.Join("  ", c.Baselines.Select(b => $"{b.Predictor} {Fmt(b.Value)}"));
            sb.AppendLine(string.Format(ci, "{0,-8} {1,-34} {2,-12} {3,6}  {4,-24} {5}  {6}", c.Task, c.Dataset, c.Metric + (c.LowerIsBetter ? "↓" : "↑"), c.Samples,
                $"{c.Model.Predictor} {Fmt(c.Model.Value)}", baselines, c.BeatsAllBaselines ? "beats all" : "DOES NOT beat all"));
        }

        sb.AppendLine(string.Create(ci, $"{Comparisons.Count(c => c.BeatsAllBaselines)} of {Comparisons.Count} comparisons: the model beats every baseline."));
        foreach (var n in Notes) sb.AppendLine("note: " + n);
        sb.AppendLine("time: " + string.Join(", ", SecondsPerTask.Select(kv => string.Create(ci, $"{kv.Key} {kv.Value:F1} s"))));
        return sb.ToString();
    }

    private static string Fmt(double v) => double.IsNaN(v) ? "n/a" : Math.Abs(v) >= 100 ? v.ToString("F0", CultureInfo.InvariantCulture) : v.ToString("F4", CultureInfo.InvariantCulture);
}
