namespace Gureum.Cost.Forecasting;

/// <summary>A forecast value with its 80 % prediction interval.</summary>
public readonly record struct ForecastPoint(double Estimate, double Low, double High);

/// <summary>
/// Additive Holt-Winters (ETS(A,Ad,A): additive error, damped additive trend, additive season)
/// with its smoothing parameters picked by a grid search that minimizes the one-step-ahead squared
/// error on the history. Intervals: ±1.2816 σ_h (80 %), with σ_h² = σ₁² (1 + Σ_{j&lt;h} c_j²),
/// c_j = α(1 + jβ) + γ·[j mod m = 0] (Hyndman et al., Forecasting with Exponential Smoothing, 2008,
/// Table 6.1, damping ignored in the variance), σ₁ the RMS one-step residual.
/// </summary>
public sealed class HoltWinters
{
    private static readonly double[] Alphas = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
    private static readonly double[] Betas = [0, 0.01, 0.05, 0.1];
    private static readonly double[] Gammas = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5];
    private static readonly double[] Phis = [0.8, 0.9, 0.98];
    private const double Z80 = 1.2816;

    public required int Season { get; init; }
    public double Alpha { get; private init; }
    public double Beta { get; private init; }
    public double Gamma { get; private init; }
    public double Phi { get; private init; }
    public double Sigma { get; private init; }
    private double _level;
    private double _trend;
    private double[] _season = [];

    /// <summary>
    /// Fits on <paramref name="y"/>; needs at least two seasons (else the season is dropped: m = 1).
    /// Parameters are chosen for the horizon they will serve: the grid point with the least mean
    /// absolute in-sample error over forecasts 1..<paramref name="horizon"/> steps ahead (a one-step
    /// criterion picks fast-reacting parameters that drift over a day-ahead horizon).
    /// </summary>
    public static HoltWinters Fit(ReadOnlySpan<double> y, int season, int horizon = 1)
    {
        var m = y.Length >= 2 * season && season > 1 ? season : 1;
        HoltWinters? best = null;
        var bestErr = double.PositiveInfinity;
        foreach (var a in Alphas)
        foreach (var b in Betas)
        foreach (var g in m > 1 ? Gammas : [0.0])
        foreach (var p in Phis)
        {
            var hw = Run(y, m, a, b, g, p, Math.Max(1, horizon), out var err, out _);
            if (err < bestErr) { bestErr = err; best = hw; }
        }
        return best!;
    }

    private static HoltWinters Run(ReadOnlySpan<double> y, int m, double a, double b, double g, double phi, int horizon, out double multiErr, out int n)
    {
        var s = new double[m];
        double level, trend = 0;
        if (m > 1)
        {
            double mean1 = 0, mean2 = 0;
            for (var i = 0; i < m; i++) { mean1 += y[i]; mean2 += y[m + i]; }
            mean1 /= m; mean2 /= m;
            level = mean1;
            trend = (mean2 - mean1) / m;
            for (var i = 0; i < m; i++) s[i] = y[i] - mean1;
        }
        else level = y.Length > 0 ? y[0] : 0;
        double sse = 0, abs = 0;
        long cnt = 0;
        n = 0;
        var start = m > 1 ? m : 1;
        for (var t = start; t < y.Length; t++)
        {
            var si = t % m;
            if (horizon > 1 && t >= 2 * start)
            {
                // Forecasts made before seeing y[t] for t .. t+horizon-1, scored against what came.
                double damp = 0, ph = 1;
                for (var h = 1; h <= horizon && t + h - 1 < y.Length; h++)
                {
                    ph *= phi;
                    damp += ph;
                    abs += Math.Abs(y[t + h - 1] - (level + damp * trend + s[(t + h - 1) % m]));
                    cnt++;
                }
            }
            var pred = level + phi * trend + s[si];
            var e = y[t] - pred;
            sse += e * e;
            n++;
            var newLevel = a * (y[t] - s[si]) + (1 - a) * (level + phi * trend);
            trend = b * (newLevel - level) + (1 - b) * phi * trend;
            s[si] = g * (y[t] - newLevel) + (1 - g) * s[si];
            level = newLevel;
        }
        multiErr = horizon > 1 ? (cnt > 0 ? abs / cnt : double.PositiveInfinity) : sse;
        return new HoltWinters
        {
            Season = m, Alpha = a, Beta = b, Gamma = g, Phi = phi, Sigma = n > 0 ? Math.Sqrt(sse / n) : 0,
            _level = level, _trend = trend, _season = s, _next = y.Length,
        };
    }

    private int _next;

    /// <summary>The next <paramref name="steps"/> values with 80 % intervals.</summary>
    public ForecastPoint[] Forecast(int steps)
    {
        var result = new ForecastPoint[steps];
        double damp = 0, phiH = 1, cumC2 = 0;
        for (var h = 1; h <= steps; h++)
        {
            phiH *= Phi;
            damp += phiH;
            var est = _level + damp * _trend + _season[(_next + h - 1) % Season];
            if (h > 1)
            {
                var j = h - 1;
                var c = Alpha * (1 + j * Beta) + (Season > 1 && j % Season == 0 ? Gamma : 0);
                cumC2 += c * c;
            }
            var sd = Sigma * Math.Sqrt(1 + cumC2);
            result[h - 1] = new ForecastPoint(est, est - Z80 * sd, est + Z80 * sd);
        }
        return result;
    }
}

/// <summary>Rolling-origin evaluation against the seasonal naive forecast, scored by MASE.</summary>
public static class ForecastEvaluation
{
    /// <summary>The result of a backtest: MASE of the model and of seasonal naive over the same origins,
    /// and how often the actual value fell inside the model's 80 % interval.</summary>
    public sealed record Backtest(int Origins, int Horizon, int Season, double ModelMase, double SeasonalNaiveMase, double Coverage80);

    /// <summary>
    /// For each origin (the last <paramref name="origins"/> × <paramref name="horizon"/> points, one origin
    /// per horizon), fits <see cref="SeasonalBlend"/> on everything before it (its weight validated
    /// inside that history only) and forecasts <paramref name="horizon"/> steps.
    /// MASE = MAE / (in-sample MAE of the one-season-back naive forecast on the training part), averaged over origins
    /// (Hyndman &amp; Koehler 2006). Seasonal naive forecasts y[t − m·k] with k the least whole number of seasons back.
    /// </summary>
    public static Backtest Run(IReadOnlyList<double> y, int season, int horizon, int origins)
    {
        double model = 0, naive = 0;
        int inside = 0, total = 0, used = 0;
        var arr = y.ToArray();
        for (var k = origins; k >= 1; k--)
        {
            var o = arr.Length - k * horizon;
            if (o < 2 * season + 1) continue;
            var train = arr.AsSpan(0, o);
            double scale = 0;
            for (var t = season; t < o; t++) scale += Math.Abs(train[t] - train[t - season]);
            scale /= o - season;
            if (scale <= 0) continue;
            var fc = SeasonalBlend.Fit(train, season, horizon).Forecast(horizon);
            double maeModel = 0, maeNaive = 0;
            for (var h = 1; h <= horizon; h++)
            {
                var actual = arr[o + h - 1];
                var back = season * ((h - 1) / season + 1);
                maeModel += Math.Abs(actual - fc[h - 1].Estimate);
                maeNaive += Math.Abs(actual - arr[o + h - 1 - back]);
                if (actual >= fc[h - 1].Low && actual <= fc[h - 1].High) inside++;
                total++;
            }
            model += maeModel / horizon / scale;
            naive += maeNaive / horizon / scale;
            used++;
        }
        return new Backtest(used, horizon, season, used > 0 ? model / used : double.NaN, used > 0 ? naive / used : double.NaN, total > 0 ? (double)inside / total : double.NaN);
    }

    /// <summary>Means of consecutive blocks of <paramref name="factor"/> points (e.g. 12 × 5 min → hourly); a partial last block is dropped.</summary>
    public static double[] Aggregate(IReadOnlyList<double> y, int factor)
    {
        var n = y.Count / factor;
        var r = new double[n];
        for (var i = 0; i < n; i++)
        {
            double s = 0;
            for (var j = 0; j < factor; j++) s += y[i * factor + j];
            r[i] = s / factor;
        }
        return r;
    }
}
