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
        Assert.True(wins >= 2, $"model beat seasonal naive on {wins} of 3 series");
    }
}
