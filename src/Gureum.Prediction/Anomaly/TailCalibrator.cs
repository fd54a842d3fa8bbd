namespace Gureum.Prediction.Anomaly;

/// <summary>
/// Turns a raw surprise value into a tail probability against the values seen before it:
/// the empirical tail below a high quantile u, and above u an exponential tail fitted to the
/// excesses of log(value) over log(u) — peaks-over-threshold, as in SPOT (Siffer et al., KDD 2017).
/// The exponential tail lets a value far beyond everything seen so far score further out than one
/// just beyond it, which a pure rank cannot.
/// </summary>
internal sealed class TailCalibrator(int capacity, double tailFraction)
{
    private readonly RollingWindow _history = new(capacity);

    public int Count => _history.Count;

    /// <summary>P(R ≥ value) under the past values; call before <see cref="Add"/>.</summary>
    public double TailProbability(double value)
    {
        var n = _history.Count;
        if (n == 0) return 1.0;
        var u = _history.Quantile(1 - tailFraction);
        if (value <= u || u <= 0)
        {
            var atOrAbove = n - _history.CountBelow(value);
            return (atOrAbove + 1.0) / (n + 1.0);
        }
        // Mean log-excess of the past values above u (exponential MLE), floored so a tail of
        // near-identical values does not make every larger value look impossibly rare.
        var above = n - _history.CountAtOrBelow(u);
        var pu = (above + 1.0) / (n + 1.0);
        double sum = 0;
        for (var k = n - above; k < n; k++) sum += Math.Log(_history[k] / u);
        var meanExcess = Math.Max(above > 0 ? sum / above : 0, 0.1);
        return pu * Math.Exp(-Math.Log(value / u) / meanExcess);
    }

    public void Add(double value) => _history.Add(value);
}
