using System.Diagnostics;
using Gureum.Autoscaling;
using Gureum.Autoscaling.Operator;
using Gureum.Prediction;
using Gureum.Prediction.Duration;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;

/// <summary>
/// <c>gureum-durations DATA [GENERATED_CSV] [PREDICTORS]</c>: the <c>gureum</c> policy replayed on
/// openb, the first 4,000 DLRM instances (as <c>gureum eval</c>) and a generated trace in Gureum's
/// CSV (e.g. the one <c>gureum eval</c> wrote), once per duration predictor: <c>learned</c> (the
/// default, <see cref="GbmDurationPredictor"/>), <c>history</c> (<see cref="HistoryDurationPredictor"/>,
/// the policy's predictor before), and for diagnosis <c>learned-logmean</c> / <c>learned-minape</c>
/// (other point objectives) and <c>learned-estimate</c> / <c>learned-interval</c> (one model's
/// estimate with the other's interval). Prints cost, cost/LB, JCT/run, the fairness ratio, lost runs,
/// LightGbm fits, wall time and spot spend (seed 1 spot market, as the eval).
/// </summary>
internal static class GureumDurationsBench
{
    public static async Task RunAsync(string[] args)
    {
        var shared = new SharedData(args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("GUREUM_DATA") ?? "../shared/data");
        var generated = args.Length > 2 ? args[2] : null;
        var predictors = args.Length > 3 ? args[3].Split(',') : ["history", "learned"];
        var offers = shared.LoadOffers();
        var spotTraces = SpotTraceLoader.LoadDirectory(shared.SpotTraces);
        var inputs = new List<(string Name, string Path, TraceFormat Format, int? Cap)>
        {
            ("openb", shared.OpenbPods, TraceFormat.Openb, null),
            ("dlrm", shared.DlrmTrace, TraceFormat.Dlrm, 4000),
        };
        if (generated is not null) inputs.Add(("generated", generated, TraceFormat.Gureum, null));
        Console.WriteLine("trace      predictor  cost $       cost/LB  JCT/run  lab wait/mean  lost runs  fits  wall s");
        foreach (var (name, path, format, cap) in inputs)
        {
            var loaded = TraceLoader.Load(path, format, new TraceLoadOptions { SkipBadRows = true });
            var jobs = cap is { } c && c < loaded.Jobs.Count ? loaded.Jobs.Take(c).ToList() : loaded.Jobs;
            foreach (var p in predictors)
            {
                IDurationPredictor durations = p switch
                {
                    "learned" => new GbmDurationPredictor(),
                    "learned-logmean" => new GbmDurationPredictor(new GbmDurationOptions { Point = DurationPoint.LogMean }),
                    "learned-minape" => new GbmDurationPredictor(new GbmDurationOptions { Point = DurationPoint.MinMedianApe }),
                    "history" => new HistoryDurationPredictor(),
                    "learned-estimate" => new Mixed(new GbmDurationPredictor(), new HistoryDurationPredictor(), learnedEstimate: true),
                    "learned-interval" => new Mixed(new GbmDurationPredictor(), new HistoryDurationPredictor(), learnedEstimate: false),
                    _ => throw new ArgumentException($"Unknown predictor '{p}'. Known: learned, learned-logmean, learned-minape, learned-estimate, learned-interval, history."),
                };
                var spot = SpotMarket.Build(offers, spotTraces, loaded.Epoch, 1);
                var sw = Stopwatch.StartNew();
                var outcome = await ReplayEngine.RunAsync(new ReplaySetup
                {
                    Core = PolicyCatalog.CreateGureum(models: new OperatorModels(durations)), Jobs = jobs, Offers = offers, Spot = spot,
                });
                var wall = sw.Elapsed.TotalSeconds;
                var m = ReplayMetrics.Compute(outcome);
                var labs = m.PerLab.Where(l => l.JobsCompleted > 0).ToList();
                var fair = labs.Count < 2 || m.MeanWaitS <= 0 ? 1 : labs.Max(l => l.MeanWaitS) / m.MeanWaitS;
                var fits = durations is GbmDurationPredictor g ? g.Trainings : 0;
                var spotUsd = outcome.Bills.Where(b => b.Market == Gureum.Core.Cloud.Market.Spot).Sum(b => b.BilledUsd);
                Console.WriteLine($"{name,-10} {p,-10} {m.CostUsd,-12:F0} {m.CostOverLb,-8:F3} {m.JctOverRuntime,-8:F3} {fair,-14:F3} {m.Preemptions,-10} {fits,-5} {wall:F1}  spot ${spotUsd:F0}, {outcome.Bills.Count} nodes");
            }
        }
    }

    /// <summary>Diagnosis: one predictor's estimate with the other's interval (both fed the same runs).</summary>
    private sealed class Mixed(GbmDurationPredictor learned, HistoryDurationPredictor history, bool learnedEstimate) : IDurationPredictor
    {
        public string Name => learnedEstimate ? "learned-estimate" : "learned-interval";
        public string Version => "1";

        public void Observe(Gureum.Core.Domain.JobSpec spec, TimeSpan actual, DateTimeOffset endedAt)
        {
            learned.Observe(spec, actual, endedAt);
            history.Observe(spec, actual, endedAt);
        }

        public Interval PredictSeconds(Gureum.Core.Domain.JobSpec spec, DateTimeOffset now)
        {
            var l = learned.PredictSeconds(spec, now);
            var h = history.PredictSeconds(spec, now);
            var (e, lo, hi) = learnedEstimate ? (l.Estimate, h.Low, h.High) : (h.Estimate, l.Low, l.High);
            return new Interval(e, Math.Min(lo, e), Math.Max(hi, e));
        }
    }
}
