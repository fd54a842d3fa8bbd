using Google.OrTools.LinearSolver;

namespace Gureum.Cost.Savings;

/// <summary>On-demand demand of one pool (an instance type): nodes held in each hour, and its on-demand price.</summary>
public sealed record DemandPool(string Name, decimal OnDemandPerHour, IReadOnlyList<double> NodesPerHour);

/// <summary>
/// Commitment prices as discounts off on-demand. Defaults are Google Cloud's published committed-use
/// discounts for a 1-year term: resource-based (a fixed number of a machine/GPU type) 37 %, and
/// spend-based flexible (a $/hour commitment usable by any machine type) 28 %. Reserved and flexible
/// commitments are paid for every hour of the term whether used or not.
/// </summary>
public sealed record CommitmentOptions
{
    /// <summary>Discount of a reserved node of one pool. Default 0.37.</summary>
    public double ReservedDiscount { get; init; } = 0.37;
    /// <summary>Discount of the flexible spend commitment. Default 0.28.</summary>
    public double FlexibleDiscount { get; init; } = 0.28;
    /// <summary>The flexible commitment is bought in steps of this many dollars per hour. Default $1/h.</summary>
    public decimal FlexibleStepPerHour { get; init; } = 1m;
}

/// <summary>A commitment plan: reserved nodes per pool, flexible $/h, and costs over the planning horizon.</summary>
public sealed record CommitmentPlan(IReadOnlyDictionary<string, int> Reserved, decimal FlexiblePerHour, decimal OnDemandOnlyUsd, decimal PlannedUsd, string Solver)
{
    public decimal SavingUsd => OnDemandOnlyUsd - PlannedUsd;
}

/// <summary>
/// How much reserved and flexible committed capacity to buy for a demand forecast: the mixed-integer
/// program min H·Σ_k r_k p_k (1 − d_r) + H·s + Σ_t y_t subject to z_kt ≥ p_k (u_kt − r_k), z ≥ 0,
/// y_t ≥ Σ_k z_kt − s / (1 − d_f), y ≥ 0, r_k and s / step integer — reserved nodes cover their pool
/// first, the flexible commitment then covers on-demand spend of any pool at its discount, the rest
/// is paid on demand. Solved with OR-Tools (SCIP, else CBC).
/// </summary>
public static class CommitmentPlanner
{
    public static CommitmentPlan Optimize(IReadOnlyList<DemandPool> pools, CommitmentOptions? options = null)
    {
        options ??= new CommitmentOptions();
        var hours = pools.Count == 0 ? 0 : pools.Max(p => p.NodesPerHour.Count);
        var solverName = "SCIP";
        using var solver = Solver.CreateSolver(solverName) ?? Solver.CreateSolver(solverName = "CBC") ?? throw new InvalidOperationException("OR-Tools has neither SCIP nor CBC in this build.");
        var objective = solver.Objective();
        objective.SetMinimization();
        var r = new Variable[pools.Count];
        var step = (double)options.FlexibleStepPerHour;
        var maxFlex = pools.Sum(p => (double)p.OnDemandPerHour * p.NodesPerHour.DefaultIfEmpty(0).Max());
        var flexUnits = solver.MakeIntVar(0, Math.Ceiling(maxFlex / step), "flex");
        objective.SetCoefficient(flexUnits, hours * step);
        for (var k = 0; k < pools.Count; k++)
        {
            var p = (double)pools[k].OnDemandPerHour;
            r[k] = solver.MakeIntVar(0, Math.Ceiling(pools[k].NodesPerHour.DefaultIfEmpty(0).Max()), $"r{k}");
            objective.SetCoefficient(r[k], hours * p * (1 - options.ReservedDiscount));
        }
        for (var t = 0; t < hours; t++)
        {
            var y = solver.MakeNumVar(0, double.PositiveInfinity, $"y{t}");
            objective.SetCoefficient(y, 1);
            // y_t − Σ z_kt + step·flex/(1 − d_f) ≥ 0
            var cover = solver.MakeConstraint(0, double.PositiveInfinity);
            cover.SetCoefficient(y, 1);
            cover.SetCoefficient(flexUnits, step / (1 - options.FlexibleDiscount));
            for (var k = 0; k < pools.Count; k++)
            {
                var u = t < pools[k].NodesPerHour.Count ? pools[k].NodesPerHour[t] : 0;
                var p = (double)pools[k].OnDemandPerHour;
                var z = solver.MakeNumVar(0, double.PositiveInfinity, $"z{k}_{t}");
                // z_kt + p·r_k ≥ p·u_kt
                var c = solver.MakeConstraint(p * u, double.PositiveInfinity);
                c.SetCoefficient(z, 1);
                c.SetCoefficient(r[k], p);
                cover.SetCoefficient(z, -1);
            }
        }
        var status = solver.Solve();
        if (status is not (Solver.ResultStatus.OPTIMAL or Solver.ResultStatus.FEASIBLE))
            throw new InvalidOperationException($"The commitment program was not solved ({status}).");
        var reserved = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 0; k < pools.Count; k++) reserved[pools[k].Name] = (int)Math.Round(r[k].SolutionValue());
        var flex = (decimal)Math.Round(flexUnits.SolutionValue()) * options.FlexibleStepPerHour;
        return new CommitmentPlan(reserved, flex, Cost(pools, new Dictionary<string, int>(), 0, options), Cost(pools, reserved, flex, options), solverName);
    }

    /// <summary>
    /// The cost of a plan over the pools' hours, computed directly (the brute-force check and the
    /// report use this, not the solver's objective).
    /// </summary>
    public static decimal Cost(IReadOnlyList<DemandPool> pools, IReadOnlyDictionary<string, int> reserved, decimal flexPerHour, CommitmentOptions options)
    {
        var hours = pools.Count == 0 ? 0 : pools.Max(p => p.NodesPerHour.Count);
        var dr = (decimal)options.ReservedDiscount;
        var df = (decimal)options.FlexibleDiscount;
        decimal total = hours * flexPerHour;
        foreach (var p in pools) total += hours * reserved.GetValueOrDefault(p.Name) * p.OnDemandPerHour * (1 - dr);
        var flexCovers = flexPerHour / (1 - df);
        for (var t = 0; t < hours; t++)
        {
            decimal onDemand = 0;
            foreach (var p in pools)
            {
                var u = t < p.NodesPerHour.Count ? (decimal)p.NodesPerHour[t] : 0;
                onDemand += Math.Max(0, u - reserved.GetValueOrDefault(p.Name)) * p.OnDemandPerHour;
            }
            total += Math.Max(0, onDemand - flexCovers);
        }
        return Math.Round(total, 6);
    }
}
