using Gureum.Prediction.Demand;
using Gureum.Simulation.Evaluation;

namespace Gureum.Prediction.Tests.Demand;

public sealed class DemandForecasterTests
{
    /// <summary>Daily cycle + slow AR(1) wander + noise, 5-min steps, 12 days.</summary>
    private static double[] Series(int seed = 3)
    {
        var rng = new Random(seed);
        var y = new double[288 * 12];
        double ar = 0;
        for (var t = 0; t < y.Length; t++)
        {
            ar = 0.97 * ar + rng.NextDouble() * 2 - 1;
            y[t] = 50 + 20 * Math.Sin(2 * Math.PI * t / 288) + 3 * ar + (rng.NextDouble() - 0.5);
        }

        return y;
    }

    [Fact]
    public void SeasonalNaive_Forecast_ReturnsValueOneSeasonBeforeTarget()
    {
        var f = new SeasonalNaiveForecaster(TimeSpan.FromMinutes(5), 4);
        double[] h = [1, 2, 3, 4, 5, 6, 7, 8];
        Assert.Equal(6, f.Forecast(h, 2).Estimate);   // target index 9 → index 5
        Assert.Equal(8, f.Forecast(h, 4).Estimate);   // target index 11 → index 7
        Assert.Equal(5, f.Forecast(h, 5).Estimate);   // h > m: two seasons back (index 12 − 8 = 4)
        Assert.Equal(8, new LastValueForecaster(TimeSpan.FromMinutes(5)).Forecast(h, 3).Estimate);
    }

    [Fact]
    public void ScoreDemand_SeasonalSeries_ModelBeatsBothBaselinesBeyondOneStep()
    {
        var scores = PredictorEvaluation.ScoreDemand(new PredictorEvaluation.DemandSeries("synthetic", Series(), TimeSpan.FromMinutes(5), 288), 0.7);
        Assert.Equal(4, scores.Count);
        // One step ahead of an AR(1) with noise, last value is near optimal: the model must not lose by more than 2%.
        Assert.True(scores[0].Model.Value <= scores[0].Baselines.Single(b => b.Predictor == "last-value").Value * 1.02, $"{scores[0]}");
        foreach (var c in scores.Skip(1)) Assert.True(c.BeatsAllBaselines, $"{c}");
    }

    [Fact]
    public void Forecast_HistoryAfterFit_UsesOnlyGivenHistory()
    {
        var y = Series();
        var a = new GbmDemandForecaster(new DemandForecastOptions { RetrainEvery = int.MaxValue });
        a.Fit(y.AsSpan(0, 288 * 8));
        var before = a.Forecast(y.AsSpan(0, 288 * 8 + 10), 6);
        // Changing values after the origin cannot change the forecast.
        var altered = (double[])y.Clone();
        for (var t = 288 * 8 + 10; t < altered.Length; t++) altered[t] = 1e6;
        Assert.Equal(before, a.Forecast(altered.AsSpan(0, 288 * 8 + 10), 6));
        Assert.InRange(before.Estimate, before.Low, before.High);
        Assert.Equal(1, a.Fits);
    }

    /// <summary>
    /// A GPU-count random walk read per minute: at random minutes the demand moves by 8 GPUs (up or
    /// down, kept within 0..200); the step values are the 5-minute means of the readings.
    /// </summary>
    private static (double[] Steps, double[] Readings) StepWalk(int days = 12, int seed = 5)
    {
        var rng = new Random(seed);
        var readings = new double[288 * 5 * days];
        double level = 96;
        for (var m = 0; m < readings.Length; m++)
        {
            if (rng.NextDouble() < 0.03) level = Math.Clamp(level + (rng.Next(2) == 0 ? -8 : 8), 0, 200);
            readings[m] = level;
        }

        return (MeansOf(readings), readings);
    }

    private static double[] MeansOf(double[] readings) =>
        Enumerable.Range(0, readings.Length / 5).Select(i => readings.AsSpan(i * 5, 5).ToArray().Average()).ToArray();

    private static GbmDemandForecaster WithReadings() => new(new DemandForecastOptions { RetrainEvery = int.MaxValue, ReadingsPerStep = 5 });

    [Fact]
    public void ScoreDemand_StepSeriesWithReadings_ModelBeatsLastValueAtEveryHorizon()
    {
        var (steps, readings) = StepWalk();
        var notes = new List<string>();
        var scores = PredictorEvaluation.ScoreDemand(new PredictorEvaluation.DemandSeries("walk", steps, TimeSpan.FromMinutes(5), 288, readings, 5), 0.7, notes.Add);
        Assert.Equal(4, scores.Count);
        foreach (var c in scores) Assert.True(c.BeatsAllBaselines, $"{c}");
        // A step taken inside the last 5 minutes is fully in the last reading, only partly in the mean.
        Assert.Contains("last reading", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_StepReadings_AnchorsOnLastReading_NoisyReadings_AnchorsOnStepMean()
    {
        var (steps, readings) = StepWalk();
        var a = WithReadings();
        a.Fit(steps.AsSpan(0, 288 * 8), readings.AsSpan(0, 288 * 8 * 5));
        Assert.All(a.AnchorsOnReading.Values, Assert.True);

        // Same levels, but each reading off by up to ±20 GPUs at random: the mean of five is the better anchor.
        var rng = new Random(9);
        var noisy = readings.Select(r => r + rng.Next(-20, 21)).ToArray();
        var b = WithReadings();
        b.Fit(MeansOf(noisy).AsSpan(0, 288 * 8), noisy.AsSpan(0, 288 * 8 * 5));
        Assert.Equal(4, b.AnchorsOnReading.Count);
        Assert.All(b.AnchorsOnReading.Values, Assert.False);
    }

    [Fact]
    public void Forecast_WithReadings_UsesOnlyReadingsUpToTheOrigin()
    {
        var (steps, readings) = StepWalk();
        var f = WithReadings();
        f.Fit(steps.AsSpan(0, 288 * 8), readings.AsSpan(0, 288 * 8 * 5));
        var origin = 288 * 8 + 10;
        var before = f.Forecast(steps.AsSpan(0, origin), readings.AsSpan(0, origin * 5), 3);
        // Anything after the origin changed: same forecast.
        var (s2, r2) = ((double[])steps.Clone(), (double[])readings.Clone());
        for (var t = origin; t < s2.Length; t++) s2[t] = 1e6;
        for (var m = origin * 5; m < r2.Length; m++) r2[m] = 1e6;
        Assert.Equal(before, f.Forecast(s2.AsSpan(0, origin), r2.AsSpan(0, origin * 5), 3));
        Assert.InRange(before.Estimate, before.Low, before.High);
        // The last reading before the origin moved by 40 GPUs: the forecast follows it.
        r2[(origin * 5) - 1] += 40;
        Assert.True(f.Forecast(s2.AsSpan(0, origin), r2.AsSpan(0, origin * 5), 3).Estimate > before.Estimate + 20);
        Assert.Equal(1, f.Fits);
    }

    [Fact]
    public void Forecast_ReadingsNotWholeSteps_ThrowsWithFix()
    {
        var (steps, readings) = StepWalk(days: 1);
        var e = Assert.Throws<ArgumentException>(() => WithReadings().Forecast(steps.AsSpan(0, 100), readings.AsSpan(0, 499), 1));
        Assert.Contains("To fix", e.Message, StringComparison.Ordinal);
        var one = new GbmDemandForecaster();
        Assert.Throws<ArgumentException>(() => one.Forecast(steps.AsSpan(0, 100), readings.AsSpan(0, 500), 1));
    }

    [Fact]
    public void Forecast_ShortHistory_FallsBackWithoutFitting()
    {
        var f = new GbmDemandForecaster();
        Assert.Equal(7, f.Forecast([5, 6, 7], 3).Estimate);
        Assert.Equal(0, f.Fits);
    }
}

public sealed class FreshChangeTests
{
    [Theory]
    [InlineData(new double[] { 4, 4, 6 }, 2)]     // flat, then moved: a fresh step
    [InlineData(new double[] { 4, 5, 6 }, 0)]     // was already moving
    [InlineData(new double[] { 4, 4, 4 }, 0)]     // no step
    [InlineData(new double[] { 4, 6 }, 0)]        // too short to tell
    public void FreshChange_LastThreePoints_ReturnsStepOnlyAfterFlat(double[] history, double expected) =>
        Assert.Equal(expected, GbmDemandForecaster.FreshChange(history));
}
