using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Scheduling;
using Gureum.Scheduling.Framework;

namespace Gureum.Scheduling.Tests;

public sealed class FrameworkTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Offer V100x4 = new() { Cloud = "t", Region = "r", Zone = "z", InstanceType = "v4", GpuModel = "V100", GpuCount = 4, VCpus = 32, MemoryGiB = 244, OnDemandPerHour = 12m };

    private static JobView Job(long seq, int gpus, int milli = 0, string lab = "a", int priority = 0) => new()
    {
        Seq = seq,
        Status = JobStatus.Pending,
        QueuedSince = T0,
        Spec = new JobSpec { Id = $"j{seq}", User = "u", Lab = lab, SubmitTime = T0.AddSeconds(seq), Resources = ResourceRequest.FromTrace(gpus, milli, 1, 1), Priority = priority, Duration = TimeSpan.FromHours(1) },
    };

    private static ClusterSnapshot Snapshot(IEnumerable<JobView> pending, Node[] nodes, Dictionary<string, LabShare>? labs = null) => new()
    {
        Now = T0.AddHours(1),
        Pending = pending.ToList(),
        Running = ImmutableSortedDictionary<long, JobView>.Empty,
        Nodes = nodes,
        Offers = [V100x4],
        Labs = labs ?? [],
    };

    [Fact]
    public void Build_UnknownPlugin_NamesItAndListsKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => PluginRegistry.Default.Build(new ProfileConfig { Name = "p", Filters = ["gpu-modle"] }));
        Assert.Contains("gpu-modle", e.Message);
        Assert.Contains("gpu-model", e.Message);
    }

    [Fact]
    public void Slice_Fractional_GoesToFullestGpuWithRoom()
    {
        var node = Node.Create("n", V100x4, Market.OnDemand, NodeState.Ready, T0) with { GpuFreeMilli = [1000, 600, 300, 1000] };
        var p = Fit.Slice(ResourceRequest.FromTrace(1, 250, 1, 1), node)!;
        Assert.Equal([2], p.GpuIndices);
        Assert.Equal(250, p.MilliPerGpu);
        Assert.Null(Fit.Slice(ResourceRequest.FromTrace(3, 0, 1, 1), node));
    }

    [Fact]
    public void Schedule_FairShare_LabWithLessUsageGoesFirst()
    {
        var node = Node.Create("n", V100x4, Market.OnDemand, NodeState.Ready, T0);
        var labs = new Dictionary<string, LabShare> { ["heavy"] = new("heavy", 1, 1e6, 0), ["light"] = new("light", 1, 10, 0) };
        var scheduler = new Scheduler(PluginRegistry.Default.Build(Profiles.Default));
        var result = scheduler.Schedule(Snapshot([Job(0, 4, lab: "heavy"), Job(1, 4, lab: "light")], [node], labs));
        var start = Assert.Single(result.Actions.OfType<StartJob>());
        Assert.Equal("j1", start.JobId);
        Assert.Equal("j0", Assert.Single(result.Waiting).Job.Id);
    }

    [Fact]
    public void Schedule_BinPack_FillsTheFullerNode()
    {
        var empty = Node.Create("empty", V100x4, Market.OnDemand, NodeState.Ready, T0);
        var half = Node.Create("half", V100x4, Market.OnDemand, NodeState.Ready, T0) with { GpuFreeMilli = [0, 0, 1000, 1000] };
        var result = new Scheduler(PluginRegistry.Default.Build(Profiles.Default)).Schedule(Snapshot([Job(0, 1)], [empty, half]));
        Assert.Equal("half", Assert.Single(result.Actions.OfType<StartJob>()).Placements[0].NodeId);
        var spread = new Scheduler(PluginRegistry.Default.Build(Profiles.Spread)).Schedule(Snapshot([Job(0, 1)], [empty, half]));
        Assert.Equal("empty", Assert.Single(spread.Actions.OfType<StartJob>()).Placements[0].NodeId);
    }

    [Fact]
    public void Schedule_StrictFifo_BlocksBehindHead_DefaultDoesNot()
    {
        var node = Node.Create("n", V100x4, Market.OnDemand, NodeState.Ready, T0) with { GpuFreeMilli = [0, 0, 1000, 1000] };
        var strict = new Scheduler(PluginRegistry.Default.Build(Profiles.FifoStrict)).Schedule(Snapshot([Job(0, 4), Job(1, 1)], [node]));
        Assert.Empty(strict.Actions);
        var greedy = new Scheduler(PluginRegistry.Default.Build(Profiles.Default)).Schedule(Snapshot([Job(0, 4), Job(1, 1)], [node]));
        Assert.Equal("j1", Assert.Single(greedy.Actions.OfType<StartJob>()).JobId);
    }

    /// <summary>Hides a plugin's sort key, so the scheduler must fall back to pairwise comparison.</summary>
    private sealed class CompareOnly(IQueueSortPlugin inner) : IQueueSortPlugin
    {
        public string Name => inner.Name;
        public int Compare(JobView a, JobView b, SchedulingContext ctx) => inner.Compare(a, b, ctx);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Schedule_KeyedQueueSort_OrdersExactlyLikePairwiseComparison(int seed)
    {
        // No nodes: every job waits, and the waiting list is the queue order.
        var rng = new Random(seed);
        var labs = new Dictionary<string, LabShare>();
        foreach (var lab in new[] { "a", "b", "c", "d" }) labs[lab] = new LabShare(lab, 1 + rng.Next(3), rng.Next(3) * 1000.0, 0);
        var jobs = Enumerable.Range(0, 2000).Select(i => Job(i, 1 + rng.Next(4), lab: "abcde"[rng.Next(5)].ToString(), priority: rng.Next(3)) with { }).ToList();
        jobs = jobs.Select(j => j with
        {
            Spec = j.Spec with
            {
                SubmitTime = T0.AddTicks(rng.Next(50)), // many exact ties, broken by arrival order
                TimeLimit = rng.Next(4) == 0 ? null : TimeSpan.FromMinutes(rng.Next(1, 5) * 30),
            },
        }).OrderBy(_ => rng.Next()).ToList();
        foreach (var config in new[] { Profiles.Default, new ProfileConfig { Name = "all", QueueSort = ["fair-share", "priority", "shortest-limit", "fifo"] } })
        {
            var keyed = PluginRegistry.Default.Build(config);
            Assert.All(keyed.QueueSort, s => Assert.NotNull(s.SortKey(jobs[0], new SchedulingContext(Snapshot(jobs, [], labs), keyed.Filters))));
            var pairwise = keyed with { QueueSort = keyed.QueueSort.Select(s => (IQueueSortPlugin)new CompareOnly(s)).ToList() };
            var a = new Scheduler(keyed).Schedule(Snapshot(jobs, [], labs)).Waiting.Select(w => w.Job.Id).ToList();
            var b = new Scheduler(pairwise).Schedule(Snapshot(jobs, [], labs)).Waiting.Select(w => w.Job.Id).ToList();
            Assert.Equal(jobs.Count, a.Count);
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void QueueSortKeys_Of_OrdersLikeDoubles()
    {
        double[] xs = [-1e300, -2.5, -1, -1e-300, -0.0, 0, 1e-300, 1, 2.5, 1e300];
        for (var i = 0; i < xs.Length; i++)
            for (var j = 0; j < xs.Length; j++)
                Assert.Equal(Math.Sign(xs[i].CompareTo(xs[j])), Math.Sign(QueueSortKeys.Of(xs[i]).CompareTo(QueueSortKeys.Of(xs[j]))));
    }
}
