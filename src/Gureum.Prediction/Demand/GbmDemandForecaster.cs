using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Demand;

/// <summary>Settings of <see cref="GbmDemandForecaster"/>.</summary>
public sealed record DemandForecastOptions
{
    /// <summary>Time between points. Default 5 min.</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Seasonal period in steps (one day). Default 288 (a day of 5-min steps).</summary>
    public int Season { get; init; } = 288;
    /// <summary>Horizons (steps ahead) the model is trained on; others are interpolated by the trees
    /// (the horizon is a feature). Default 1, 3, 6, 12.</summary>
    public IReadOnlyList<int> TrainHorizons { get; init; } = [1, 3, 6, 12];
    /// <summary>Refit when the history has grown by this many points since the last fit. Default one season.</summary>
    public int? RetrainEvery { get; init; }
    /// <summary>Cap on training rows (origins are strided to fit). Default 40,000.</summary>
    public int MaxTrainRows { get; init; } = 40_000;
    /// <summary>Tree ensemble settings.</summary>
    public GbmOptions Gbm { get; init; } = new() { Iterations = 200, LearningRate = 0.05, Leaves = 31, MinRowsPerLeaf = 30 };
}

/// <summary>
/// Direct multi-horizon forecaster: gradient-boosted trees (ML.NET LightGbm) predict the change
/// y[t+h] − y[t] from lags (1…60 steps), rolling means, spread and range, the seasonal values
/// around t+h one and two seasons back, and the horizon h. Until it has more than a season and a
/// bit of history it answers seasonal naive (or last value with less than a season). Interval: the
/// 10th and 90th percentiles of its residuals on the held-out last 20% of the fit history, at the
/// nearest trained horizon.
/// </summary>
public sealed class GbmDemandForecaster(DemandForecastOptions? options = null) : IDemandForecaster
{
    private const int Width = 22;
    private static readonly int[] Lags = [1, 2, 3, 5, 10, 15, 30, 60];
    private readonly DemandForecastOptions _o = options ?? new DemandForecastOptions();
    private GbmRegressor? _model;
    private int _fittedLength;

    /// <inheritdoc />
    public string Name => "demand-lgbm";

    /// <inheritdoc />
    public string Version => "1";

    /// <inheritdoc />
    public TimeSpan Step => _o.Step;

    /// <summary>Fits calls so far.</summary>
    public int Fits { get; private set; }

    /// <summary>History needed before the first fit: two seasons and the longest lag.</summary>
    public int MinHistory => 2 * _o.Season + Lags[^1] + _o.TrainHorizons.Max() + 10;

    /// <summary>
    /// Fits the model on <paramref name="history"/> (done automatically by <see cref="Forecast"/>):
    /// trees on the first 80%, then, per trained horizon, a dead band and a damping factor chosen on
    /// the last 20% to minimise its mean absolute error (L2 trees predict the mean change; a
    /// piecewise-constant demand series mostly does not change, so small predicted changes are
    /// dropped), then the share of a fresh step expected to follow (0–0.6), and the interval from
    /// those out-of-sample residuals.
    /// </summary>
    public void Fit(ReadOnlySpan<double> history)
    {
        if (history.Length < MinHistory) return;
        var first = 2 * _o.Season + Lags[^1];
        var hs = _o.TrainHorizons;
        var maxH = hs.Max();
        var fitEnd = first + (int)((history.Length - first) * 0.8);
        if (fitEnd - maxH - first <= 10 || history.Length - maxH - fitEnd <= 10) return;
        var x = new List<float[]>();
        var y = new List<float>();
        var stride = Math.Max(1, (int)Math.Ceiling((fitEnd - maxH - first) * (double)hs.Count / _o.MaxTrainRows));
        for (var t = first; t < fitEnd - maxH; t += stride)
        {
            foreach (var h in hs)
            {
                x.Add(Features(history[..(t + 1)], h));
                y.Add((float)(history[t + h] - history[t]));
            }
        }

        var model = GbmRegressor.Train(x, y, _o.Gbm);
        var valStride = Math.Max(1, (history.Length - maxH - fitEnd) / 5000);
        var calibration = new Dictionary<int, Calibration>();
        foreach (var h in hs)
        {
            var predicted = new List<double>();
            var actual = new List<double>();
            var fresh = new List<double>();
            for (var t = fitEnd; t < history.Length - h; t += valStride)
            {
                predicted.Add(model.Predict(Features(history[..(t + 1)], h)));
                actual.Add(history[t + h] - history[t]);
                fresh.Add(FreshChange(history[..(t + 1)]));
            }

            calibration[h] = Calibrate(predicted, actual, fresh);
        }

        _model = model;
        _calibration = calibration;
        _fittedLength = history.Length;
        Fits++;
    }

    private sealed record Calibration(double DeadBand, double Damping, double Momentum, double Lo, double Hi);

    private Dictionary<int, Calibration> _calibration = [];

    private static Calibration Calibrate(List<double> predicted, List<double> actual, List<double> fresh)
    {
        var magnitudes = predicted.Select(Math.Abs).ToList();
        var bands = new[] { 0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99 }.Select(q => q == 0 ? 0 : Stats.Quantile(magnitudes, q)).Distinct().ToArray();
        var best = (Band: 0.0, Damping: 1.0, Mae: double.MaxValue);
        foreach (var band in bands)
        {
            foreach (var damping in new[] { 0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 1.2 })
            {
                double sum = 0;
                for (var i = 0; i < actual.Count; i++) sum += Math.Abs(Apply(predicted[i], band, damping) - actual[i]);
                if (sum < best.Mae - 1e-9) best = (band, damping, sum);
            }
        }

        // Then the share k of a fresh step (the series was flat and just moved) that is expected to
        // follow: a 5-minute mean taken mid-step shows only part of it.
        var momentum = 0.0;
        for (var k = 0.1; k <= 0.60001; k += 0.1)
        {
            double sum = 0;
            for (var i = 0; i < actual.Count; i++) sum += Math.Abs(Apply(predicted[i], best.Band, best.Damping) + k * fresh[i] - actual[i]);
            if (sum < best.Mae - 1e-9) (momentum, best.Mae) = (k, sum);
        }

        var residuals = actual.Select((a, i) => a - (Apply(predicted[i], best.Band, best.Damping) + momentum * fresh[i])).ToList();
        return new Calibration(best.Band, best.Damping, momentum, Stats.Quantile(residuals, 0.1), Stats.Quantile(residuals, 0.9));
    }

    private static double Apply(double delta, double band, double damping) => Math.Abs(delta) <= band ? 0 : delta * damping;

    /// <summary>The last step's change when the two points before it were equal and it moved (a fresh
    /// step of a piecewise-constant series); 0 otherwise.</summary>
    internal static double FreshChange(ReadOnlySpan<double> h)
    {
        var t = h.Length - 1;
        return t >= 2 && h[t - 1] == h[t - 2] && h[t] != h[t - 1] ? h[t] - h[t - 1] : 0;
    }

    /// <inheritdoc />
    public Interval Forecast(ReadOnlySpan<double> history, int stepsAhead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsAhead, 1);
        if (history.Length == 0) throw new ArgumentException("The history is empty.", nameof(history));
        var every = _o.RetrainEvery ?? _o.Season;
        if (_model is null ? history.Length >= MinHistory : history.Length - _fittedLength >= every) Fit(history);
        var last = history[^1];
        if (_model is null || history.Length < 2 * _o.Season + Lags[^1])
        {
            var naive = stepsAhead <= _o.Season && history.Length >= _o.Season ? history[history.Length - 1 + stepsAhead - _o.Season] : last;
            return Interval.Point(naive);
        }

        var c = _calibration.MinBy(kv => Math.Abs(kv.Key - stepsAhead)).Value;
        var delta = Apply(_model.Predict(Features(history, stepsAhead)), c.DeadBand, c.Damping) + c.Momentum * FreshChange(history);
        var estimate = Math.Max(0, last + delta);
        return new Interval(estimate, Math.Max(0, Math.Min(estimate, last + delta + c.Lo)), Math.Max(estimate, last + delta + c.Hi));
    }

    private float[] Features(ReadOnlySpan<double> h, int ahead)
    {
        var f = new float[Width];
        var t = h.Length - 1;
        var s = _o.Season;
        var i = 0;
        f[i++] = (float)h[t];
        foreach (var lag in Lags) f[i++] = (float)(h[t] - h[Math.Max(0, t - lag)]);
        f[i++] = (float)(h[t] - Mean(h, t, 5));
        f[i++] = (float)(h[t] - Mean(h, t, 15));
        f[i++] = (float)(h[t] - Mean(h, t, 60));
        f[i++] = (float)Std(h, t, 15);
        f[i++] = (float)(Max(h, t, 60) - Min(h, t, 60));
        // Seasonal: one and two seasons before the target time, and the seasonal change so far.
        var target = t + ahead;
        f[i++] = (float)(SeasonalAt(h, target - s) - h[t]);
        f[i++] = (float)(SeasonalAt(h, target - 2 * s) - h[t]);
        f[i++] = (float)(SeasonalAt(h, target - s) - SeasonalAt(h, t - s));
        f[i++] = (float)(h[t] - SeasonalAt(h, t - s));
        f[i++] = (float)(Mean(h, Math.Min(t, target - s + 2), 5) - h[t]);
        f[i++] = ahead;
        f[i++] = (float)Mean(h, t, s);
        f[i++] = (float)(h[t] - Mean(h, t, s));
        return f;
    }

    private static double SeasonalAt(ReadOnlySpan<double> h, int index) => h[Math.Clamp(index, 0, h.Length - 1)];

    private static double Mean(ReadOnlySpan<double> h, int end, int n)
    {
        var from = Math.Max(0, end - n + 1);
        double sum = 0;
        for (var k = from; k <= end; k++) sum += h[k];
        return sum / (end - from + 1);
    }

    private static double Std(ReadOnlySpan<double> h, int end, int n)
    {
        var m = Mean(h, end, n);
        var from = Math.Max(0, end - n + 1);
        double sum = 0;
        for (var k = from; k <= end; k++) sum += (h[k] - m) * (h[k] - m);
        return Math.Sqrt(sum / (end - from + 1));
    }

    private static double Max(ReadOnlySpan<double> h, int end, int n)
    {
        var m = double.MinValue;
        for (var k = Math.Max(0, end - n + 1); k <= end; k++) m = Math.Max(m, h[k]);
        return m;
    }

    private static double Min(ReadOnlySpan<double> h, int end, int n)
    {
        var m = double.MaxValue;
        for (var k = Math.Max(0, end - n + 1); k <= end; k++) m = Math.Min(m, h[k]);
        return m;
    }
}

/// <summary>Baseline: the last value, for every horizon.</summary>
public sealed class LastValueForecaster(TimeSpan step) : IDemandForecaster
{
    /// <inheritdoc />
    public string Name => "last-value";

    /// <inheritdoc />
    public string Version => "1";

    /// <inheritdoc />
    public TimeSpan Step => step;

    /// <inheritdoc />
    public Interval Forecast(ReadOnlySpan<double> history, int stepsAhead) =>
        history.Length == 0 ? throw new ArgumentException("The history is empty.", nameof(history)) : Interval.Point(history[^1]);
}

/// <summary>Baseline: seasonal naive, y[t+h] = y[t+h−m] (the same time one season earlier; for h &gt; m, whole seasons back).
/// Falls back to the last value with less than a season of history.</summary>
public sealed class SeasonalNaiveForecaster(TimeSpan step, int season) : IDemandForecaster
{
    /// <inheritdoc />
    public string Name => "seasonal-naive";

    /// <inheritdoc />
    public string Version => "1";

    /// <inheritdoc />
    public TimeSpan Step => step;

    /// <inheritdoc />
    public Interval Forecast(ReadOnlySpan<double> history, int stepsAhead)
    {
        if (history.Length == 0) throw new ArgumentException("The history is empty.", nameof(history));
        var back = season * (int)Math.Ceiling(stepsAhead / (double)season);
        var index = history.Length - 1 + stepsAhead - back;
        return Interval.Point(index >= 0 ? history[index] : history[^1]);
    }
}
