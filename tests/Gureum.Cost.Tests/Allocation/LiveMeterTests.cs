using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;
using Gureum.Persistence;

namespace Gureum.Cost.Tests.Allocation;

public sealed class LiveMeterTests
{
    [Fact]
    public void FromRecords_WindowOverStoreRecords_ClipsAndReconciles()
    {
        var offer = B.Offer("g4", "V100", 4, 4m, vcpus: 32, mem: 256);
        var n1 = Node.Create("n1", offer, Market.OnDemand, NodeState.Ready, B.T0) with { TerminatedAt = B.T0.AddHours(5) };
        var n2 = Node.Create("n2", offer, Market.OnDemand, NodeState.Ready, B.T0.AddHours(1));
        var runs = new[]
        {
            new RunRecord { JobId = "a", Attempt = 1, Lab = "nlp", User = "kim", Project = "qa", Start = B.T0, End = B.T0.AddHours(4), GpuModel = "V100", Outcome = RunOutcome.Completed,
                Placements = [new Placement("n1", [0, 1], 1000, 4, 16)] },
            new RunRecord { JobId = "b", Attempt = 2, Lab = "cv", User = "lee", Project = "det", Start = B.T0.AddHours(1), End = null,
                Placements = [new Placement("n2", [0], 500, 2, 8)] },
        };
        // Window 01:00–03:00: n1 billed 2 h ($8), a holds half of it; n2 billed 2 h ($8), b holds 0.5/4 GPU = 1/8.
        var (usage, bills) = LiveMeter.FromRecords(runs, [new NodeRecord(n1), new NodeRecord(n2)], B.T0.AddHours(1), B.T0.AddHours(3), TimeSpan.FromMinutes(1));
        Assert.Equal(new[] { 8m, 8m }, bills.Select(b => b.BilledUsd));
        Assert.Equal(1, usage.Single(u => u.JobId == "b").RunIndex);
        var lines = CostAllocator.Allocate("live", bills, usage);
        Assert.Equal(4m, lines.Where(l => l.JobId == "a").Sum(l => l.AmountUsd));
        Assert.Equal(1m, lines.Where(l => l.JobId == "b").Sum(l => l.AmountUsd));
        Assert.Equal(11m, lines.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd));
        Assert.Equal(16m, lines.Sum(l => l.AmountUsd));
    }
}
