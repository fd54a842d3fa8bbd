using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Prediction;
using Gureum.Prediction.Duration;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Tests.Replay;

namespace Gureum.Simulation.Tests.Operator;

/// <summary>The <c>gureum</c> policy decides with the learned (LightGbm) duration model, in replay as live.</summary>
public sealed class LearnedDurationTests
{
    private static readonly Offer Fast = B.Offer("fast.1", "A100", 1, 1.20m, 0.40m, zone: "z-b");

    [Fact]
    public void Create_Gureum_DurationPredictorIsTheLearnedModel()
    {
        var own = Assert.IsType<GureumPolicy>(PolicyCatalog.Create("gureum").Autoscaler);
        Assert.IsType<GbmDurationPredictor>(own.Models.Duration);
        Assert.True(own.Models.LearnsDurations);

        // Live: the server's shared model is asked, not fed (it learns from the store).
        var shared = new GbmDurationPredictor();
        var live = Assert.IsType<GureumPolicy>(PolicyCatalog.Create("gureum", sharedDurations: shared).Autoscaler);
        Assert.Same(shared, live.Models.Duration);
        Assert.False(live.Models.LearnsDurations);
    }

    [Fact]
    public async Task Replay_Gureum_PredictionAtTUsesOnlyJobsThatEndedByT()
    {
        // Two users, run times differing 30×, arriving faster than they end: at most decisions many
        // jobs are running whose run time the model must not know yet.
        var jobs = Enumerable.Range(0, 420)
            .Select(i => B.Job($"j{i:D3}", i * 90, i % 2 == 0 ? 300 + 7 * (i % 11) : 9000 + 60 * (i % 13), lab: i % 2 == 0 ? "lab-a" : "lab-b"))
            .ToList();
        var spy = new Spy();
        var core = PolicyCatalog.CreateGureum(models: new OperatorModels(spy));
        var outcome = await ReplayEngine.RunAsync(new ReplaySetup { Core = core, Jobs = jobs, Offers = [Fast] });

        Assert.Equal(420, outcome.Jobs.Count(j => j.Status == JobStatus.Completed));
        Assert.True(spy.Inner.Trainings >= 1, "the LightGbm model was never trained");
        Assert.True(spy.Predictions > 0);
        // Every run reached the model stamped no earlier than its true end in the replay…
        Assert.Equal(420, spy.Observed.Count);
        foreach (var (id, stamp) in spy.Observed)
            Assert.True(outcome.Runs[id][^1].End <= stamp, $"{id} ended {outcome.Runs[id][^1].End:O}, was learned as of {stamp:O}");
        // …and at each prediction at t, exactly the runs stamped by t had been applied, none later.
        Assert.Empty(spy.Violations);
    }

    [Fact]
    public async Task Replay_Gureum_LearnedShortClassRunsAheadOfEarlierLongJobs()
    {
        // One fixed GPU node, nothing to buy: queue order decides who waits. History: user "quick"'s
        // jobs take 2 min, user "slow"'s 2 h, in random order, same lab and shape (so fair share and
        // the shape are no clue; the declared durations are the replay's truth, never read by the policy).
        JobSpec Quick(string id, double at) => B.Job(id, at, 120) with { User = "quick", Name = "eval" };
        JobSpec Slow(string id, double at) => B.Job(id, at, 7200) with { User = "slow", Name = "train" };
        var rng = new Random(7);
        var history = Enumerable.Range(0, 260).Select(i => rng.Next(2) == 0 ? Quick($"h{i:D3}", i * 4000) : Slow($"h{i:D3}", i * 4000)).ToList();
        var burst = 260 * 4000.0 + 10_000;
        // Five long jobs, then five short ones a minute later, while one more long job holds the node.
        var test = new List<JobSpec> { Slow("hold", burst - 60) };
        test.AddRange(Enumerable.Range(0, 5).Select(i => Slow($"long{i}", burst + i)));
        test.AddRange(Enumerable.Range(0, 5).Select(i => Quick($"short{i}", burst + 60 + i)));
        var policy = PolicyCatalog.CreateGureum();
        var outcome = await ReplayEngine.RunAsync(new ReplaySetup
        {
            Core = policy,
            Jobs = [.. history.Concat(test).OrderBy(j => j.SubmitTime)],
            Offers = [],
            FixedFleet = [B.FleetNode("n1", Fast)],
        });

        var gureum = Assert.IsType<GureumPolicy>(policy.Autoscaler);
        var learned = Assert.IsType<GbmDurationPredictor>(gureum.Models.Duration);
        Assert.True(learned.Trainings >= 1, $"{learned.Applied} runs applied, {gureum.Models.EndedObserved} seen ending, no LightGbm fit");
        DateTimeOffset Start(string id) => outcome.Runs[id][0].Start;
        var lastShort = Enumerable.Range(0, 5).Max(i => Start($"short{i}"));
        var firstLong = Enumerable.Range(0, 5).Min(i => Start($"long{i}"));
        Assert.True(lastShort < firstLong, $"last short job started {lastShort:O}, first long one {firstLong:O}");
    }

    /// <summary>Records what the policy tells and asks the learned model, and checks the guard at each question.</summary>
    private sealed class Spy : IDurationPredictor
    {
        public GbmDurationPredictor Inner { get; } = new();
        public List<(string Id, DateTimeOffset Stamp)> Observed { get; } = [];
        public List<string> Violations { get; } = [];
        public int Predictions { get; private set; }
        public string Name => Inner.Name;
        public string Version => Inner.Version;

        public void Observe(JobSpec spec, TimeSpan actual, DateTimeOffset endedAt)
        {
            Observed.Add((spec.Id, endedAt));
            Inner.Observe(spec, actual, endedAt);
        }

        public Interval PredictSeconds(JobSpec spec, DateTimeOffset now)
        {
            var p = Inner.PredictSeconds(spec, now);
            Predictions++;
            var due = Observed.Count(o => o.Stamp <= now);
            if (Inner.Applied != due) Violations.Add($"at {now:O}: {Inner.Applied} runs applied, {due} had ended");
            return p;
        }
    }
}
