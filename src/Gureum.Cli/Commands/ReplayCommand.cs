using System.CommandLine;
using System.Diagnostics;
using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Scheduling.Framework;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Reports;
using Gureum.Simulation.Traces;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum replay</c>: what each policy would have cost on a trace, next to the lower bounds.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var trace = new Option<string>("--trace") { Description = "Trace file (or Helios directory).", Required = true };
        var format = new Option<string>("--format") { Description = "openb | dlrm | helios | gureum.", Required = true };
        var catalogs = new Option<string[]>("--catalog") { Description = "Instance catalog CSV(s) (AWS, GCP, Azure, Lambda, Vast in SkyPilot format). Default: the small built-in catalog.", AllowMultipleArgumentsPerToken = true };
        var spotTraces = new Option<string?>("--spot-traces") { Description = "Directory of spot availability traces. Default: spot always available at catalog prices." };
        var policies = new Option<string>("--policies") { Description = "Comma-separated policies.", DefaultValueFactory = _ => string.Join(',', PolicyCatalog.Names) };
        var profile = new Option<string>("--profile") { Description = $"Scheduler profile: {string.Join(", ", Profiles.All.Select(p => p.Name))}.", DefaultValueFactory = _ => Profiles.Default.Name };
        var seed = new Option<int>("--seed") { Description = "Seed (spot trace phases).", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "Write the JSON report here." };
        var report = new Option<string?>("--report") { Description = "Write the HTML report here." };
        var schedule = new Option<string?>("--schedule") { Description = "Write <policy>.jobs.csv, <policy>.nodes.csv and <policy>.events.csv (every decision with its reason) into this directory." };
        var fleet = new Option<string?>("--fleet") { Description = "Fixed fleet for 'static': TYPE[@ZONE]=COUNT,… from the catalog. Default: the trace's node list." };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "Count and report bad trace rows instead of stopping." };
        var limit = new Option<int?>("--limit") { Description = "Replay only the first N jobs (stated in the report)." };
        var ledger = new Option<string?>("--ledger") { Description = "Write each policy's usage, node bills and allocated costs into this cost ledger (DuckDB) as source replay:<policy>." };
        var history = SpotHistoryDaysOption();
        var cmd = new Command("replay", "Replay a job trace under each policy on the simulated cloud and report cost, JCT and lower bounds.")
        {
            trace, format, catalogs, spotTraces, policies, profile, seed, json, report, schedule, fleet, skipBad, limit, ledger, history,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var args = new Args(p.GetValue(trace)!, p.GetValue(format)!, p.GetValue(catalogs) ?? [], p.GetValue(spotTraces), p.GetValue(policies)!,
                p.GetValue(profile)!, p.GetValue(seed), p.GetValue(json), p.GetValue(report), p.GetValue(schedule), p.GetValue(fleet), p.GetValue(skipBad), p.GetValue(limit), p.GetValue(ledger), p.GetValue(history));
            return await RunAsync(args, ct);
        });
        return cmd;
    }

    /// <summary>The <c>--spot-history-days</c> option of <c>replay</c> and <c>eval</c>.</summary>
    internal static Option<double> SpotHistoryDaysOption() => new("--spot-history-days")
    {
        Description = "Days of each spot market's record (reclaims, hours up) the simulated cloud publishes before each decision, as AWS's Spot Advisor publishes the trailing month's; the gureum policy reads it. 0 publishes none.",
        DefaultValueFactory = _ => 30,
    };

    /// <summary>The replay window of <c>--spot-history-days</c>; a clear error for a negative or non-finite value.</summary>
    internal static TimeSpan SpotHistoryWindow(double days) =>
        double.IsFinite(days) && days is >= 0 and <= 3650
            ? TimeSpan.FromDays(days)
            : throw new CliException($"--spot-history-days {days.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a number of days from 0 to 3650.", "pass e.g. --spot-history-days 30, or 0 to publish no spot records.");

    private sealed record Args(string Trace, string Format, string[] Catalogs, string? SpotTraces, string Policies, string Profile, int Seed,
        string? Json, string? Report, string? Schedule, string? Fleet, bool SkipBadRows, int? Limit, string? Ledger = null, double SpotHistoryDays = 30);

    private static async Task<int> RunAsync(Args a, CancellationToken ct)
    {
        if (!TraceLoader.TryParseFormat(a.Format, out var fmt))
            throw new CliException($"unknown trace format '{a.Format}'.", "use --format openb, dlrm, helios or gureum.");
        var historyWindow = SpotHistoryWindow(a.SpotHistoryDays);
        var policyNames = a.Policies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var n in policyNames)
            if (!PolicyCatalog.Names.Contains(n, StringComparer.OrdinalIgnoreCase))
                throw new CliException($"unknown policy '{n}'.", $"use one or more of: {string.Join(", ", PolicyCatalog.Names)}.");
        ProfileConfig profile;
        try { profile = Profiles.Named(a.Profile); }
        catch (ArgumentException e) { throw new CliException(e.Message, "pick a profile from the list."); }

        var sw = Stopwatch.StartNew();
        var loaded = TraceLoader.Load(a.Trace, fmt, new TraceLoadOptions { SkipBadRows = a.SkipBadRows });
        var notes = new List<string>(loaded.Notes);
        if (loaded.BadRowsSkipped > 0)
        {
            Console.Error.WriteLine($"skipped {loaded.BadRowsSkipped} bad rows; first: {loaded.BadRowMessages.FirstOrDefault()}");
            notes.Add($"{loaded.BadRowsSkipped} bad rows skipped (--skip-bad-rows).");
        }
        var jobs = loaded.Jobs;
        if (a.Limit is { } lim && lim < jobs.Count)
        {
            jobs = jobs.Take(lim).ToList();
            notes.Add($"Trimmed to the first {lim} jobs of {loaded.Jobs.Count} (--limit).");
        }
        var offers = a.Catalogs.Length > 0 ? CatalogLoader.LoadMany(a.Catalogs) : CatalogLoader.LoadDefault();
        if (a.Catalogs.Length == 0) notes.Add("Catalog: Gureum's small built-in catalog (pass --catalog for real price lists).");
        ISpotMarket spot = a.SpotTraces is null
            ? CalmSpotMarket.Instance
            : SpotMarket.Build(offers, SpotTraceLoader.LoadDirectory(a.SpotTraces), loaded.Epoch, a.Seed);
        Console.Error.WriteLine($"loaded {jobs.Count} jobs, {offers.Count} offers in {sw.Elapsed.TotalSeconds:F1} s");

        var options = new ReplayOptions { KeepEvents = a.Schedule is not null, SpotHistoryWindow = historyWindow };
        var results = new List<(ReplayOutcome Outcome, PolicyMetrics Metrics)>();
        foreach (var name in policyNames)
        {
            var core = PolicyCatalog.Create(name, profile);
            var setup = new ReplaySetup { Core = core, Jobs = jobs, Offers = offers, Spot = spot, Options = options };
            if (core.Autoscaler is StaticPolicy)
            {
                var start = jobs.Count > 0 ? jobs[0].SubmitTime : loaded.Epoch;
                if (a.Fleet is not null) setup = setup with { FixedFleet = FleetBuilder.FromSpec(a.Fleet, offers, start) };
                else if (loaded.Fleet.Count > 0)
                {
                    var (f, fleetNotes) = FleetBuilder.FromTrace(loaded.Fleet, offers, start);
                    setup = setup with { FixedFleet = f };
                    notes.AddRange(fleetNotes.Where(n => !notes.Contains(n)));
                }
                else throw new CliException($"policy 'static' needs a fixed fleet and the {fmt} trace has no node list.", "pass --fleet TYPE=COUNT,… (e.g. --fleet p3.16xlarge=8) or drop 'static' from --policies.");
            }
            var t = Stopwatch.StartNew();
            var outcome = await ReplayEngine.RunAsync(setup, new ConsoleProgress(name), ct);
            var metrics = ReplayMetrics.Compute(outcome);
            Console.Error.WriteLine($"\r{name}: {metrics.JobsTotal} jobs, {outcome.Decisions} decisions in {t.Elapsed.TotalSeconds:F2} s");
            results.Add((outcome, metrics));
            if (a.Schedule is not null) ReplayReport.WriteSchedule(a.Schedule, outcome);
            if (a.Ledger is not null) CostLedgerWriter.Write(a.Ledger, "replay:" + name, outcome);
        }

        PrintTable(results.Select(r => r.Metrics).ToList());
        var ctx = new ReplayContext { Trace = a.Trace, Notes = notes, SpotModel = spot.Describe(), Seed = a.Seed };
        if (a.Json is not null) ReplayReport.WriteJson(a.Json, ctx, results.Select(r => r.Metrics).ToList(), options);
        if (a.Report is not null) ReplayReport.WriteHtml(a.Report, ctx, results, options);
        foreach (var n in notes) Console.WriteLine($"note: {n}");
        return ExitCodes.Ok;
    }

    private static void PrintTable(IReadOnlyList<PolicyMetrics> ms)
    {
        var t = new Table().AddColumns("policy", "cost $", "cost LB $", "cost/LB", "mean JCT s", "mean run s (ref)", "JCT/run", "p50 JCT", "p99 JCT", "mean wait s", "GPU alloc util", "preempt", "done/unsched/total");
        foreach (var m in ms)
            t.AddRow(m.Name, $"{m.CostUsd:F2}", $"{m.CostLowerBoundUsd:F2}", $"{m.CostOverLb:F3}", $"{m.MeanJctS:F0}", $"{m.MeanRuntimeS:F0}", $"{m.JctOverRuntime:F3}",
                $"{m.P50JctS:F0}", $"{m.P99JctS:F0}", $"{m.MeanWaitS:F1}", $"{m.GpuAllocUtilization:F3}", $"{m.Preemptions}", $"{m.JobsCompleted}/{m.JobsUnschedulable}/{m.JobsTotal}");
        // Logs and pipes report 80 columns; the table needs about 160 to stay one line per policy.
        if (AnsiConsole.Profile.Width < 180) AnsiConsole.Profile.Width = 180;
        AnsiConsole.Write(t);
        CostGapTable.Write(ms);
    }

    /// <summary>Progress on stderr: a live percentage on a terminal, every 25% otherwise.</summary>
    private sealed class ConsoleProgress(string name) : IProgress<double>
    {
        private int _last = -1;

        public void Report(double value)
        {
            var pct = (int)(value * 100);
            if (!Console.IsErrorRedirected) Console.Error.Write($"\r{name}: {pct,3}% of jobs submitted");
            else if (pct / 25 != _last / 25) Console.Error.WriteLine($"{name}: {pct}% of jobs submitted");
            _last = pct;
        }
    }
}
