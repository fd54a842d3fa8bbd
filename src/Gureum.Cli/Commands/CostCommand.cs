using System.CommandLine;
using System.Globalization;
using Gureum.Cost.Allocation;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Budgets;
using Gureum.Cost.Focus;
using Gureum.Cost.Forecasting;
using Gureum.Cost.Ledger;
using Gureum.Cost.Reports;
using Gureum.Cost.Savings;
using Gureum.Simulation.Cloud;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum cost</c>: reports, FOCUS import/export, SQL, budgets, forecasts and savings over the cost ledger.</summary>
internal static class CostCommand
{
    private static Option<string> LedgerOption() => new("--ledger") { Description = $"Cost ledger (DuckDB file). Default: {CostLedger.DefaultPath}.", DefaultValueFactory = _ => CostLedger.DefaultPath };
    private static Option<string?> SourceOption() => new("--source") { Description = "Only sources starting with this (e.g. replay:static, focus:). Default: all." };

    public static Command Create()
    {
        var ledger = LedgerOption();
        var by = new Option<string>("--by") { Description = "lab | project | user | offer | market.", DefaultValueFactory = _ => "lab" };
        var since = new Option<string?>("--since") { Description = "First day (YYYY-MM-DD, UTC), inclusive." };
        var until = new Option<string?>("--until") { Description = "Last day (YYYY-MM-DD, UTC), exclusive." };
        var source = SourceOption();
        var cmd = new Command("cost", "Where the money went: allocated node cost (idle shown apart) and imported cloud bills, by lab, project, user, offer or market.")
        {
            by, since, until, source, ledger,
        };
        cmd.SetAction(p => Report(p.GetValue(ledger)!, p.GetValue(by)!, p.GetValue(source), Day(p.GetValue(since), "--since"), Day(p.GetValue(until), "--until")));
        cmd.Subcommands.Add(Import());
        cmd.Subcommands.Add(Export());
        cmd.Subcommands.Add(Sql());
        cmd.Subcommands.Add(Budget());
        cmd.Subcommands.Add(Forecast());
        cmd.Subcommands.Add(Recommend());
        cmd.Subcommands.Add(Anomalies());
        return cmd;
    }

    internal static DateOnly? Day(string? s, string option)
    {
        if (s is null) return null;
        return DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d : throw new CliException($"{option} '{s}' is not a date.", $"write {option} as YYYY-MM-DD, e.g. 2024-09-01.");
    }

    private static CostLedger OpenLedger(string path, bool mustExist = true)
    {
        if (mustExist && !File.Exists(path))
            throw new CliException($"no cost ledger at {path}.", "write one with 'gureum replay … --ledger PATH' or 'gureum cost import FILE --ledger PATH', or pass --ledger.");
        return CostLedger.Open(path);
    }

    private static int Report(string path, string byName, string? source, DateOnly? since, DateOnly? until)
    {
        if (!Enum.TryParse<CostGrouping>(byName, ignoreCase: true, out var by))
            throw new CliException($"--by '{byName}' is not a grouping.", "use --by lab, project, user, offer or market.");
        using var ledger = OpenLedger(path);
        var r = CostReport.Build(ledger, by, source, since, until);
        var t = new Table().AddColumns(by.ToString().ToLowerInvariant(), "USD", "share");
        foreach (var row in r.Rows)
            t.AddRow(Markup.Escape(row.Key), row.Cents.ToString("N2", CultureInfo.InvariantCulture), r.BilledUsd == 0 ? "-" : (row.ExactUsd / r.BilledUsd).ToString("P1", CultureInfo.InvariantCulture));
        t.AddRow("[bold]billed[/]", $"[bold]{r.BilledCents.ToString("N2", CultureInfo.InvariantCulture)}[/]", "");
        AnsiConsole.Write(t);
        Console.WriteLine($"allocated {r.AllocatedUsd:F6} + idle {r.IdleUsd:F6} = billed {r.BilledUsd:F6} USD (rows shown in cents add up to {r.BilledCents:F2})");
        foreach (var (src, _) in ledger.Sources().Where(s => source is null || s.Source.StartsWith(source, StringComparison.Ordinal)))
        {
            if (src.StartsWith("focus:", StringComparison.Ordinal)) continue;
            if (since is null && until is null)
                Console.WriteLine($"{src}: node bills {ledger.NodeBillsTotal(src):F6} USD, allocated + idle {ledger.BilledTotal(src):F6} USD");
        }
        return ExitCodes.Ok;
    }

    private static Command Import()
    {
        var file = new Argument<string>("file") { Description = "FOCUS 1.0–1.2 CSV billing export." };
        var name = new Option<string?>("--source") { Description = "Source name in the ledger. Default: focus:<file name>." };
        var version = new Option<string?>("--focus-version") { Description = "1.0 | 1.1 | 1.2. Default: detected from the columns." };
        var labTag = new Option<string[]>("--lab-tag") { Description = "Tag key(s) naming the lab (first found wins). Default: lab, gureum-lab, business_unit, CostCenter; then SubAccountName.", AllowMultipleArgumentsPerToken = true };
        var ledger = LedgerOption();
        var cmd = new Command("import", "Import a FOCUS billing export into the ledger, all rows or none.") { file, name, version, labTag, ledger };
        cmd.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            if (!File.Exists(path)) throw new CliException($"file not found: {path}.", "check the path.");
            var options = new FocusImportOptions { Version = p.GetValue(version) };
            if (p.GetValue(labTag) is { Length: > 0 } tags) options = options with { LabTags = tags };
            FocusImport import;
            try { import = FocusImporter.Import(path, options); }
            catch (FocusImportException e)
            {
                foreach (var err in e.Errors.Take(20)) Console.Error.WriteLine($"error: {path} {err}");
                if (e.Errors.Count > 20) Console.Error.WriteLine($"… and {e.Errors.Count - 20} more errors.");
                throw new CliException($"{path}: {e.Errors.Count} error(s); nothing was imported.", "correct the rows and columns listed above and import the file again.");
            }
            catch (ArgumentException e) { throw new CliException(e.Message, "pass --focus-version 1.0, 1.1 or 1.2."); }
            using var l = OpenLedger(p.GetValue(ledger)!, mustExist: false);
            var src = p.GetValue(name) ?? "focus:" + Path.GetFileName(path);
            l.AddImport(src, import);
            foreach (var w in import.Warnings.GroupBy(w => w.Column).Take(10))
                Console.Error.WriteLine($"warning: {w.Count()} row(s) in column {w.Key}, first: {w.First()}");
            Console.WriteLine($"imported {import.Rows.Count} rows of FOCUS {import.Version} as {src}: BilledCost total {import.BilledTotal} {string.Join("/", import.Rows.Select(r => r.BillingCurrency).Distinct())}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Export()
    {
        var output = new Option<string>("--out") { Description = "Output file.", Required = true };
        var format = new Option<string>("--format") { Description = "csv | parquet.", DefaultValueFactory = _ => "csv" };
        var source = SourceOption();
        var since = new Option<string?>("--since") { Description = "First day (YYYY-MM-DD), inclusive." };
        var until = new Option<string?>("--until") { Description = "Last day, exclusive." };
        var ledger = LedgerOption();
        var cmd = new Command("export", "Export allocated costs as FOCUS 1.2 (CSV or Parquet), validated against the FOCUS column reference before writing.") { output, format, source, since, until, ledger };
        cmd.SetAction(async (p, ct) =>
        {
            using var l = OpenLedger(p.GetValue(ledger)!);
            var lines = l.Lines(p.GetValue(source), Day(p.GetValue(since), "--since"), Day(p.GetValue(until), "--until"));
            var table = FocusExporter.ToTable(lines);
            var issues = new FocusValidator(FocusReference.Embedded, FocusExporter.Version, FocusStrictness.Strict).Validate(table.Columns, table.Rows);
            if (issues.Count > 0) throw new InvalidOperationException($"export fails FOCUS validation: {issues[0]} ({issues.Count} issues)");
            var path = p.GetValue(output)!;
            switch (p.GetValue(format)!.ToLowerInvariant())
            {
                case "csv":
                    await using (var w = new StreamWriter(path)) FocusExporter.WriteCsv(table, w);
                    break;
                case "parquet":
                    await using (var s = File.Create(path)) await FocusExporter.WriteParquetAsync(table, s, ct: ct);
                    break;
                default:
                    throw new CliException($"--format '{p.GetValue(format)}' is not supported.", "use --format csv or --format parquet.");
            }
            Console.WriteLine($"wrote {table.Rows.Count} FOCUS {FocusExporter.Version} rows to {path}: BilledCost total {lines.Sum(x => x.AmountUsd):F6} USD; validated: 0 issues");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Sql()
    {
        var query = new Argument<string>("query") { Description = "SQL (DuckDB). Tables: usage, node_bills, cost_lines, billing, imports, budgets; view costs." };
        var max = new Option<int>("--max-rows") { Description = "Rows to print.", DefaultValueFactory = _ => 1000 };
        var ledger = LedgerOption();
        var cmd = new Command("sql", "Ad-hoc SQL over usage and imported billing (DuckDB).") { query, max, ledger };
        cmd.SetAction(p =>
        {
            using var l = OpenLedger(p.GetValue(ledger)!);
            (string[] Columns, List<string?[]> Rows) result;
            try { result = l.Sql(p.GetValue(query)!, p.GetValue(max)); }
            catch (DuckDB.NET.Data.DuckDBException e)
            {
                throw new CliException($"SQL error: {e.Message.Split('\n')[0]}", "check the query; 'gureum cost sql \"SHOW TABLES\"' and 'DESCRIBE costs' list what is there.");
            }
            Console.WriteLine(string.Join('\t', result.Columns));
            foreach (var r in result.Rows) Console.WriteLine(string.Join('\t', r.Select(v => v ?? "NULL")));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Budget()
    {
        var cmd = new Command("budget", "Monthly lab budgets: set them, see alerts, and check whether a job would be held.");
        var lab = new Option<string>("--lab") { Description = "Lab.", Required = true };
        var monthly = new Option<decimal>("--monthly") { Description = "Monthly budget in USD.", Required = true };
        var thresholds = new Option<string>("--thresholds") { Description = "Alert thresholds in % of the budget.", DefaultValueFactory = _ => "50,80,100" };
        var ledger = LedgerOption();
        var set = new Command("set", "Set a lab's monthly budget.") { lab, monthly, thresholds, ledger };
        set.SetAction(p =>
        {
            var m = p.GetValue(monthly);
            if (m <= 0) throw new CliException($"--monthly {m} must be positive.", "pass the budget in USD, e.g. --monthly 5000.");
            var percents = p.GetValue(thresholds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : throw new CliException($"--thresholds '{s}' is not a percentage.", "write e.g. --thresholds 50,80,100."))
                .ToArray();
            // The same rules as the API's alertThresholds (PUT /api/v1/labs/{lab}/budget).
            var sorted = LabBudget.CheckPercents(percents, out var problems);
            if (problems.Count > 0)
                throw new CliException($"--thresholds {p.GetValue(thresholds)}: {problems[0].Problem}" + (problems[0].Index >= 0 ? $" (value {problems[0].Index + 1})." : "."), problems[0].Fix + ", e.g. --thresholds 50,80,100.");
            var th = sorted.Select(v => v / 100m).ToArray();
            using var l = OpenLedger(p.GetValue(ledger)!, mustExist: false);
            l.SetBudget(new LabBudget(p.GetValue(lab)!, m, th));
            Console.WriteLine($"budget of lab {p.GetValue(lab)}: {m:F2} USD/month, alerts at {string.Join(", ", th.Select(t => t.ToString("P0", CultureInfo.InvariantCulture)))}");
            return ExitCodes.Ok;
        });
        var month = new Option<string?>("--month") { Description = "YYYY-MM. Default: the latest month in the ledger." };
        var source = SourceOption();
        var ledger2 = LedgerOption();
        var status = new Command("status", "Month-to-date spend per budgeted lab and the alerts crossed.") { month, source, ledger2 };
        status.SetAction(p =>
        {
            using var l = OpenLedger(p.GetValue(ledger2)!);
            var (first, spent) = MonthSpend(l, p.GetValue(month), p.GetValue(source));
            foreach (var b in l.Budgets())
            {
                var s = spent.GetValueOrDefault(b.Lab);
                Console.WriteLine($"{b.Lab}: {s:F2} of {b.MonthlyUsd:F2} USD in {first:yyyy-MM} ({(b.MonthlyUsd == 0 ? 0 : s / b.MonthlyUsd):P1})");
                foreach (var a in BudgetAlerts.Crossed(b, 0, s, first, DateTimeOffset.UtcNow))
                    Console.WriteLine($"  event budget.threshold_crossed lab={a.Lab} threshold={a.Threshold:P0}: {a.Message}");
            }
            return ExitCodes.Ok;
        });
        var predicted = new Option<decimal>("--predicted-usd") { Description = "The job's predicted cost.", Required = true };
        var committed = new Option<decimal>("--committed-usd") { Description = "Predicted remaining cost of the lab's running jobs.", DefaultValueFactory = _ => 0 };
        var overrideOpt = new Option<bool>("--override") { Description = "Admin override: admit even over budget." };
        var lab3 = new Option<string>("--lab") { Description = "Lab.", Required = true };
        var month3 = new Option<string?>("--month") { Description = "YYYY-MM. Default: the latest month in the ledger." };
        var ledger3 = LedgerOption();
        var source3 = SourceOption();
        var gate = new Command("gate", "Would a job be admitted under its lab's budget? Exit 0 admitted, 3 held.") { lab3, predicted, committed, overrideOpt, month3, source3, ledger3 };
        gate.SetAction(p =>
        {
            using var l = OpenLedger(p.GetValue(ledger3)!);
            var (_, spent) = MonthSpend(l, p.GetValue(month3), p.GetValue(source3));
            var name = p.GetValue(lab3)!;
            var d = BudgetGate.Decide(new GateRequest(name, p.GetValue(predicted), spent.GetValueOrDefault(name), p.GetValue(committed), p.GetValue(overrideOpt)),
                l.Budgets().FirstOrDefault(b => b.Lab == name));
            Console.WriteLine($"{d.Verdict}: projected {d.ProjectedUsd:F2} USD of budget {d.BudgetUsd:F2}{(d.Reason is null ? "" : " — " + d.Reason)}");
            return d.Verdict == GateVerdict.Hold ? 3 : ExitCodes.Ok;
        });
        cmd.Subcommands.Add(set);
        cmd.Subcommands.Add(status);
        cmd.Subcommands.Add(gate);
        return cmd;
    }

    private static (DateOnly First, Dictionary<string, decimal> Spent) MonthSpend(CostLedger l, string? month, string? source)
    {
        DateOnly first;
        if (month is not null)
        {
            if (!DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out first))
                throw new CliException($"--month '{month}' is not a month.", "write --month YYYY-MM, e.g. 2024-09.");
        }
        else
        {
            var last = l.Query("SELECT max(day) FROM costs", r => r.IsDBNull(0) ? (DateTime?)null : r.GetDateTime(0))[0]
                ?? throw new CliException("the ledger has no costs yet.", "write a replay with --ledger or import a FOCUS file first.");
            first = new DateOnly(last.Year, last.Month, 1);
        }
        var spent = l.Query("SELECT lab, sum(amount_usd) FROM costs WHERE day >= $a AND day < $b AND ($s IS NULL OR starts_with(source, $s)) GROUP BY lab",
            r => (r.GetString(0), r.GetDecimal(1)), ("a", first.ToDateTime(TimeOnly.MinValue)), ("b", first.AddMonths(1).ToDateTime(TimeOnly.MinValue)), ("s", source))
            .ToDictionary(x => x.Item1, x => x.Item2);
        return (first, spent);
    }

    private static Command Forecast()
    {
        var days = new Option<int>("--days") { Description = "Days ahead.", DefaultValueFactory = _ => 30 };
        var source = SourceOption();
        var backtest = new Option<string?>("--backtest") { Description = "Instead: score the forecaster against seasonal naive (MASE) on the datacenter 5-minute series in this folder." };
        var ledger = LedgerOption();
        var cmd = new Command("forecast", "Daily spend forecast per lab and overall (damped additive Holt-Winters averaged with last week and the mean of the last two weeks), with 80 % intervals.") { days, source, backtest, ledger };
        cmd.SetAction(p =>
        {
            if (p.GetValue(backtest) is { } dir)
            {
                foreach (var (file, col) in DatacenterSeries.Files)
                {
                    var path = Path.Combine(dir, file);
                    if (!File.Exists(path)) throw new CliException($"{path} not found.", "pass the datacenter_aggregates_5min folder of the shared data.");
                    var hourly = ForecastEvaluation.Aggregate(DatacenterSeries.Load(path, col), 12);
                    var b = ForecastEvaluation.Run(hourly, 24, 24, 5);
                    Console.WriteLine($"{file} ({col}, {hourly.Length} hourly means): MASE model {b.ModelMase:F3}, seasonal naive {b.SeasonalNaiveMase:F3}, 80% interval coverage {b.Coverage80:P0} over {b.Origins} day-ahead origins");
                }
                return ExitCodes.Ok;
            }
            using var l = OpenLedger(p.GetValue(ledger)!);
            var rows = l.Query("SELECT lab, day, sum(amount_usd) FROM costs WHERE ($s IS NULL OR starts_with(source, $s)) GROUP BY ALL ORDER BY 1, 2",
                r => (Lab: r.GetString(0), Day: DateOnly.FromDateTime(r.GetDateTime(1)), Usd: r.GetDecimal(2)), ("s", p.GetValue(source)));
            if (rows.Count == 0) throw new CliException("the ledger has no costs to forecast from.", "write a replay with --ledger or import a FOCUS file first.");
            var d0 = rows.Min(r => r.Day);
            var d1 = rows.Max(r => r.Day);
            var n = d1.DayNumber - d0.DayNumber + 1;
            var h = p.GetValue(days);
            var t = new Table().AddColumns("lab", "history days", "last 30 d USD", $"next {h} d USD", "80% low", "80% high");
            foreach (var g in rows.GroupBy(r => r.Lab).Append(rows.GroupBy(_ => "(all)").First()))
            {
                var y = new double[n];
                foreach (var r in g) y[r.Day.DayNumber - d0.DayNumber] += (double)r.Usd;
                var fc = SeasonalBlend.Fit(y, 7, Math.Min(h, 14)).Forecast(h);
                t.AddRow(Markup.Escape(g.Key), n.ToString(CultureInfo.InvariantCulture), y.TakeLast(30).Sum().ToString("N2", CultureInfo.InvariantCulture),
                    fc.Sum(f => Math.Max(0, f.Estimate)).ToString("N2", CultureInfo.InvariantCulture),
                    fc.Sum(f => Math.Max(0, f.Low)).ToString("N2", CultureInfo.InvariantCulture), fc.Sum(f => Math.Max(0, f.High)).ToString("N2", CultureInfo.InvariantCulture));
            }
            if (AnsiConsole.Profile.Width < 120) AnsiConsole.Profile.Width = 120;
            AnsiConsole.Write(t);
            Console.WriteLine("note: totals add the daily 80% bounds, so the total's range is wider than an 80% interval; negative daily values are counted as 0.");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Recommend()
    {
        var source = SourceOption();
        var utilization = new Option<string?>("--utilization") { Description = "Folder with per-container GPU duty-cycle (and memory) series, Alibaba GenAI layout." };
        var catalogs = new Option<string[]>("--catalog") { Description = "Catalog CSV(s) for rightsizing prices. Default: the built-in catalog.", AllowMultipleArgumentsPerToken = true };
        var currentGpu = new Option<string>("--current-gpu") { Description = "GPU model the utilization series ran on (the GenAI data does not say).", DefaultValueFactory = _ => "A10G" };
        var reserved = new Option<double>("--reserved-discount") { Description = "Discount of a reserved node (1-year).", DefaultValueFactory = _ => 0.37 };
        var flexible = new Option<double>("--flexible-discount") { Description = "Discount of the flexible $/h commitment (1-year).", DefaultValueFactory = _ => 0.28 };
        var historyUntil = new Option<string?>("--history-until") { Description = "Plan commitments from on-demand usage before this day (YYYY-MM-DD). Default: all of it." };
        var ledger = LedgerOption();
        var cmd = new Command("recommend", "Savings: a commitment plan from on-demand usage (OR-Tools), idle GPUs and rightsizing from utilization series, each with its saving in USD.")
        {
            source, utilization, catalogs, currentGpu, reserved, flexible, historyUntil, ledger,
        };
        cmd.SetAction(p =>
        {
            var any = false;
            if (File.Exists(p.GetValue(ledger)!) && p.GetValue(source) is { } src)
            {
                any = true;
                using var l = OpenLedger(p.GetValue(ledger)!);
                var until = Day(p.GetValue(historyUntil), "--history-until");
                var history = DemandHistory.OnDemandPools(l, src, until is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null);
                if (history.Count == 0) Console.WriteLine($"commitment: {src} has no on-demand node bills; nothing to commit.");
                else
                {
                    // Forecast each pool's next 30 days hourly from its history; plan on the forecast.
                    const int horizon = 720;
                    var forecast = history.Select(pool => pool with
                    {
                        NodesPerHour = HoltWinters.Fit(pool.NodesPerHour.ToArray(), 24, 24).Forecast(horizon).Select(f => Math.Max(0, f.Estimate)).ToArray(),
                    }).ToList();
                    var opt = new CommitmentOptions { ReservedDiscount = p.GetValue(reserved), FlexibleDiscount = p.GetValue(flexible) };
                    var plan = CommitmentPlanner.Optimize(forecast, opt);
                    Console.WriteLine($"commitment plan for the next 30 days of {src} ({history.Count} on-demand offers, {history[0].NodesPerHour.Count} h of history; discounts reserved {opt.ReservedDiscount:P0}, flexible {opt.FlexibleDiscount:P0}; solver {plan.Solver}):");
                    foreach (var (offer, n) in plan.Reserved.Where(kv => kv.Value > 0)) Console.WriteLine($"  reserve {n} × {offer}");
                    Console.WriteLine($"  flexible commitment {plan.FlexiblePerHour:F2} USD/h");
                    Console.WriteLine($"  expected cost {plan.PlannedUsd:F2} USD vs {plan.OnDemandOnlyUsd:F2} all on demand: saving {plan.SavingUsd:F2} USD per 30 days");
                }
            }
            if (p.GetValue(utilization) is { } dir)
            {
                any = true;
                var series = GpuUtilization.LoadDirectory(dir);
                var offers = p.GetValue(catalogs) is { Length: > 0 } c ? CatalogLoader.LoadMany(c) : CatalogLoader.LoadDefault();
                var model = p.GetValue(currentGpu)!;
                var gpuOffers = offers.Where(o => string.Equals(o.GpuModel, model, StringComparison.OrdinalIgnoreCase) && o.OnDemandPerHour is not null && o.GpuCount > 0).ToList();
                if (gpuOffers.Count == 0) throw new CliException($"no on-demand {model} offer in the catalog.", "pass --catalog with a catalog that has it, or --current-gpu with a model it has.");
                var price = gpuOffers.Min(Rightsizing.PerGpu);
                var rule = new IdleRule();
                var idle = IdleGpuDetector.Detect(series, rule);
                var windows = idle.Sum(f => f.Windows);
                var idleWindows = idle.Sum(f => f.IdleWindows);
                var hoursObserved = windows / (double)Math.Max(1, idle.Count);
                Console.WriteLine($"idle GPUs ({series.Count} containers, {windows} GPU-hours observed; rule: {rule}):");
                Console.WriteLine($"  {idleWindows} idle GPU-hours ({(double)idleWindows / Math.Max(1, windows):P1}); {idle.Count(f => f.Release)} GPUs idle in ≥ {rule.IdleShareToRelease:P0} of their hours: release them");
                var monthly = (decimal)(idleWindows / hoursObserved * Rightsizing.HoursPerMonth) * price;
                Console.WriteLine($"  stopping GPUs in their idle hours saves {monthly:F2} USD/month at {price:F4} USD per {model} GPU-hour (cheapest on-demand in the catalog), if the observed {hoursObserved:F1} h are typical");
                var right = Rightsizing.Recommend(series, model, offers);
                Console.WriteLine($"rightsizing (memory ≥ peak × 1.2, p95 duty on the new GPU ≤ 80%): {right.Count} of {series.Count} containers, saving {right.Sum(r => r.MonthlySavingUsd):F2} USD/month");
                foreach (var g in right.GroupBy(r => r.ToOffer).OrderByDescending(g => g.Count()))
                    Console.WriteLine($"  {g.Count()} × {model} → {g.First().ToModel} ({g.Key}, {g.First().ToPerGpuHour:F4} USD/GPU-h): {g.Sum(r => r.MonthlySavingUsd):F2} USD/month");
            }
            if (!any) throw new CliException("nothing to recommend on.", "pass --source NAME (a replay or live source in the ledger) and/or --utilization DIR.");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Anomalies()
    {
        var metric = new Option<string>("--metric") { Description = $"What to score, one hourly series per key: {MetricAnomalies.Names}. spend, gpu-hours, cpu-hours per lab/project/user; node-hours (nodes billed) and idle-gpu-hours (billed GPU-hours no job held) per pool (offer/market).", DefaultValueFactory = _ => "spend" };
        var by = new Option<string?>("--by") { Description = "lab | project | user for spend, gpu-hours, cpu-hours (default lab); pool for node-hours, idle-gpu-hours (the default there)." };
        var since = new Option<string?>("--since") { Description = "First day (YYYY-MM-DD, UTC), inclusive. Default: the source's first usage." };
        var until = new Option<string?>("--until") { Description = "Last day, exclusive. Default: the source's last usage." };
        var source = SourceOption();
        var threshold = new Option<double>("--threshold") { Description = $"Flag hours scoring at least this (0–1). Default {SpendAnomalies.DefaultThreshold}: NAB's corpus-optimal threshold for this detector on realAWSCloudwatch.", DefaultValueFactory = _ => SpendAnomalies.DefaultThreshold };
        var ledger = LedgerOption();
        var cmd = new Command("anomalies", "Anomalies in spend, usage and node metrics: each key's hourly series scored one hour at a time by the streaming detector used for NAB (same settings for every series and metric); flagged hours listed. Exit 0 (with or without anomalies), 2 bad input.")
        {
            metric, by, since, until, source, threshold, ledger,
        };
        cmd.SetAction(p =>
        {
            if (MetricAnomalies.Parse(p.GetValue(metric)) is not { } m)
                throw new CliException($"--metric '{p.GetValue(metric)}' is not a metric.", $"use one of {MetricAnomalies.Names}.");
            var pool = MetricAnomalies.SubjectOf(m) == AnomalySubject.Pool;
            var grouping = (p.GetValue(by) ?? (pool ? "pool" : "lab")).ToLowerInvariant();
            if (pool ? grouping != "pool" : MetricAnomalies.TenantKeyOfUsage(grouping) is null)
                throw new CliException($"--by '{p.GetValue(by)}' is not a grouping of --metric {MetricAnomalies.Name(m)}.",
                    pool ? "leave --by out or use --by pool (its series are per pool: offer/market)." : "use --by lab, project or user.");
            var th = p.GetValue(threshold);
            if (!(th > 0 && th <= 1)) throw new CliException($"--threshold {th} is out of range.", "give a score in (0, 1], e.g. 0.2.");
            var a = Day(p.GetValue(since), "--since");
            var b = Day(p.GetValue(until), "--until");
            using var l = OpenLedger(p.GetValue(ledger)!);
            var sources = l.Sources().Select(x => x.Source)
                .Where(x => !x.StartsWith("focus:", StringComparison.Ordinal) && (p.GetValue(source) is not { } prefix || x.StartsWith(prefix, StringComparison.Ordinal))).ToList();
            if (sources.Count == 0) throw new CliException("the ledger has no metered usage to look at.", "write one with 'gureum replay … --ledger PATH' (FOCUS imports have no hourly usage), or check --source.");
            var t = new Table().AddColumns("source", grouping, "hour (UTC)", MetricAnomalies.Unit(m), "median (24 h before)", "score");
            var found = 0;
            foreach (var src in sources)
            {
                var usage = l.Usage(src, a, b);
                if (usage.Count == 0) continue;
                var from = a is { } d0 ? new DateTimeOffset(d0.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : usage.Min(u => u.Start);
                var to = b is { } d1 ? new DateTimeOffset(d1.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : usage.Max(u => u.End);
                List<CostLine> lines = m == AnomalyMetric.Spend ? l.Lines(src, a, b).Where(x => x.Source == src).ToList() : [];
                IReadOnlyList<NodeSpan> nodes = pool ? l.NodeSpans(src, a, b) : [];
                var series = MetricAnomalies.Hourly(m, grouping, lines, usage, nodes, from, to);
                var anomalies = MetricAnomalies.DetectAll(m, series, th);
                Console.WriteLine($"{src}: {series.Count} series × {series.Values.FirstOrDefault()?.Length ?? 0} hours, {anomalies.Count} anomalous hours");
                found += anomalies.Count;
                foreach (var x in anomalies)
                    t.AddRow(Markup.Escape(src), Markup.Escape(x.Key), x.Hour.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                        x.Value.ToString("N2", CultureInfo.InvariantCulture),
                        x.Median.ToString("N2", CultureInfo.InvariantCulture), x.Score.ToString("F3", CultureInfo.InvariantCulture));
            }
            if (AnsiConsole.Profile.Width < 120) AnsiConsole.Profile.Width = 120;
            if (found > 0) AnsiConsole.Write(t);
            Console.WriteLine($"{found} anomalous hours of {MetricAnomalies.Name(m)} (detector gureumRobust, default settings; threshold {th.ToString(CultureInfo.InvariantCulture)}).");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
