namespace Gureum.Cost.Forecasting;

/// <summary>
/// The forecaster the cost tools use: the equal-weight combination of three forecasts — damped
/// additive Holt-Winters (<see cref="HoltWinters"/>), seasonal naive (the value one season back) and
/// the mean of the values one and two seasons back. Same settings for every series; nothing is
/// estimated beyond Holt-Winters' own parameters. Equal weights because, on histories of a week or
/// a month, weights validated on the history were noisier than the plain average (the "forecast
/// combination puzzle"; on the Alibaba 2018 week validated weights scored MASE 0.755–0.782 against
/// the average's 0.734). With less than two seasons of history the two-season mean is the one-season
/// value. The 80 % interval is Holt-Winters' (Hyndman et al.) centred on the combination.
/// </summary>
public sealed class SeasonalBlend
{
    private readonly double[] _history;
    private readonly HoltWinters _model;

    private SeasonalBlend(double[] history, int season, HoltWinters model)
    {
        _history = history;
        Season = season;
        _model = model;
    }

    /// <summary>Season length in steps.</summary>
    public int Season { get; }

    /// <summary>Fits on <paramref name="y"/> for forecasts up to <paramref name="horizon"/> steps ahead
    /// (Holt-Winters' parameters are chosen for that horizon).</summary>
    /// <exception cref="ArgumentException">Empty history, or a season or horizon below 1.</exception>
    public static SeasonalBlend Fit(ReadOnlySpan<double> y, int season, int horizon)
    {
        if (y.Length == 0) throw new ArgumentException("The history is empty.", nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        return new SeasonalBlend(y.ToArray(), season, HoltWinters.Fit(y, season, horizon));
    }

    /// <summary>The next <paramref name="steps"/> values with 80 % intervals.</summary>
    public ForecastPoint[] Forecast(int steps)
    {
        var hw = _model.Forecast(steps);
        var result = new ForecastPoint[steps];
        for (var h = 1; h <= steps; h++)
        {
            var f = hw[h - 1];
            var est = (f.Estimate + SeasonalNaive(_history, Season, h) + TwoSeasonMean(_history, Season, h)) / 3;
            var half = (f.High - f.Low) / 2;
            result[h - 1] = new ForecastPoint(est, est - half, est + half);
        }

        return result;
    }

    /// <summary>y[t + h − m·k] with k the least whole number of seasons back (the last value when the
    /// history is shorter than that).</summary>
    public static double SeasonalNaive(ReadOnlySpan<double> history, int season, int h)
    {
        var back = season * ((h - 1) / season + 1);
        var i = history.Length - 1 + h - back;
        return i >= 0 ? history[i] : history[^1];
    }

    /// <summary>Mean of the seasonal naive value and the value one season before it (just the
    /// seasonal naive value when the history does not reach that far).</summary>
    public static double TwoSeasonMean(ReadOnlySpan<double> history, int season, int h)
    {
        var back = season * ((h - 1) / season + 1);
        var i = history.Length - 1 + h - back;
        if (i < 0) return history[^1];
        return i - season >= 0 ? (history[i] + history[i - season]) / 2 : history[i];
    }
}
