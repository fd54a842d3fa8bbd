using Gureum.Cost.Budgets;

namespace Gureum.Cost.Tests.Budgets;

public sealed class BudgetTests
{
    private static readonly LabBudget Nlp = new("nlp", 1000m, LabBudget.DefaultThresholds);
    private static readonly DateOnly Month = new(2024, 9, 1);

    [Fact]
    public void Crossed_SpendJumpsOverTwoThresholds_AlertsBothOnceLowestFirst()
    {
        var a = BudgetAlerts.Crossed(Nlp, 400m, 850m, Month, B.T0);
        Assert.Equal(new[] { 0.5m, 0.8m }, a.Select(x => x.Threshold));
        Assert.Empty(BudgetAlerts.Crossed(Nlp, 850m, 900m, Month, B.T0));
        Assert.Equal(1.0m, Assert.Single(BudgetAlerts.Crossed(Nlp, 900m, 1000m, Month, B.T0)).Threshold);
    }

    [Fact]
    public void Decide_JobWouldTakeLabOverBudget_HeldWithReason()
    {
        var d = BudgetGate.Decide(new GateRequest("nlp", 150m, 800m, 100m), Nlp);
        Assert.Equal(GateVerdict.Hold, d.Verdict);
        Assert.Contains("over budget", d.Reason);
        Assert.Equal(1050m, d.ProjectedUsd);
    }

    [Fact]
    public void Decide_FitsExactly_Admitted()
    {
        Assert.Equal(GateVerdict.Admit, BudgetGate.Decide(new GateRequest("nlp", 100m, 800m, 100m), Nlp).Verdict);
    }

    [Fact]
    public void Decide_AdminOverride_AdmittedAndSaysSo()
    {
        var d = BudgetGate.Decide(new GateRequest("nlp", 5000m, 800m, 0m, AdminOverride: true), Nlp);
        Assert.Equal(GateVerdict.AdmitOverridden, d.Verdict);
        Assert.Contains("admin override", d.Reason);
    }

    [Fact]
    public void Decide_LabWithoutBudget_NeverHeld()
    {
        Assert.Equal(GateVerdict.Admit, BudgetGate.Decide(new GateRequest("cv", 1e6m, 1e6m, 0m), null).Verdict);
    }
}
