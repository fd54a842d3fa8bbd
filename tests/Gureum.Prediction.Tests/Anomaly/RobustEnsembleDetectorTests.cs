using Gureum.Prediction.Anomaly;

namespace Gureum.Prediction.Tests.Anomaly;

public sealed class RobustEnsembleDetectorTests
{
    private static readonly DateTimeOffset T0 = new(2014, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Seeded series: daily sine, noise, a nightly spike, a level shift and a single outlier.
    private static double[] Series(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = 50 + 10 * Math.Sin(2 * Math.PI * i / 288) + rng.NextDouble() * 3;
            if (i % 288 == 30) x[i] += 40;
            if (i > 2500) x[i] += 25;
        }
        if (n > 1800) x[1800] = 400;
        return x;
    }

    private static double[] Run(double[] values)
    {
        var d = new RobustEnsembleDetector();
        return values.Select((v, i) => d.Score(T0.AddMinutes(5 * i), v)).ToArray();
    }

    [Fact]
    public void Score_ChangingLaterPoints_DoesNotChangeEarlierScores()
    {
        var original = Series(3000, 1);
        var baseline = Run(original);
        foreach (var k in new[] { 100, 1000, 1799, 2600 })
        {
            var altered = (double[])original.Clone();
            var rng = new Random(k);
            for (var i = k; i < altered.Length; i++) altered[i] = rng.NextDouble() * 1000 - 500;
            var scores = Run(altered);
            Assert.Equal(baseline.Take(k), scores.Take(k));
        }
    }

    [Fact]
    public void Score_AlwaysWithinUnitInterval_AndDeterministic()
    {
        var values = Series(3000, 2);
        var a = Run(values);
        Assert.All(a, s => Assert.InRange(s, 0.0, 1.0));
        Assert.Equal(a, Run(values));
    }

    [Fact]
    public void Score_BigOutlier_ScoresAboveEverythingBeforeIt()
    {
        var scores = Run(Series(2000, 3));
        Assert.True(scores[1800] > 0.3, $"outlier scored {scores[1800]}");
        Assert.True(scores[1800] > scores.Take(1800).Max());
    }

    [Fact]
    public void Score_SpikeRepeatingDailyAtSameTime_IsExplainedAfterTheFirstDays()
    {
        var scores = Run(Series(2400, 4));
        // The nightly spike at row 30 of each day: after a week it is within the seasonal range.
        var lateSpikes = Enumerable.Range(0, 2400).Where(i => i % 288 == 30 && i > 288 * 7).Select(i => scores[i]);
        Assert.All(lateSpikes, s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void Score_NonFiniteValue_ScoresZeroAndKeepsState()
    {
        var values = Series(600, 5);
        var d1 = new RobustEnsembleDetector();
        var d2 = new RobustEnsembleDetector();
        for (var i = 0; i < values.Length; i++)
        {
            var t = T0.AddMinutes(5 * i);
            if (i == 300) Assert.Equal(0.0, d2.Score(t, double.NaN));
            Assert.Equal(d1.Score(t, values[i]), d2.Score(t, values[i]));
        }
    }

    // Flat series with a nightly spike at 03:00 that grows by `growth` (a fraction of itself) each day.
    private static double[] GrowingNightlySpike(double growth, int seed)
    {
        var rng = new Random(seed);
        var x = new double[288 * 12];
        for (var i = 0; i < x.Length; i++)
            x[i] = i % 288 == 36 ? 100 * Math.Pow(1 + growth, i / 288) : 1 + rng.NextDouble() * 0.1;
        return x;
    }

    private static double[] NightlySpikeScores(double[] x, double margin)
    {
        var d = new RobustEnsembleDetector(new RobustEnsembleOptions { SeasonalMargin = margin });
        var scores = x.Select((v, i) => d.Score(T0.AddMinutes(5 * i), v)).ToArray();
        return Enumerable.Range(0, x.Length).Where(i => i % 288 == 36 && i > 288 * 8).Select(i => scores[i]).ToArray();
    }

    [Fact]
    public void Score_NightlySpikeGrowingByTwoPercentADay_IsExplainedWithTheSeasonalMargin()
    {
        var x = GrowingNightlySpike(0.02, 8);
        Assert.All(NightlySpikeScores(x, 0.1), s => Assert.Equal(0.0, s));
        // Without the margin each day's spike is a new record, and scores.
        Assert.Contains(NightlySpikeScores(x, 0), s => s > 0.1);
    }

    [Fact]
    public void Score_NightlySpikeJumpingByHalf_IsNotExplainedByTheSeasonalMargin()
    {
        var x = GrowingNightlySpike(0, 9);
        x[288 * 10 + 36] *= 1.5;
        var d = new RobustEnsembleDetector();
        var scores = x.Select((v, i) => d.Score(T0.AddMinutes(5 * i), v)).ToArray();
        Assert.True(scores[288 * 10 + 36] > 0.3, $"a spike half again as high scored {scores[288 * 10 + 36]}");
    }

    // Busy series with short daily-ish silences (runs of 0 up to 50 points), then silent from row 2400 on.
    private static double[] SilentFrom(int n, int silentFrom, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (var i = 0; i < n; i++)
            x[i] = i >= silentFrom || i % 300 < 50 ? 0 : 10 + rng.NextDouble() * 10;
        return x;
    }

    [Fact]
    public void Score_SilenceLongerThanADayAndThanAnyRunOfTheWeek_AlarmsOnceAtADay()
    {
        var scores = Run(SilentFrom(3000, 2400, 6));
        var atADay = 2400 + 288 - 1;
        Assert.True(scores[atADay] > 0.2, $"a day of silence scored {scores[atADay]}");
        Assert.True(scores[atADay] > scores.Take(atADay).Skip(300).Max(), "the silence should outrank everything before it");
        Assert.All(scores.Skip(atADay + 1), s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void Score_SilentSeriesChangedLater_DoesNotChangeEarlierScores()
    {
        // The run-length and seasonal-margin paths, under the same no-look-ahead check.
        var original = SilentFrom(3000, 2400, 11);
        var baseline = Run(original);
        foreach (var k in new[] { 2400, 2686, 2687, 2900 })
        {
            var altered = (double[])original.Clone();
            for (var i = k; i < altered.Length; i++) altered[i] = 5 + i % 7;
            Assert.Equal(baseline.Take(k), Run(altered).Take(k));
        }
    }

    [Fact]
    public void Score_SilenceWithQuietRunFeatureOff_IsNotSeen()
    {
        var d = new RobustEnsembleDetector(new RobustEnsembleOptions { QuietRunMinimum = 0 });
        var scores = SilentFrom(3000, 2400, 6).Select((v, i) => d.Score(T0.AddMinutes(5 * i), v)).ToArray();
        Assert.All(scores.Skip(2450), s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void Score_SilenceNoLongerThanAnEarlierOneThisWeek_IsNotAnAlarm()
    {
        // A 400-point silence, then busy, then a 350-point silence: the second is not the longest of the week.
        var x = SilentFrom(3000, 3000, 7);
        for (var i = 900; i < 1300; i++) x[i] = 0;
        for (var i = 2400; i < 2750; i++) x[i] = 0;
        var scores = Run(x);
        Assert.All(scores.Skip(2450).Take(300), s => Assert.InRange(s, 0.0, 0.05));
    }

    [Fact]
    public void Score_SilenceBeforeAWeekOfHistory_IsNotJudged()
    {
        // "Longest of the week" needs a week (2016 points) of history: a silence from row 1000 is not scored.
        var scores = Run(SilentFrom(3000, 1000, 10));
        Assert.All(scores.Skip(1050), s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void Options_Invalid_Throw() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RobustEnsembleDetector(new RobustEnsembleOptions { CalibrationWindow = 2 }));
}
