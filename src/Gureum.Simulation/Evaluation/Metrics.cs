using Gureum.Prediction.Learning;

namespace Gureum.Simulation.Evaluation;

/// <summary>The scores the evaluation uses, defined once.</summary>
public static class PredictionMetrics
{
    /// <summary>Median absolute percentage error |p − a| / a over pairs with a &gt; 0 (a fraction: 0.5 = 50%).</summary>
    public static double MedianApe(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        var e = new List<double>(actual.Count);
        for (var i = 0; i < actual.Count; i++) if (actual[i] > 0) e.Add(Math.Abs(predicted[i] - actual[i]) / actual[i]);
        return Stats.Median(e);
    }

    /// <summary>Share of pairs with the prediction within a factor 2 of the actual (½a ≤ p ≤ 2a).</summary>
    public static double WithinFactor2(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        if (actual.Count == 0) return double.NaN;
        var hits = 0;
        for (var i = 0; i < actual.Count; i++) if (predicted[i] >= actual[i] / 2 && predicted[i] <= actual[i] * 2) hits++;
        return hits / (double)actual.Count;
    }

    /// <summary>Median absolute error.</summary>
    public static double MedianAbsoluteError(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        var e = new double[actual.Count];
        for (var i = 0; i < e.Length; i++) e[i] = Math.Abs(predicted[i] - actual[i]);
        return Stats.Median(e);
    }

    /// <summary>Mean absolute error.</summary>
    public static double MeanAbsoluteError(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        if (actual.Count == 0) return double.NaN;
        double s = 0;
        for (var i = 0; i < actual.Count; i++) s += Math.Abs(predicted[i] - actual[i]);
        return s / actual.Count;
    }

    /// <summary>Brier score: mean (p − outcome)² with outcome 0 or 1.</summary>
    public static double Brier(IReadOnlyList<double> probability, IReadOnlyList<bool> outcome)
    {
        if (outcome.Count == 0) return double.NaN;
        double s = 0;
        for (var i = 0; i < outcome.Count; i++)
        {
            var d = probability[i] - (outcome[i] ? 1 : 0);
            s += d * d;
        }

        return s / outcome.Count;
    }

    /// <summary>
    /// The MASE scale (Hyndman &amp; Koehler 2006): the in-sample mean absolute error of the seasonal
    /// naive forecast y[t] = y[t − m] over <paramref name="training"/>. Dividing a test MAE by it
    /// gives MASE; seasonal naive's own test MASE is then near 1 when the test looks like training.
    /// </summary>
    public static double SeasonalNaiveScale(ReadOnlySpan<double> training, int season)
    {
        if (training.Length <= season) throw new ArgumentException($"Need more than {season} training points.", nameof(training));
        double s = 0;
        for (var t = season; t < training.Length; t++) s += Math.Abs(training[t] - training[t - season]);
        return s / (training.Length - season);
    }
}
