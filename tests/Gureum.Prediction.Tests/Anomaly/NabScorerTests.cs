using Gureum.Prediction.Anomaly;

namespace Gureum.Prediction.Tests.Anomaly;

public sealed class NabScorerTests
{
    // 100 rows, one per minute; probation = floor(0.15 × 100) = 15 rows; one window on rows 50..59 (width 10).
    private static NabSeries Series(int rows = 100, params (int Start, int End)[] windows)
    {
        var t0 = new DateTimeOffset(2014, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ts = Enumerable.Range(0, rows).Select(i => t0.AddMinutes(i)).ToArray();
        if (windows.Length == 0) windows = [(50, 59)];
        return new NabSeries
        {
            Key = "test/series.csv",
            Timestamps = ts,
            Values = new double[rows],
            Windows = windows.Select(w => new NabWindow(ts[w.Start], ts[w.End], w.Start, w.End)).ToArray(),
        };
    }

    private static double[] DetectAt(int rows, params int[] indices)
    {
        var s = new double[rows];
        foreach (var i in indices) s[i] = 1.0;
        return s;
    }

    private static double Raw(NabProfile profile, params int[] detections)
    {
        var series = Series();
        return new NabScorer(profile).ScoreFile(series, DetectAt(series.Count, detections), 0.5).Score;
    }

    // σ(x) = 2/(1+e^{5x}) − 1; σ(−1) = 0.986614.
    [Theory]
    [InlineData(-1.0, 0.9866143)]
    [InlineData(-0.5, 0.8482836)]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, -0.8482836)]
    [InlineData(3.5, -1.0)]
    public void ScaledSigmoid_KnownPoints_MatchNab(double x, double expected) =>
        Assert.Equal(expected, NabScorer.ScaledSigmoid(x), 6);

    [Theory]
    [InlineData(100, 15)]
    [InlineData(4032, 604)]
    [InlineData(10000, 750)] // the 5000-row rule: at most 0.15 × 5000
    public void ProbationaryLength_FollowsFifteenPercentAndCap(int rows, int expected) =>
        Assert.Equal(expected, new NabScorer(NabProfile.Standard).ProbationaryLength(rows));

    [Fact]
    public void ScoreFile_DetectionAtWindowStart_EarnsFullTpWeight() =>
        Assert.Equal(1.0, Raw(NabProfile.Standard, 50), 6);

    [Fact]
    public void ScoreFile_DetectionAtWindowEnd_EarnsSigmoidOfMinusOneTenth()
    {
        // position −(59 − 59 + 1)/10 = −0.1 → σ(−0.1)/σ(−1) = 0.244919/0.986614 = 0.248242.
        Assert.Equal(0.2482415, Raw(NabProfile.Standard, 59), 6);
    }

    [Fact]
    public void ScoreFile_DetectionMidWindow_EarnsSigmoidOfMinusHalf()
    {
        // row 55: −(59 − 55 + 1)/10 = −0.5 → 0.848284/0.986614 = 0.859793.
        Assert.Equal(0.8597926, Raw(NabProfile.Standard, 55), 6);
    }

    [Fact]
    public void ScoreFile_OnlyEarliestDetectionInWindowCounts() =>
        Assert.Equal(Raw(NabProfile.Standard, 50), Raw(NabProfile.Standard, 50, 52, 55, 59), 9);

    [Fact]
    public void ScoreFile_DetectionBeforeAnyWindow_CostsFullFpWeightAndWindowIsMissed()
    {
        Assert.Equal(-0.11 - 1.0, Raw(NabProfile.Standard, 20), 9);
        Assert.Equal(-0.22 - 1.0, Raw(NabProfile.RewardLowFpRate, 20), 9);
        Assert.Equal(-0.11 - 2.0, Raw(NabProfile.RewardLowFnRate, 20), 9);
    }

    [Fact]
    public void ScoreFile_DetectionJustAfterWindow_IsWeightedByDistance()
    {
        // row 64: (64 − 59)/(10 − 1) = 0.5556 → σ = −0.882926 → × 0.11 = −0.097122; plus the missed window.
        Assert.Equal(-1.0971219, Raw(NabProfile.Standard, 64), 6);
    }

    [Fact]
    public void ScoreFile_DetectionFarAfterWindow_CostsFullFpWeight()
    {
        // row 95: 36/9 = 4 > 3 → σ = −1.
        Assert.Equal(-1.11, Raw(NabProfile.Standard, 95), 9);
    }

    [Fact]
    public void ScoreFile_DetectionInProbation_IsIgnored()
    {
        Assert.Equal(-1.0, Raw(NabProfile.Standard, 3), 9);
        var counts = new NabScorer(NabProfile.Standard).ScoreFile(Series(), DetectAt(100, 3, 50), 0.5).Counts;
        Assert.Equal(new NabCounts(Tp: 1, Tn: 75, Fp: 0, Fn: 9), counts);
    }

    [Fact]
    public void OptimizeThreshold_PicksBestSweepPoint()
    {
        // 0.9 at the window start, 0.5 far outside, 0 elsewhere: thresholds 1.1 → −1, 0.9 → +1,
        // 0.5 → 1 − 0.11 = 0.89, 0 → every row detected (75 FPs): the best is 0.9.
        var series = Series();
        var scores = new double[100];
        scores[50] = 0.9;
        scores[95] = 0.5;
        var best = new NabScorer(NabProfile.Standard).OptimizeThreshold([(series, scores)]);
        Assert.Equal(0.9, best.Threshold);
        Assert.Equal(1.0, best.Score, 9);
    }

    [Fact]
    public void OptimizeThreshold_NoUsefulScores_KeepsNoDetectionThreshold()
    {
        var series = Series();
        var best = new NabScorer(NabProfile.Standard).OptimizeThreshold([(series, new double[100])]);
        Assert.Equal(NabScorer.NoDetectionThreshold, best.Threshold);
        Assert.Equal(-1.0, best.Score, 9);
    }

    [Fact]
    public void OptimizeThreshold_SumsOverFiles_AndMatchesPerFileScores()
    {
        var a = Series();
        var b = Series(200, (100, 139));
        var sa = new double[100];
        sa[55] = 0.8;
        sa[90] = 0.7;
        var sb = new double[200];
        sb[100] = 0.7;
        sb[150] = 0.3;
        var scorer = new NabScorer(NabProfile.Standard);
        var best = scorer.OptimizeThreshold([(a, sa), (b, sb)]);
        Assert.Equal(0.7, best.Threshold);
        var perFile = scorer.ScoreFile(a, sa, best.Threshold).Score + scorer.ScoreFile(b, sb, best.Threshold).Score;
        Assert.Equal(best.Score, perFile, 9);
        Assert.Equal(0.8597926 - 0.11 + 1.0, best.Score, 6);
    }

    [Fact]
    public void Normalization_NullIsZeroAndPerfectIsHundred()
    {
        var corpus = new[] { Series(), Series(200, (100, 139), (160, 169)) };
        foreach (var profile in NabProfile.All)
        {
            var nullRun = NabRunner.ScoreProfile(corpus.Select(s => new NabSeriesResult(s, new double[s.Count])).ToList(), profile);
            Assert.Equal(-3 * profile.FnWeight, nullRun.NullScore, 9);
            Assert.Equal(0.0, nullRun.NormalizedScore, 9);

            var perfect = corpus.Select(s => new NabSeriesResult(s, DetectAt(s.Count, s.Windows.Select(w => w.StartIndex).ToArray()))).ToList();
            var perfectRun = NabRunner.ScoreProfile(perfect, profile);
            Assert.Equal(3 * profile.TpWeight, perfectRun.PerfectScore, 9);
            Assert.Equal(100.0, perfectRun.NormalizedScore, 9);
        }
    }
}
