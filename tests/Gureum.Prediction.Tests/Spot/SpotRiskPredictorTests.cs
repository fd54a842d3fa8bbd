using Gureum.Prediction.Spot;

namespace Gureum.Prediction.Tests.Spot;

public sealed class SpotRiskPredictorTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ConstantHazard_OneLossInFourUpHours_ExpOfRateWithPrior()
    {
        var p = new ConstantHazardSpotRiskPredictor();
        bool[] ups = [true, true, true, true, false, true];
        for (var i = 0; i < ups.Length; i++) p.Observe("z", "V100", T0.AddHours(i), ups[i]);
        // Up hours before the last tick: 0→1→2→3→4 (4 h) then 5 is up after a down (no up time). Losses: 1.
        var lambda = (1 + 0.5) / (4 + 24.0);
        Assert.Equal(Math.Exp(-lambda * 2), p.SurvivalProbability("z", "V100", TimeSpan.FromHours(2), T0.AddHours(5)), 9);
        Assert.Equal(Math.Exp(-0.5 / 24 * 2), p.SurvivalProbability("unknown", null, TimeSpan.FromHours(2), T0), 9);
        Assert.Equal(1, p.SurvivalProbability("z", "V100", TimeSpan.Zero, T0));
    }

    [Fact]
    public void SurvivalProbability_ObservationsAfterNow_Ignored()
    {
        var a = new ConstantHazardSpotRiskPredictor();
        var b = new ConstantHazardSpotRiskPredictor();
        for (var i = 0; i < 48; i++)
        {
            a.Observe("z", null, T0.AddHours(i), true);
            b.Observe("z", null, T0.AddHours(i), true);
        }

        for (var i = 48; i < 96; i++) b.Observe("z", null, T0.AddHours(i), i % 2 == 0); // a storm, later
        var now = T0.AddHours(47.5);
        Assert.Equal(a.SurvivalProbability("z", null, TimeSpan.FromHours(4), now), b.SurvivalProbability("z", null, TimeSpan.FromHours(4), now));
        Assert.True(b.SurvivalProbability("z", null, TimeSpan.FromHours(4), T0.AddHours(95)) < a.SurvivalProbability("z", null, TimeSpan.FromHours(4), now));
    }

    [Fact]
    public void Observe_OutOfOrder_Throws()
    {
        var p = new GbmSpotRiskPredictor();
        p.Observe("z", null, T0.AddHours(1), true);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Observe("z", null, T0, true));
    }
}
