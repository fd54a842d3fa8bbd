using Gureum.Simulation.Evaluation;
using Xunit.Abstractions;

namespace Gureum.Prediction.Tests.Evaluation;

/// <summary>
/// The measured claims of the README's Predictors table, on the real data: these fail (in CI) if a
/// model stops beating a baseline it was measured to beat.
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
    public void Demand_DatacenterAndHeliosSeries_ModelBeatsBothBaselinesAtEveryHorizon()
    {
        var r = Run("demand");
        var dc = r.Comparisons.Where(c => !c.Dataset.StartsWith("helios", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, dc.Count);
        foreach (var c in dc) Assert.True(c.BeatsAllBaselines, $"{c}");
        var helios = r.Comparisons.Where(c => c.Dataset.StartsWith("helios", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, helios.Count);
        foreach (var c in helios) Assert.True(c.BeatsAllBaselines, $"{c}");
        // The choices made on the training part are printed with the per-minute reference.
        Assert.Equal(3, r.Notes.Count(n => n.StartsWith("demand/helios/", StringComparison.Ordinal) && n.Contains("last per-minute reading alone", StringComparison.Ordinal)));
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
