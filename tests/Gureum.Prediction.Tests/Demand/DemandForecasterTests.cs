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
