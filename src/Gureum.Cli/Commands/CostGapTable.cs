using System.Globalization;
using Gureum.Simulation.Metrics;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary>Prints where each policy's cost went beyond the spot cost bound (<see cref="CostGap"/>).</summary>
internal static class CostGapTable
{
    /// <summary>One row per policy with a bound: cost ÷ LB and each part as a multiple of the bound.</summary>
    public static void Write(IReadOnlyList<PolicyMetrics> policies)
    {
        var rows = policies.Where(m => m.CostGap is { LowerBoundUsd: > 0 }).ToList();
        if (rows.Count == 0) return;
        var t = new Table { Caption = new TableTitle("cost over the spot lower bound by cause, × LB (1 + parts = cost ÷ LB)") }.AddColumn("policy").AddColumn("cost/LB");
        foreach (var (name, _) in rows[0].CostGap!.Parts) t.AddColumn(name);
        foreach (var m in rows)
        {
            var g = m.CostGap!;
            t.AddRow([m.Name, F(g.BilledUsd / g.LowerBoundUsd), .. g.Parts.Select(p => F(p.Usd / g.LowerBoundUsd))]);
        }
        AnsiConsole.Write(t);
    }

    // Adding 0.0 turns a negative zero (a part of -0.0001 × LB) into "0.000".
    private static string F(double v) => (Math.Round(v, 3) + 0.0).ToString("F3", CultureInfo.InvariantCulture);
}
