namespace Gureum.Cost.Budgets;

/// <summary>A lab's monthly budget in USD and the shares of it (e.g. 0.5, 0.8, 1.0) at which to alert.</summary>
public sealed record LabBudget(string Lab, decimal MonthlyUsd, IReadOnlyList<decimal> Thresholds)
{
    /// <summary>Default alert thresholds: 50 %, 80 %, 100 %.</summary>
    public static IReadOnlyList<decimal> DefaultThresholds { get; } = [0.5m, 0.8m, 1.0m];

    /// <summary>Smallest alert threshold, in percent of the budget.</summary>
    public const decimal MinThresholdPercent = 1;

    /// <summary>Largest alert threshold, in percent of the budget (ten times over budget).</summary>
    public const decimal MaxThresholdPercent = 1000;

    /// <summary>Most thresholds a budget may have.</summary>
    public const int MaxThresholdCount = 20;

    /// <summary>
    /// Checks alert thresholds given in percent of the budget (the CLI's <c>--thresholds</c> and the
    /// API's <c>alertThresholds</c>): 1 to <see cref="MaxThresholdCount"/> values, each from
    /// <see cref="MinThresholdPercent"/> to <see cref="MaxThresholdPercent"/>, no value twice; any
    /// order. Returns them sorted ascending, or the problems, each with the index of the value it is
    /// about (-1 for the list as a whole), what is wrong and how to fix it.
    /// </summary>
    public static IReadOnlyList<decimal> CheckPercents(IReadOnlyList<decimal> percents, out IReadOnlyList<(int Index, string Problem, string Fix)> problems)
    {
        var found = new List<(int, string, string)>();
        if (percents.Count == 0) found.Add((-1, "the list is empty", $"give 1 to {MaxThresholdCount} percentages of the monthly budget, e.g. 50, 80, 100"));
        if (percents.Count > MaxThresholdCount) found.Add((-1, $"{percents.Count} thresholds are more than {MaxThresholdCount}", $"give at most {MaxThresholdCount}"));
        for (var i = 0; i < percents.Count; i++)
        {
            var v = percents[i];
            if (v < MinThresholdPercent || v > MaxThresholdPercent)
                found.Add((i, $"{v} % is out of range", $"give a percentage of the monthly budget from {MinThresholdPercent} to {MaxThresholdPercent}, e.g. 80"));
            else if (percents.Take(i).Contains(v))
                found.Add((i, $"{v} % is given twice", "give each threshold once"));
        }
        problems = found;
        return found.Count == 0 ? percents.Order().ToList() : [];
    }
}

/// <summary>A budget threshold crossed: an event for the event log, the API and the log.</summary>
public sealed record BudgetAlert(string Lab, decimal Threshold, decimal SpentUsd, decimal BudgetUsd, DateOnly Month, DateTimeOffset At)
{
    public string Message => $"lab {Lab} has spent ${SpentUsd:F2} of its ${BudgetUsd:F2} budget for {Month:yyyy-MM} ({SpentUsd / BudgetUsd:P0}), crossing {Threshold:P0}.";
}

/// <summary>Which budget thresholds a change in month-to-date spend crosses.</summary>
public static class BudgetAlerts
{
    /// <summary>
    /// The thresholds crossed going from <paramref name="spentBefore"/> to <paramref name="spentNow"/>
    /// (each once, lowest first): a threshold t is crossed when before &lt; t × budget ≤ now. Calling it
    /// with the previous evaluation's spend makes alerts fire once per month per threshold.
    /// </summary>
    public static IReadOnlyList<BudgetAlert> Crossed(LabBudget budget, decimal spentBefore, decimal spentNow, DateOnly month, DateTimeOffset at)
    {
        var list = new List<BudgetAlert>();
        if (budget.MonthlyUsd <= 0) return list;
        foreach (var t in budget.Thresholds.Order())
        {
            var line = t * budget.MonthlyUsd;
            if (spentBefore < line && spentNow >= line) list.Add(new BudgetAlert(budget.Lab, t, spentNow, budget.MonthlyUsd, month, at));
        }
        return list;
    }
}

/// <summary>What the budget gate says about a job.</summary>
public enum GateVerdict
{
    Admit,
    /// <summary>Admitted although it takes the lab over budget, because an admin overrode the hold.</summary>
    AdmitOverridden,
    Hold,
}

/// <summary>The gate's answer and, when held, the reason shown to the user.</summary>
public sealed record GateDecision(GateVerdict Verdict, string? Reason, decimal ProjectedUsd, decimal BudgetUsd);

/// <summary>What the gate knows about one job and its lab this month.</summary>
/// <param name="Lab">The job's lab.</param>
/// <param name="PredictedJobUsd">The job's predicted cost (its upper estimate when the caller wants to be safe).</param>
/// <param name="SpentThisMonthUsd">The lab's spend so far this month.</param>
/// <param name="CommittedUsd">Predicted remaining cost of the lab's running and already admitted jobs.</param>
/// <param name="AdminOverride">An admin allowed this job over budget.</param>
public sealed record GateRequest(string Lab, decimal PredictedJobUsd, decimal SpentThisMonthUsd, decimal CommittedUsd, bool AdminOverride = false);

/// <summary>
/// Forecast-gated admission as a pure function: a job is held when spend so far + what running jobs
/// will still cost + the job's predicted cost exceeds the lab's monthly budget. Labs without a
/// budget are never held. An admin override admits and says so.
/// </summary>
public static class BudgetGate
{
    public static GateDecision Decide(GateRequest request, LabBudget? budget)
    {
        var projected = request.SpentThisMonthUsd + request.CommittedUsd + Math.Max(0, request.PredictedJobUsd);
        if (budget is null) return new GateDecision(GateVerdict.Admit, null, projected, 0);
        if (projected <= budget.MonthlyUsd) return new GateDecision(GateVerdict.Admit, null, projected, budget.MonthlyUsd);
        var reason = $"budget — lab {request.Lab} would reach ${projected:F2} of ${budget.MonthlyUsd:F2} this month (over budget: spent ${request.SpentThisMonthUsd:F2} + running and queued jobs ${request.CommittedUsd:F2} + this job ${request.PredictedJobUsd:F2})";
        return request.AdminOverride
            ? new GateDecision(GateVerdict.AdmitOverridden, reason + " (admin override)", projected, budget.MonthlyUsd)
            : new GateDecision(GateVerdict.Hold, reason, projected, budget.MonthlyUsd);
    }
}
