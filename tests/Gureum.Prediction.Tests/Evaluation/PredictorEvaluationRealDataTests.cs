using Gureum.Simulation.Evaluation;
using Xunit.Abstractions;

namespace Gureum.Prediction.Tests.Evaluation;

/// <summary>
/// The measured claims of the README's Predictors table, on the real data: these fail (in CI) if a
/// model stops beating a baseline it was measured to beat. The comparisons it does not win yet
/// (Helios demand at some horizons, where the model ties last value) are printed, and only bounded.
/// </summary>
public sealed class PredictorEvaluationRealDataTests(ITestOutputHelper output)
{
    private PredictorReport Run(string task)
    {
        var report = PredictorEvaluation.Run(new PredictorEvaluationOptions
        {
            DataRoot = TestData.Root ?? throw new InvalidOperationException("real data not found: set GUREUM_DATA"),
            Tasks = new HashSet<string>([task]),
        });
        output.WriteLine(report.ToTable());
        Assert.NotEmpty(report.Comparisons);
        return report;
    }

    [RealDataFact]
    public void Duration_OpenbAndDlrm_ModelBeatsEveryBaselineOnBothMetrics()
    {
        var r = Run("duration");
        Assert.Equal(4, r.Comparisons.Count);
        foreach (var c in r.Comparisons) Assert.True(c.BeatsAllBaselines, $"{c}");
    }

    [RealDataFact]
    public void Demand_DatacenterSeries_ModelBeatsBothBaselinesAtEveryHorizon_HeliosWithinOnePercentOfLastValue()
    {
        var r = Run("demand");
        var dc = r.Comparisons.Where(c => !c.Dataset.StartsWith("helios", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, dc.Count);
        foreach (var c in dc) Assert.True(c.BeatsAllBaselines, $"{c}");
        var helios = r.Comparisons.Where(c => c.Dataset.StartsWith("helios", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, helios.Count);
        foreach (var c in helios)
        {
            Assert.True(c.Model.Value < c.Baselines.Single(b => b.Predictor == "seasonal-naive").Value, $"{c}");
            Assert.True(c.Model.Value <= c.Baselines.Single(b => b.Predictor == "last-value").Value * 1.01, $"{c}");
        }

        // The fresh-step share wins where the validation part showed it (measured: 4 of 12).
        Assert.True(helios.Count(c => c.BeatsAllBaselines) >= 4, string.Join("\n", helios));
    }

    [RealDataFact]
    public void Spot_AllMarkets_ModelBrierBelowConstantHazardAtEveryHorizon()
    {
        var r = Run("spot");
        Assert.Equal(3, r.Comparisons.Count);
        foreach (var c in r.Comparisons) Assert.True(c.BeatsAllBaselines, $"{c}");
    }

    [RealDataFact]
    public void Wait_OpenbContendedReplay_ModelErrorBelowSlurmEstimates()
    {
        var r = Run("wait");
        Assert.Equal(2, r.Comparisons.Count);
        foreach (var c in r.Comparisons)
        {
            Assert.True(c.Samples >= 100, $"{c}");
            Assert.True(c.BeatsAllBaselines, $"{c}");
        }
    }
}
