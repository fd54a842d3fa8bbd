using Gureum.Cost.Allocation;
using Gureum.Cost.Ledger;
using Gureum.Cost.Metering;
using Gureum.Simulation.Replay;

namespace Gureum.Cli.Commands;

/// <summary>Meters a replay, allocates its node bills and writes all of it to the cost ledger.</summary>
internal static class CostLedgerWriter
{
    public static void Write(string path, string source, ReplayOutcome outcome)
    {
        var (usage, bills) = Meter.FromReplay(outcome);
        var lines = CostAllocator.Allocate(source, bills, usage);
        using var ledger = CostLedger.Open(path);
        ledger.ReplaceSource(source, usage, bills, lines);
        var billed = outcome.Bills.Sum(b => b.BilledUsd);
        var allocated = lines.Where(l => l.Kind == CostKind.Usage).Sum(l => l.AmountUsd);
        var idle = lines.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd);
        Console.Error.WriteLine($"{source}: {usage.Count} usage records, {lines.Count} cost lines → {path}; allocated {allocated:F2} + idle {idle:F2} = {allocated + idle:F2} USD, node bills {billed:F2} USD");
    }
}
