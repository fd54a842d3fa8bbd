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
    /// <summary>Readings per step when the pool is read more often than once a step (e.g. 5 per-minute
    /// readings per 5-minute step); 1 (the default) means there are only the step values. With more,
    /// the forecaster is given the readings too (<see cref="GbmDemandForecaster.Forecast(ReadOnlySpan{double}, ReadOnlySpan{double}, int)"/>).</summary>
    public int ReadingsPerStep { get; init; } = 1;
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
/// With readings inside the steps (<see cref="DemandForecastOptions.ReadingsPerStep"/> &gt; 1, e.g.
/// per-minute GPU counts behind 5-minute means), each horizon's anchor is the last step value or the
/// last reading, whichever had the smaller absolute error on the first 80% of the fit history (a
/// step mean lags a step taken inside it; the last reading does not), the trees predict the change
/// from that anchor and also see the readings' trajectory (last reading − step mean, its changes 1,
/// 2 and 4 readings back, readings since it last moved, its range in the step) and the position in the season (the time of day when the series starts at midnight).
/// </summary>
public sealed class GbmDemandForecaster(DemandForecastOptions? options = null) : IDemandForecaster
{
    private const int Width = 22;
    private const int FineWidth = 8;
    private static readonly int[] Lags = [1, 2, 3, 5, 10, 15, 30, 60];
    private readonly DemandForecastOptions _o = options ?? new DemandForecastOptions();
    private int _fittedLength;

    /// <inheritdoc />
    public string Name => "demand-lgbm";

    /// <inheritdoc />
    public string Version => "2";

    /// <inheritdoc />
    public TimeSpan Step => _o.Step;

    /// <summary>Fits calls so far.</summary>
    public int Fits { get; private set; }

    /// <summary>History needed before the first fit: two seasons and the longest lag.</summary>
    public int MinHistory => 2 * _o.Season + Lags[^1] + _o.TrainHorizons.Max() + 10;

    /// <summary>Per trained horizon: true when the anchor is the last reading, false for the last step value (empty before a fit).</summary>
    public IReadOnlyDictionary<int, bool> AnchorsOnReading => _fitted?.Anchors ?? new Dictionary<int, bool>();

    /// <summary>Per trained horizon: true when the trees' corrections are applied, false when the forecast is the anchor alone (empty before a fit).</summary>
    public IReadOnlyDictionary<int, bool> CorrectsAnchor => _fitted?.Calibration.ToDictionary(kv => kv.Key, kv => kv.Value.Damping != 0 || kv.Value.Momentum != 0) ?? [];

    /// <summary>
    /// Fits the model on <paramref name="history"/> (done automatically by <see cref="Forecast(ReadOnlySpan{double}, int)"/>):
    /// trees on the first 80%, then, per trained horizon, a dead band and a damping factor chosen on
    /// the last 20% to minimise its mean absolute error (L2 trees predict the mean change; a
    /// piecewise-constant demand series mostly does not change, so small predicted changes are
    /// dropped), then the share of a fresh step expected to follow (0–0.6), and the interval from
    /// those out-of-sample residuals.
    /// </summary>
    public void Fit(ReadOnlySpan<double> history) => Fit(history, []);

    /// <summary>
    /// As <see cref="Fit(ReadOnlySpan{double})"/>, with the readings inside the steps
    /// (<see cref="DemandForecastOptions.ReadingsPerStep"/> per step, oldest first, ending with the
    /// last step; empty when there are none). Each horizon's anchor (last step value or last
    /// reading) is chosen first, on the first 80%, by mean absolute error of the anchor alone. With
    /// readings the trees' corrections must also pass a nested check: the same fit on the first 70%
    /// of <paramref name="history"/>, scored on the rest, has to beat its anchor alone at that
    /// horizon, or the forecast there is the anchor alone.
    /// </summary>
    /// <exception cref="ArgumentException">The readings do not line up with the steps.</exception>
    public void Fit(ReadOnlySpan<double> history, ReadOnlySpan<double> readings)
    {
        CheckReadings(history, readings);
        var fitted = FitCore(history, readings);
        if (fitted is null) return;
        if (!readings.IsEmpty)
        {
            var innerEnd = (int)(history.Length * 0.7);
            var inner = FitCore(history[..innerEnd], readings[..(innerEnd * _o.ReadingsPerStep)]);
            var gated = new Dictionary<int, Calibration>();
            foreach (var (h, c) in fitted.Calibration)
            {
                double corrected = 0, anchorOnly = 0;
                for (var t = innerEnd - 1; inner is not null && t + h < history.Length; t++)
                {
                    var actual = history[t + h];
                    var anchor = Anchor(history, readings, t, inner.Anchors[h]);
                    corrected += Math.Abs(anchor + Correction(inner, history[..(t + 1)], Upto(readings, t), h) - actual);
                    anchorOnly += Math.Abs(anchor - actual);
                }

                gated[h] = inner is not null && corrected < anchorOnly - 1e-9 ? c : c with { DeadBand = 0, Damping = 0, Momentum = 0, Lo = c.AnchorLo, Hi = c.AnchorHi };
            }

            fitted = fitted with { Calibration = gated };
        }

        _fitted = fitted;
        _withReadings = !readings.IsEmpty;
        _fittedLength = history.Length;
        Fits++;
    }

    /// <summary>Trees, per-horizon calibration and anchors of one fit.</summary>
    private sealed record Fitted(GbmRegressor Model, IReadOnlyDictionary<int, Calibration> Calibration, IReadOnlyDictionary<int, bool> Anchors);

    private Fitted? FitCore(ReadOnlySpan<double> history, ReadOnlySpan<double> readings)
    {
        if (history.Length < MinHistory) return null;
        var first = 2 * _o.Season + Lags[^1];
        var hs = _o.TrainHorizons;
        var maxH = hs.Max();
        var fitEnd = first + (int)((history.Length - first) * 0.8);
        if (fitEnd - maxH - first <= 10 || history.Length - maxH - fitEnd <= 10) return null;
        var anchors = new Dictionary<int, bool>();
        foreach (var h in hs)
        {
            double onStep = 0, onReading = 0;
            if (!readings.IsEmpty)
            {
                for (var t = first; t < fitEnd - maxH; t++)
                {
                    onStep += Math.Abs(history[t + h] - history[t]);
                    onReading += Math.Abs(history[t + h] - LastReading(readings, t));
                }
            }

            anchors[h] = !readings.IsEmpty && onReading < onStep;
        }

        var x = new List<float[]>();
        var y = new List<float>();
        var stride = Math.Max(1, (int)Math.Ceiling((fitEnd - maxH - first) * (double)hs.Count / _o.MaxTrainRows));
        for (var t = first; t < fitEnd - maxH; t += stride)
        {
            foreach (var h in hs)
            {
                x.Add(Features(history[..(t + 1)], Upto(readings, t), h));
                y.Add((float)(history[t + h] - Anchor(history, readings, t, anchors[h])));
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
                predicted.Add(model.Predict(Features(history[..(t + 1)], Upto(readings, t), h)));
                actual.Add(history[t + h] - Anchor(history, readings, t, anchors[h]));
                fresh.Add(FreshChange(history[..(t + 1)]));
            }

            calibration[h] = Calibrate(predicted, actual, fresh);
        }

        return new Fitted(model, calibration, anchors);
    }

    /// <summary>The calibrated change from the anchor that <paramref name="f"/> forecasts, at the nearest trained horizon.</summary>
    private double Correction(Fitted f, ReadOnlySpan<double> history, ReadOnlySpan<double> readings, int stepsAhead)
    {
        var c = f.Calibration[Nearest(f, stepsAhead)];
        if (c.Damping == 0 && c.Momentum == 0) return 0;
        return Apply(f.Model.Predict(Features(history, readings, stepsAhead)), c.DeadBand, c.Damping) + c.Momentum * FreshChange(history);
    }

    private static int Nearest(Fitted f, int stepsAhead) => f.Calibration.Keys.MinBy(k => Math.Abs(k - stepsAhead));

    /// <param name="DeadBand">Predicted changes at most this large are dropped.</param>
    /// <param name="Damping">Share of a larger predicted change that is applied.</param>
    /// <param name="Momentum">Share of a fresh step expected to follow.</param>
    /// <param name="Lo">10th percentile of the validation residuals, with the corrections.</param>
    /// <param name="Hi">90th percentile, with the corrections.</param>
    /// <param name="AnchorLo">10th percentile of the validation residuals of the anchor alone.</param>
    /// <param name="AnchorHi">90th percentile, of the anchor alone.</param>
    private sealed record Calibration(double DeadBand, double Damping, double Momentum, double Lo, double Hi, double AnchorLo, double AnchorHi);

    private Fitted? _fitted;
    private bool _withReadings;

    private void CheckReadings(ReadOnlySpan<double> history, ReadOnlySpan<double> readings)
    {
        if (readings.IsEmpty) return;
        if (_o.ReadingsPerStep < 2)
            throw new ArgumentException("Readings were given but ReadingsPerStep is 1. To fix: set DemandForecastOptions.ReadingsPerStep to the number of readings per step.", nameof(readings));
        if (readings.Length != history.Length * _o.ReadingsPerStep)
            throw new ArgumentException($"{readings.Length} readings for {history.Length} steps; expected {_o.ReadingsPerStep} per step ({history.Length * _o.ReadingsPerStep}), ending with the last step. To fix: pass whole steps of readings, oldest first.", nameof(readings));
    }

    /// <summary>The readings up to the end of step <paramref name="t"/> (empty when there are none).</summary>
    private ReadOnlySpan<double> Upto(ReadOnlySpan<double> readings, int t) => readings.IsEmpty ? readings : readings[..((t + 1) * _o.ReadingsPerStep)];

    private double LastReading(ReadOnlySpan<double> readings, int t) => readings[((t + 1) * _o.ReadingsPerStep) - 1];

    private double Anchor(ReadOnlySpan<double> history, ReadOnlySpan<double> readings, int t, bool onReading) =>
        onReading ? LastReading(readings, t) : history[t];

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
        return new Calibration(best.Band, best.Damping, momentum, Stats.Quantile(residuals, 0.1), Stats.Quantile(residuals, 0.9), Stats.Quantile(actual, 0.1), Stats.Quantile(actual, 0.9));
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
    public Interval Forecast(ReadOnlySpan<double> history, int stepsAhead) => Forecast(history, [], stepsAhead);

    /// <summary>
    /// As <see cref="Forecast(ReadOnlySpan{double}, int)"/>, also given the readings inside the steps
    /// (<see cref="DemandForecastOptions.ReadingsPerStep"/> per step, oldest first, ending with the
    /// last step; empty when there are none). A model fitted with readings needs them: without, it
    /// answers the last step value.
    /// </summary>
    /// <exception cref="ArgumentException">The history is empty or the readings do not line up with it.</exception>
    public Interval Forecast(ReadOnlySpan<double> history, ReadOnlySpan<double> readings, int stepsAhead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsAhead, 1);
        if (history.Length == 0) throw new ArgumentException("The history is empty.", nameof(history));
        CheckReadings(history, readings);
        var every = _o.RetrainEvery ?? _o.Season;
        if (_fitted is null ? history.Length >= MinHistory : history.Length - _fittedLength >= every) Fit(history, readings);
        var last = history[^1];
        if (_fitted is null || history.Length < 2 * _o.Season + Lags[^1])
        {
            var naive = stepsAhead <= _o.Season && history.Length >= _o.Season ? history[history.Length - 1 + stepsAhead - _o.Season] : last;
            return Interval.Point(naive);
        }

        // Fitted with readings but given none (or the other way round): the trees' features differ.
        if (_withReadings == readings.IsEmpty) return Interval.Point(last);
        var nearest = Nearest(_fitted, stepsAhead);
        var c = _fitted.Calibration[nearest];
        var anchor = Anchor(history, readings, history.Length - 1, _fitted.Anchors[nearest]);
        var delta = Correction(_fitted, history, readings, stepsAhead);
        var estimate = Math.Max(0, anchor + delta);
        return new Interval(estimate, Math.Max(0, Math.Min(estimate, anchor + delta + c.Lo)), Math.Max(estimate, anchor + delta + c.Hi));
    }

    private float[] Features(ReadOnlySpan<double> h, ReadOnlySpan<double> readings, int ahead)
    {
        var f = new float[readings.IsEmpty ? Width : Width + FineWidth];
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
        if (readings.IsEmpty) return f;
        // The readings' trajectory inside the last step(s).
        var r = readings.Length - 1;
        var per = _o.ReadingsPerStep;
        f[i++] = (float)(readings[r] - h[t]);
        f[i++] = (float)(readings[r] - readings[Math.Max(0, r - 1)]);
        f[i++] = (float)(readings[r] - readings[Math.Max(0, r - 2)]);
        f[i++] = (float)(readings[r] - readings[Math.Max(0, r - 4)]);
        var since = 0;
        while (since < 12 * per && r - since > 0 && readings[r - since - 1] == readings[r]) since++;
        f[i++] = since;
        f[i++] = (float)(Max(readings, r, per) - Min(readings, r, per));
        f[i++] = t % s;
        f[i++] = (float)(readings[r] - Mean(readings, r, 3 * per));
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
