using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gureum.Core.Domain;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Evaluation;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Operator;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Reports;
using Gureum.Simulation.Traces;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum eval</c>: every baseline and <c>gureum</c> on every per-job trace in the data,
/// a generated trace it has never seen, the deadline study and the issue-4 checks, in one report.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The shared data folder (with traces/, instance_catalogs/, spot_traces/).", Required = true };
        var output = new Option<string>("--out") { Description = "Report directory (eval.json, eval.html, per-trace HTML, generated trace).", DefaultValueFactory = _ => "eval-out" };
        var seed = new Option<int>("--seed") { Description = "Seed of the spot market phases and the generated trace.", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "Replay only the first N jobs of each real trace (stated in the report)." };
        var genJobs = new Option<int>("--generated-jobs") { Description = "Jobs in each generated trace.", DefaultValueFactory = _ => 3000 };
        var genTraces = new Option<int>("--generated-traces") { Description = "Generated traces to replay: 'generated' (trace seed = seed + 100) and generated-2 … generated-N (trace seed + 1000 each), none of them seen by any choice in the policy.", DefaultValueFactory = _ => 5 };
        var predictors = new Option<bool>("--predictors") { Description = "Also score every predictor against its baselines (PredictorEvaluation; several minutes).", DefaultValueFactory = _ => true };
        var schedules = new Option<bool>("--schedules") { Description = "Write every replay's schedule (OUT/schedules/TRACE/POLICY.jobs.csv and .nodes.csv, as replay --schedule) so the figures can be re-checked without Gureum.", DefaultValueFactory = _ => true };
        var deadlines = new Option<bool>("--deadline-study") { Description = "Run the deadline study on the Can't Be Late traces (about 10 s in Release).", DefaultValueFactory = _ => true };
        var dlrmLimit = new Option<int>("--dlrm-limit") { Description = "Replay only the first N DLRM instances (stated in the report). Default 0: all 23,871 (about 6 min of the eval's time here, nearly all of it the gureum replay).", DefaultValueFactory = _ => 0 };
        var history = ReplayCommand.SpotHistoryDaysOption();
        var cmd = new Command("eval", "Evaluate the gureum policy against every baseline on every per-job trace, a generated trace and the deadline study.")
        {
            data, output, seed, limit, genJobs, genTraces, dlrmLimit, predictors, schedules, deadlines, history,
        };
        cmd.SetAction(async (p, ct) => await RunAsync(p.GetValue(data)!, p.GetValue(output)!, p.GetValue(seed), p.GetValue(limit), p.GetValue(genJobs), p.GetValue(genTraces), p.GetValue(dlrmLimit), p.GetValue(predictors), p.GetValue(schedules), p.GetValue(deadlines), p.GetValue(history), ct));
        return cmd;
    }

    private sealed record TraceSection(string Name, string Source, IReadOnlyList<PolicyMetrics> Policies, OperatorChecks Checks, IReadOnlyList<string> Notes);

    private static async Task<int> RunAsync(string dataDir, string outDir, int seed, int? limit, int generatedJobs, int generatedTraces, int dlrmLimit, bool scorePredictors, bool writeSchedules, bool deadlineStudy, double spotHistoryDays, CancellationToken ct)
    {
        if (!Directory.Exists(dataDir))
            throw new CliException($"data folder '{dataDir}' does not exist.", "pass --data pointing at the shared data (e.g. /work/shared/data).");
        if (limit is <= 0) throw new CliException($"--limit {limit} replays no job.", "pass a positive number of jobs, or leave --limit out for whole traces.");
        if (dlrmLimit < 0) throw new CliException($"--dlrm-limit {dlrmLimit} is negative.", "pass a positive number of DLRM instances, or 0 (the default) for all of them.");
        if (generatedJobs <= 0) throw new CliException($"--generated-jobs {generatedJobs} generates no job.", "pass a positive number of jobs (default 3000).");
        if (generatedTraces <= 0) throw new CliException($"--generated-traces {generatedTraces} generates no trace.", "pass 1 or more (default 5).");
        var replayOptions = new ReplayOptions { SpotHistoryWindow = ReplayCommand.SpotHistoryWindow(spotHistoryDays) };
        var shared = new SharedData(dataDir);
        var catalogs = shared.Catalogs;
        foreach (var c in catalogs)
            if (!File.Exists(c)) throw new CliException($"catalog '{c}' is missing.", "pass --data pointing at the shared data folder that has instance_catalogs/.");
        var spotDir = shared.SpotTraces;
        Directory.CreateDirectory(outDir);
        var offers = CatalogLoader.LoadMany(catalogs);
        var spotTraces = SpotTraceLoader.LoadDirectory(spotDir);

        var sections = new List<TraceSection>();
        var inputs = new List<(string Name, string Path, TraceFormat Format)>
        {
            ("openb", shared.OpenbPods, TraceFormat.Openb),
            ("dlrm", shared.DlrmTrace, TraceFormat.Dlrm),
        };
        var skipped = new List<string> { "helios: per-minute per-VC GPU counts, not per-job records; not replayed (issue 4 asks for traces that carry per-job data)." };

        // Generated traces with other arrival and duration mixes, written and read back in Gureum's CSV
        // format. The first keeps the name and seed it always had; the others are new draws.
        var genOptions = new TraceGeneratorOptions
        {
            Jobs = generatedJobs, Seed = seed + 100, Arrival = ArrivalProcess.Diurnal, RatePerHour = 30, DurationDistribution = DurationDistribution.Pareto,
            MedianDurationSeconds = 2400, Labs = 6, UsersPerLab = 4, CheckpointShare = 0.5, GpuMix = "0.5:0.3,1:0.4,2:0.15,4:0.1,8:0.05",
        };
        var genSeeds = new List<int>();
        for (var k = 1; k <= generatedTraces; k++)
        {
            var name = k == 1 ? "generated" : $"generated-{k}";
            var o = genOptions with { Seed = genOptions.Seed + 1000 * (k - 1) };
            var genPath = Path.Combine(outDir, name + ".csv");
            await using (var w = new StreamWriter(genPath)) GureumCsv.Write(w, TraceGenerator.Generate(o), o.Epoch);
            inputs.Add((name, genPath, TraceFormat.Gureum));
            genSeeds.Add(o.Seed);
        }

        foreach (var (name, path, format) in inputs)
        {
            if (!File.Exists(path)) { skipped.Add($"{name}: {path} not found."); continue; }
            var loaded = TraceLoader.Load(path, format, new TraceLoadOptions { SkipBadRows = true });
            var notes = new List<string>(loaded.Notes);
            var jobs = loaded.Jobs;
            var cap = name == "dlrm" && dlrmLimit > 0 ? Math.Min(dlrmLimit, limit ?? int.MaxValue) : format == TraceFormat.Gureum ? null : limit;
            if (cap is { } l && l < jobs.Count) { jobs = jobs.Take(l).ToList(); notes.Add($"Trimmed to the first {l} jobs of {loaded.Jobs.Count} ({(name == "dlrm" ? "--dlrm-limit" : "--limit")})."); }
            if (loaded.BadRowsSkipped > 0) notes.Add($"{loaded.BadRowsSkipped} bad rows skipped.");
            if (jobs.Count == 0) { skipped.Add($"{name}: no replayable jobs."); continue; }
            var spot = SpotMarket.Build(offers, spotTraces, loaded.Epoch, seed);
            var start = jobs[0].SubmitTime;
            List<Node> fleet = [];
            if (loaded.Fleet.Count > 0) { var (f, fn) = FleetBuilder.FromTrace(loaded.Fleet, offers, start); fleet = f; notes.AddRange(fn); }
            Console.Error.WriteLine($"{name}: {jobs.Count} jobs");
            var results = await OperatorEvaluation.ReplayAllAsync(jobs, offers, spot, fleet, notes, log: s => Console.Error.WriteLine("  " + s), ct: ct, options: replayOptions);
            var metrics = results.Select(r => r.Metrics).ToList();
            var ctx = new ReplayContext { Trace = path, Notes = notes, SpotModel = spot.Describe(), Seed = seed };
            ReplayReport.WriteHtml(Path.Combine(outDir, $"{name}.html"), ctx, results, replayOptions);
            if (writeSchedules)
                foreach (var (outcome, _) in results) ReplayReport.WriteSchedule(Path.Combine(outDir, "schedules", name), outcome);
            sections.Add(new TraceSection(name, path, metrics, OperatorChecks.Of(name, metrics), notes));
        }

        var cbl = Path.Combine(spotDir, "cant_be_late");
        IReadOnlyList<DeadlineSettingResult> study = [];
        if (deadlineStudy)
            study = DeadlineStudy.Run(DeadlineStudy.LoadTraces(cbl), DeadlineStudy.DefaultSettings,
                [new UniformProgressPolicy(), new GreedyDeadlinePolicy(), new GureumDeadlinePolicy()]);
        else skipped.Add("deadline study: not run (--deadline-study false).");

        PredictorReport? scores = null;
        if (scorePredictors)
        {
            Console.Error.WriteLine("predictors: scoring against baselines on held-back data");
            scores = PredictorEvaluation.Run(new PredictorEvaluationOptions { DataRoot = dataDir }, null, ct);
        }

        Print(sections, study, skipped);
        var spread = GeneratedSummary(sections);
        if (spread is not null) Console.WriteLine(spread);
        if (scores is not null) Console.WriteLine(scores.ToTable());
        var doc = new Dictionary<string, object?>
        {
            ["data"] = dataDir, ["seed"] = seed, ["spot_history_days"] = replayOptions.SpotHistoryWindow.TotalDays,
            ["traces"] = sections.Select(s => new { name = s.Name, source = s.Source, policies = s.Policies, checks = s.Checks, notes = s.Notes }),
            ["deadline_study"] = new { traces = "spot_traces/cant_be_late/availability/1-node (*_v100_1)", spot_usd_per_hour = DeadlineStudy.SpotPerHour, on_demand_usd_per_hour = DeadlineStudy.OnDemandPerHour, settings = study },
            ["predictors"] = scores,
            ["skipped"] = skipped,
            ["generated_trace"] = genOptions,
            ["generated_trace_seeds"] = genSeeds,
            ["targets"] = new { cost_below_every_baseline = true, jct_no_worse_than_best_baseline = true, cost_over_lb_max = 1.3, jct_over_runtime_max = 1.10, lab_wait_over_mean_max = 2.0, deadline_missed = 0 },
        };
        var json = new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, Converters = { new JsonStringEnumConverter() } };
        await File.WriteAllTextAsync(Path.Combine(outDir, "eval.json"), JsonSerializer.Serialize(doc, json), ct);
        var html = Html(sections, study, skipped);
        if (spread is not null) html = html.Replace("</body>", $"<p>{WebUtility.HtmlEncode(spread)}</p></body>", StringComparison.Ordinal);
        if (scores is not null) html = html.Replace("</body>", $"<h2>Predictors vs baselines (held-back later data)</h2><pre>{WebUtility.HtmlEncode(scores.ToTable())}</pre></body>", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(outDir, "eval.html"), html, ct);
        Console.WriteLine($"report: {Path.Combine(outDir, "eval.html")}, {Path.Combine(outDir, "eval.json")}");
        return ExitCodes.Ok;
    }

    /// <summary>One line over the generated traces: gureum's cost ÷ LB on each, their mean, and on how
    /// many every check is met; null with fewer than two.</summary>
    private static string? GeneratedSummary(List<TraceSection> sections)
    {
        var gen = sections.Where(s => s.Name.StartsWith("generated", StringComparison.Ordinal)).ToList();
        if (gen.Count < 2) return null;
        var ratios = gen.Select(s => s.Checks.CostOverLb).ToList();
        var allMet = gen.Count(s => s.Checks is { CheaperThanEveryBaseline: true, JctNoWorse: true, CostWithinTarget: true, JctWithinTarget: true, Fair: true });
        return string.Create(CultureInfo.InvariantCulture,
            $"generated traces ({gen.Count}): gureum cost/LB {string.Join(" / ", ratios.Select(r => F(r)))} (mean {F(ratios.Average())}); every check met on {allMet} of {gen.Count}");
    }

    /// <summary>Services' share of time not serving (between a reclaimed run and its replacement), or "-" without services.</summary>
    private static string Down(PolicyMetrics m) => m.ServicesCompleted == 0 ? "-" : (100 * m.ServiceDowntimeShare).ToString("0.00", CultureInfo.InvariantCulture) + " %";

    private static string F(double v, string fmt = "F3") => double.IsNaN(v) ? "n/a" : v.ToString(fmt, CultureInfo.InvariantCulture);

    private static void Print(List<TraceSection> sections, IReadOnlyList<DeadlineSettingResult> study, List<string> skipped)
    {
        if (AnsiConsole.Profile.Width < 180) AnsiConsole.Profile.Width = 180;
        foreach (var s in sections)
        {
            var t = new Table { Title = new TableTitle(s.Name) }.AddColumns("policy", "cost $", "cost LB $", "cost/LB", "mean JCT s", "mean run s", "JCT/run", "p99 JCT", "mean wait s", "util", "preempted runs", "svc down", "done/total");
            foreach (var m in s.Policies)
                t.AddRow(m.Name, $"{m.CostUsd:F0}", $"{m.CostLowerBoundUsd:F0}", F(m.CostOverLb), $"{m.MeanJctS:F0}", $"{m.MeanRuntimeS:F0}", F(m.JctOverRuntime), $"{m.P99JctS:F0}", $"{m.MeanWaitS:F1}", F(m.GpuAllocUtilization), $"{m.Preemptions}", Down(m), $"{m.JobsCompleted}/{m.JobsTotal}");
            AnsiConsole.Write(t);
            CostGapTable.Write(s.Policies);
            var c = s.Checks;
            Console.WriteLine($"  checks {s.Name}: cost/cheapest baseline {F(c.CostVsCheapestBaseline)} ({(c.CheaperThanEveryBaseline ? "met" : "NOT met")}); JCT/best baseline {F(c.JctVsBestBaseline)} ({(c.JctNoWorse ? "met" : "NOT met")}); cost/LB {F(c.CostOverLb)} (≤1.3 {(c.CostWithinTarget ? "met" : "NOT met")}); JCT/run {F(c.JctOverRuntime)} (≤1.10 {(c.JctWithinTarget ? "met" : "NOT met")}); max lab wait/mean {F(c.MaxLabWaitOverMean)} over {c.Labs} labs (≤2 {(c.Fair ? "met" : "NOT met")})");
        }
        var d = new Table { Title = new TableTitle("deadline study (Can't Be Late traces)") }.AddColumns("setting", "runs", "UP $", "greedy $", "gureum $", "optimum $", "on-demand $", "missed UP/greedy/gureum", "gureum/UP", "gap UP", "gap gureum");
        foreach (var r in study)
            d.AddRow(r.Setting, $"{r.Runs}", F(r.MeanCostUsd["uniform-progress"], "F2"), F(r.MeanCostUsd["greedy"], "F2"), F(r.MeanCostUsd["gureum"], "F2"), F(r.OptimumMeanCostUsd, "F2"), F(r.OnDemandOnlyCostUsd, "F2"),
                $"{r.Missed["uniform-progress"]}/{r.Missed["greedy"]}/{r.Missed["gureum"]}", F(r.MeanCostUsd["gureum"] / r.MeanCostUsd["uniform-progress"]), F(r.GapToOptimum["uniform-progress"]), F(r.GapToOptimum["gureum"]));
        if (study.Count > 0) AnsiConsole.Write(d);
        foreach (var s in skipped) Console.WriteLine($"note: {s}");
    }

    private static string Html(List<TraceSection> sections, IReadOnlyList<DeadlineSettingResult> study, List<string> skipped)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Gureum eval</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}.no{color:#b00}.ok{color:#080}</style></head><body><h1>Gureum operator evaluation</h1>");
        foreach (var s in sections)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<h2>{E(s.Name)}</h2><p>{E(s.Source)} — <a href=\"{E(s.Name)}.html\">replay report with plots</a></p><table><tr><th>policy</th><th>cost $</th><th>cost LB $</th><th>cost/LB</th><th>mean JCT s</th><th>mean run s</th><th>JCT/run</th><th>p99 JCT s</th><th>mean wait s</th><th>util</th><th>preempted runs</th><th>service downtime</th></tr>");
            foreach (var m in s.Policies)
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(m.Name)}</td><td>{m.CostUsd:F0}</td><td>{m.CostLowerBoundUsd:F0}</td><td>{F(m.CostOverLb)}</td><td>{m.MeanJctS:F0}</td><td>{m.MeanRuntimeS:F0}</td><td>{F(m.JctOverRuntime)}</td><td>{m.P99JctS:F0}</td><td>{m.MeanWaitS:F1}</td><td>{F(m.GpuAllocUtilization)}</td><td>{m.Preemptions}</td><td>{Down(m)}</td></tr>");
            var c = s.Checks;
            string Mark(bool ok) => ok ? "<span class=ok>met</span>" : "<span class=no>not met</span>";
            sb.Append(CultureInfo.InvariantCulture, $"</table><ul><li>cost ÷ cheapest baseline {F(c.CostVsCheapestBaseline)}: {Mark(c.CheaperThanEveryBaseline)}</li><li>mean JCT ÷ best baseline {F(c.JctVsBestBaseline)}: {Mark(c.JctNoWorse)}</li><li>cost ÷ LB {F(c.CostOverLb)} (≤ 1.3): {Mark(c.CostWithinTarget)}</li><li>mean JCT ÷ mean run time {F(c.JctOverRuntime)} (≤ 1.10): {Mark(c.JctWithinTarget)}</li><li>largest lab mean wait ÷ mean wait {F(c.MaxLabWaitOverMean)} over {c.Labs} labs (≤ 2): {Mark(c.Fair)}</li></ul>");
            sb.Append(ReplayReport.CostGapHtml(s.Policies));
            foreach (var n in s.Notes) sb.Append(CultureInfo.InvariantCulture, $"<p><small>note: {E(n)}</small></p>");
        }
        if (study.Count > 0)
        {
            sb.Append("<h2>Deadline study</h2><p>Can't Be Late single-node V100 availability traces; p3.2xlarge spot $0.918/h, on demand $3.06/h.</p><table><tr><th>setting</th><th>runs</th><th>Uniform Progress $</th><th>greedy $</th><th>gureum $</th><th>optimum $</th><th>missed (UP/greedy/gureum)</th><th>gap UP</th><th>gap gureum</th></tr>");
            foreach (var r in study)
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(r.Setting)}</td><td>{r.Runs}</td><td>{F(r.MeanCostUsd["uniform-progress"], "F2")}</td><td>{F(r.MeanCostUsd["greedy"], "F2")}</td><td>{F(r.MeanCostUsd["gureum"], "F2")}</td><td>{F(r.OptimumMeanCostUsd, "F2")}</td><td>{r.Missed["uniform-progress"]}/{r.Missed["greedy"]}/{r.Missed["gureum"]}</td><td>{F(r.GapToOptimum["uniform-progress"])}</td><td>{F(r.GapToOptimum["gureum"])}</td></tr>");
            sb.Append("</table>");
            sb.Append(Plots.Series(study.Select((r, i) => (r.Setting, new List<(double X, double Y)> { (0, r.OptimumMeanCostUsd), (1, r.MeanCostUsd["gureum"]), (2, r.MeanCostUsd["uniform-progress"]), (3, r.MeanCostUsd["greedy"]) })).ToList(), "0 optimum · 1 gureum · 2 Uniform Progress · 3 greedy", "mean cost $"));
        }
        foreach (var s in skipped) sb.Append(CultureInfo.InvariantCulture, $"<p><small>note: {E(s)}</small></p>");
        return sb.Append("</body></html>").ToString();
    }
}
