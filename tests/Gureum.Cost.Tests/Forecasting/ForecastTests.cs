using Gureum.Cost.Forecasting;
using Xunit.Abstractions;

namespace Gureum.Cost.Tests.Forecasting;

public sealed class ForecastTests(ITestOutputHelper output)
{
    [Fact]
    public void HoltWinters_SeasonalSeriesWithTrendAndNoise_BeatsSeasonalNaiveAndCoversAbout80Percent()
    {
        var rnd = new Random(7);
        var y = Enumerable.Range(0, 24 * 40).Select(t => 100 + 0.05 * t + 20 * Math.Sin(2 * Math.PI * t / 24) + rnd.NextDouble() * 6 - 3).ToArray();
        var b = ForecastEvaluation.Run(y, 24, 24, 10);
        output.WriteLine($"{b}");
        Assert.Equal(10, b.Origins);
        Assert.True(b.ModelMase < b.SeasonalNaiveMase, $"{b}");
        Assert.InRange(b.Coverage80, 0.6, 0.97);
    }

    [Fact]
    public void HoltWinters_TooShortForASeason_FallsBackToNoSeason()
    {
        var hw = HoltWinters.Fit([1, 2, 3, 4, 5, 6], 7);
        Assert.Equal(1, hw.Season);
        var f = hw.Forecast(3);
        Assert.True(f[0].Estimate > 5.5 && f[2].Estimate >= f[0].Estimate, string.Join(", ", f));
        Assert.True(f[2].High - f[2].Low >= f[0].High - f[0].Low);
    }

    [Fact]
    public void SeasonalBlend_ThreeSeasonsOfHistory_AveragesHoltWintersLastSeasonAndTwoSeasonMean()
    {
        var y = Enumerable.Range(0, 72).Select(t => (double)(t % 24) + (t >= 48 ? 10 : 0)).ToArray();
        var blend = SeasonalBlend.Fit(y, 24, 24).Forecast(24);
        var hw = HoltWinters.Fit(y, 24, 24).Forecast(24);
        for (var h = 1; h <= 24; h++)
        {
            var last = y[72 - 24 + h - 1];
            var twoBack = (last + y[72 - 48 + h - 1]) / 2;
            Assert.Equal(last, SeasonalBlend.SeasonalNaive(y, 24, h));
            Assert.Equal(twoBack, SeasonalBlend.TwoSeasonMean(y, 24, h));
            Assert.Equal((hw[h - 1].Estimate + last + twoBack) / 3, blend[h - 1].Estimate, 9);
            Assert.Equal(hw[h - 1].High - hw[h - 1].Low, blend[h - 1].High - blend[h - 1].Low, 9);
        }

        // Uses only the history it was fitted on: a later point changes nothing already forecast.
        var longer = SeasonalBlend.Fit(y.Append(1000).ToArray().AsSpan(0, 72), 24, 24).Forecast(24);
        Assert.Equal(blend, longer);
    }

    [Fact]
    public void SeasonalBlend_LessThanTwoSeasons_UsesOneSeasonBack()
    {
        double[] y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(4, SeasonalBlend.TwoSeasonMean(y, 7, 1));
        Assert.Equal(10, SeasonalBlend.SeasonalNaive(y, 24, 1));
        Assert.Equal(3, SeasonalBlend.Fit(y, 7, 3).Forecast(3).Length);
    }

    [RealDataFact]
    public void Backtest_DatacenterSeriesHourly_ModelMaseBelowSeasonalNaive()
    {
        var dir = TestData.PathOf("utilization", "datacenter_aggregates_5min");
        var wins = 0;
        foreach (var (file, col) in DatacenterSeries.Files)
        {
            var hourly = ForecastEvaluation.Aggregate(DatacenterSeries.Load(Path.Combine(dir, file), col), 12);
            var b = ForecastEvaluation.Run(hourly, season: 24, horizon: 24, origins: 5);
            output.WriteLine($"{file}: hours {hourly.Length} {b}");
            Assert.Equal(5, b.Origins);
            if (b.ModelMase < b.SeasonalNaiveMase) wins++;
        }
        Assert.True(wins == 3, $"model beat seasonal naive on {wins} of 3 series");
    }
}
