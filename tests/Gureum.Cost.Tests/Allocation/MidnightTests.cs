using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Metering;

namespace Gureum.Cost.Tests.Allocation;

public sealed class MidnightTests
{
    [Fact]
    public void Allocate_LiveNodeStartedAtSubMillisecondInstant_EachDayGetsItsOwnSeconds()
    {
        // A node at 1 USD/s started 2 h before midnight at a sub-millisecond instant (as live nodes
        // do), one job holding all of it for 4 h: 2 h (less the fraction) on Nov 30, the rest on Dec 1.
        // The piece after midnight once landed on the day before for some start instants.
        var offer = B.Offer("x", null, 0, 3600m, vcpus: 2, mem: 8);
        var misplaced = new List<long>();
        for (long ticks = 1; ticks < 2_000_000; ticks += 9_973)
        {
            var start = new DateTimeOffset(2026, 11, 30, 22, 0, 0, TimeSpan.Zero).AddTicks(ticks);
            var bill = new BilledNode { NodeId = "n", Offer = offer, Market = Market.OnDemand, Start = start, BilledSeconds = 4 * 3600, BilledUsd = 4 * 3600, Prices = [new PricePoint(start, 3600m)] };
            var usage = new UsageRecord
            {
                JobId = "j", RunIndex = 0, NodeId = "n", Lab = "lab-a", Project = "p", User = "u", Start = start, End = start.AddHours(4),
                MilliGpus = 0, Cpus = 2, MemoryGiB = 1, OfferId = offer.Id, Market = Market.OnDemand, PricePerHourAtStart = 3600m,
            };
            var lines = CostAllocator.Allocate("t", [bill], [usage]).Where(l => l.Kind == CostKind.Usage).ToList();
            var before = lines.Where(l => l.Day == new DateOnly(2026, 11, 30)).Sum(l => l.AmountUsd);
            var expected = (decimal)(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) - start).TotalSeconds;
            if (Math.Abs(before - expected) > 0.01m) misplaced.Add(ticks);
            Assert.Equal(4 * 3600m, lines.Sum(l => l.AmountUsd));
        }
        Assert.Empty(misplaced);
    }
}
