using Gureum.Autoscaling;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;
using Xunit.Abstractions;

namespace Gureum.Cost.Tests.Allocation;

public sealed class OpenbAllocationTests(ITestOutputHelper output)
{
    [RealDataFact]
    public async Task Allocate_OpenbReplay_ReconcilesToTheCentPerNodeAndOverall()
    {
        var (trace, offers, spot) = new SharedData(TestData.RequireRoot()).LoadOpenb(seed: 1);
        foreach (var policy in new[] { "reactive", "spot-fallback" })
        {
            var o = await ReplayEngine.RunAsync(new ReplaySetup { Core = PolicyCatalog.Create(policy), Jobs = trace.Jobs, Offers = offers, Spot = spot });
            var (usage, bills) = Meter.FromReplay(o);
            var lines = CostAllocator.Allocate(policy, bills, usage);
            var billed = o.Bills.Sum(b => b.BilledUsd);
            var allocated = lines.Where(l => l.Kind == CostKind.Usage).Sum(l => l.AmountUsd);
            var idle = lines.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd);
            output.WriteLine($"{policy}: {bills.Count} node bills, {usage.Count} usage records, {lines.Count} lines; allocated {allocated:F6} + idle {idle:F6} = {allocated + idle:F6}; billed {billed:F6}");
            var perNode = lines.GroupBy(l => l.NodeId).ToDictionary(g => g.Key, g => g.Sum(l => l.AmountUsd));
            foreach (var b in o.Bills) Assert.Equal(Math.Round(b.BilledUsd, 6, MidpointRounding.AwayFromZero), perNode[b.NodeId]);
            Assert.Equal(Math.Round(billed, 2, MidpointRounding.AwayFromZero), Math.Round(allocated + idle, 2, MidpointRounding.AwayFromZero));
            Assert.True(allocated > 0 && idle > 0);
            // Every job that ran is charged something; no job is charged for a node it never held.
            var charged = lines.Where(l => l.Kind == CostKind.Usage).Select(l => (l.JobId, l.NodeId)).ToHashSet();
            Assert.All(charged, c => Assert.Contains(usage, u => u.JobId == c.JobId && u.NodeId == c.NodeId));
        }
    }
}
