using System.CommandLine;
using System.Globalization;
using System.Text;
using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum trace</c>: <c>generate</c> writes a synthetic Gureum CSV; <c>info</c> loads a trace in any
/// format and prints its counts, fleet, notes and skipped rows. Exit codes: <see cref="ExitCodes"/>.
/// </summary>
internal static class TraceCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var cmd = new Command("trace", "Generate synthetic traces and inspect real ones (openb, dlrm, helios, gureum).");
        cmd.Subcommands.Add(CreateGenerate());
        cmd.Subcommands.Add(CreateInfo());
        return cmd;
    }

    private static Command CreateGenerate()
    {
        var d = new TraceGeneratorOptions();
        var jobs = new Option<int>("--jobs") { Description = "Number of jobs to generate.", Required = true };
        var output = new Option<string>("--out") { Description = "Gureum CSV file to write ('-' for standard output).", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same trace.", DefaultValueFactory = _ => d.Seed };
        var arrival = new Option<string>("--arrival") { Description = "Arrival process: poisson or diurnal.", DefaultValueFactory = _ => "poisson" };
        var rate = new Option<double>("--rate-per-hour") { Description = "Mean arrivals per hour.", DefaultValueFactory = _ => d.RatePerHour };
        var dist = new Option<string>("--duration-dist") { Description = "Run-time distribution: lognormal or pareto.", DefaultValueFactory = _ => "lognormal" };
        var median = new Option<double>("--median-duration-s") { Description = "Median run time in seconds.", DefaultValueFactory = _ => d.MedianDurationSeconds };
        var mix = new Option<string>("--gpu-mix") { Description = "GPU-count mix gpus:share,… (0.5 = half a GPU).", DefaultValueFactory = _ => d.GpuMix };
        var labs = new Option<int>("--labs") { Description = "Number of labs.", DefaultValueFactory = _ => d.Labs };
        var users = new Option<int>("--users-per-lab") { Description = "Users per lab.", DefaultValueFactory = _ => d.UsersPerLab };
        var ckpt = new Option<double>("--checkpoint-share") { Description = "Share of jobs that checkpoint (every 30 min).", DefaultValueFactory = _ => d.CheckpointShare };
        var services = new Option<double>("--service-share") { Description = "Share of jobs that are services (a preemption loses no work; run time = lifetime).", DefaultValueFactory = _ => d.ServiceShare };
        var constraint = new Option<double>("--model-constraint-share") { Description = "Share of GPU jobs requiring one GPU model (V100, A100 or H100).", DefaultValueFactory = _ => d.GpuModelConstraintShare };
        var limit = new Option<double?>("--time-limit-factor") { Description = "Give every job a time limit of run time × U[1, factor], rounded up to a minute." };
        var cmd = new Command("generate", "Write a synthetic workload as Gureum CSV (deterministic for a seed).");
        foreach (var o in new Option[] { jobs, output, seed, arrival, rate, dist, median, mix, labs, users, ckpt, services, constraint, limit }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var n = parse.GetValue(jobs);
            if (n < 1) throw new CliException($"--jobs {n} must be at least 1.", "Give the number of jobs, e.g. --jobs 10000.");
            var path = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(path)) throw new CliException("--out is empty.", "Give the CSV file to write, e.g. --out jobs.csv.");
            var options = new TraceGeneratorOptions
            {
                Jobs = n,
                Seed = parse.GetValue(seed),
                Arrival = parse.GetValue(arrival)?.ToLowerInvariant() switch
                {
                    "poisson" => ArrivalProcess.Poisson,
                    "diurnal" => ArrivalProcess.Diurnal,
                    var a => throw new CliException($"--arrival '{a}' is not an arrival process.", "Use --arrival poisson or --arrival diurnal."),
                },
                RatePerHour = Positive(parse.GetValue(rate), "--rate-per-hour", "e.g. --rate-per-hour 60"),
                DurationDistribution = parse.GetValue(dist)?.ToLowerInvariant() switch
                {
                    "lognormal" => DurationDistribution.LogNormal,
                    "pareto" => DurationDistribution.Pareto,
                    var x => throw new CliException($"--duration-dist '{x}' is not a distribution.", "Use --duration-dist lognormal or --duration-dist pareto."),
                },
                MedianDurationSeconds = Positive(parse.GetValue(median), "--median-duration-s", "e.g. --median-duration-s 1800"),
                GpuMix = ParseMix(parse.GetValue(mix) ?? d.GpuMix),
                Labs = AtLeastOne(parse.GetValue(labs), "--labs"),
                UsersPerLab = AtLeastOne(parse.GetValue(users), "--users-per-lab"),
                CheckpointShare = Share(parse.GetValue(ckpt), "--checkpoint-share"),
                ServiceShare = Share(parse.GetValue(services), "--service-share"),
                GpuModelConstraintShare = Share(parse.GetValue(constraint), "--model-constraint-share"),
                TimeLimitFactor = parse.GetValue(limit) is { } f
                    ? (f >= 1 && double.IsFinite(f) ? f : throw new CliException($"--time-limit-factor {f.ToString(Inv)} is below 1.", "Give a factor ≥ 1, e.g. --time-limit-factor 3."))
                    : null,
            };
            var generated = TraceGenerator.Generate(options);
            long written;
            if (path == "-")
            {
                written = GureumCsv.Write(Console.Out, generated, options.Epoch);
                Console.Out.Flush();
            }
            else
            {
                var full = Path.GetFullPath(path);
                var dir = Path.GetDirectoryName(full);
                if (dir is not null && !Directory.Exists(dir))
                {
                    throw new CliException($"The folder of --out does not exist: {dir}", "Create the folder first or write elsewhere.");
                }

                // Write beside the target and rename, so an interrupted run leaves no half-written trace.
                var temp = full + ".tmp";
                using (var w = new StreamWriter(temp, append: false, new UTF8Encoding(false), 1 << 16))
                {
                    written = GureumCsv.Write(w, generated, options.Epoch,
                        k => Console.Error.WriteLine(string.Create(Inv, $"  {k:N0} / {n:N0} jobs written")));
                }

                File.Move(temp, full, overwrite: true);
                Console.Error.WriteLine(string.Create(Inv, $"wrote {written:N0} jobs to {path} (seed {options.Seed})"));
            }

            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateInfo()
    {
        var trace = new Option<string>("--trace") { Description = "Trace file (helios: a file or a folder of *_cluster_sequence_vc.csv).", Required = true };
        var format = new Option<string>("--format") { Description = "Trace format: openb, dlrm, helios or gureum.", Required = true };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "Skip malformed rows (counted and shown) instead of stopping at the first." };
        var nodes = new Option<string?>("--node-list") { Description = "openb only: node list to use as the fleet (default: openb_node_list_all_node.csv beside the trace)." };
        var cmd = new Command("info", "Load a trace and print its jobs, GPU mix, span, fleet, notes and bad rows.");
        foreach (var o in new Option[] { trace, format, skip, nodes }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var f = parse.GetValue(format);
            if (!TraceLoader.TryParseFormat(f, out var fmt))
            {
                throw new CliException($"--format '{f}' is not a trace format.", "Use --format openb, dlrm, helios or gureum.");
            }

            var path = parse.GetValue(trace)!;
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new CliException($"Trace not found: {path}", "Check the path; relative paths are taken from the current directory.");
            }

            Trace t;
            try
            {
                t = TraceLoader.Load(path, fmt, new TraceLoadOptions { SkipBadRows = parse.GetValue(skip), NodeListPath = parse.GetValue(nodes) });
            }
            catch (TraceFormatException e)
            {
                throw new CliException($"{e.Location}: {e.Problem}", e.Fix + (parse.GetValue(skip) ? "" : " (--skip-bad-rows skips malformed rows.)"));
            }

            Console.Out.Write(Describe(t));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>The text <c>trace info</c> prints.</summary>
    internal static string Describe(Trace t)
    {
        var sb = new StringBuilder();
        void Line(string s) => sb.Append(s).Append('\n');
        Line($"trace   {t.Name} ({t.Format.ToString().ToLowerInvariant()})");
        Line(string.Create(Inv, $"jobs    {t.Jobs.Count:N0}"));
        if (t.Jobs.Count > 0)
        {
            var first = t.Jobs[0].SubmitTime;
            var lastSubmit = t.Jobs[^1].SubmitTime;
            var lastEnd = t.Jobs.Max(j => j.SubmitTime + (j.Duration ?? TimeSpan.Zero));
            Line(string.Create(Inv, $"span    submissions {first:yyyy-MM-dd HH:mm:ss} .. {lastSubmit:yyyy-MM-dd HH:mm:ss}Z ({(lastSubmit - first).TotalDays:0.0} days); last end (zero wait) {lastEnd:yyyy-MM-dd HH:mm:ss}Z"));
            var gpuHours = t.Jobs.Sum(j => j.Resources.TotalGpus * (j.Duration ?? TimeSpan.Zero).TotalHours);
            var runs = t.Jobs.Select(j => (j.Duration ?? TimeSpan.Zero).TotalSeconds).Order().ToArray();
            Line(string.Create(Inv, $"run     p50 {runs[runs.Length / 2]:N0} s, p90 {runs[(int)(runs.Length * 0.9)]:N0} s, p99 {runs[Math.Min(runs.Length - 1, (int)(runs.Length * 0.99))]:N0} s; {gpuHours:N0} GPU-hours"));
            var mix = t.Jobs.GroupBy(j => j.Resources.IsFractional ? "<1" : j.Resources.Gpus.ToString(Inv))
                .OrderBy(g => g.Key == "<1" ? 0.5 : double.Parse(g.Key, Inv))
                .Select(g => string.Create(Inv, $"{g.Key}: {g.Count():N0} ({100.0 * g.Count() / t.Jobs.Count:0.#}%)"));
            Line("GPUs    " + string.Join(", ", mix));
            var multiNode = t.Jobs.Count(j => j.Resources.Nodes > 1);
            if (multiNode > 0) Line(string.Create(Inv, $"        {multiNode:N0} multi-node jobs"));
            Line(string.Create(Inv, $"labs    {t.Jobs.Select(j => j.Lab).Distinct().Count():N0}; users {t.Jobs.Select(j => j.User).Distinct().Count():N0}"));
        }

        if (t.Fleet.Count > 0)
        {
            Line(string.Create(Inv, $"fleet   {t.Fleet.Count:N0} nodes, {t.Fleet.Sum(n => n.Gpus):N0} GPUs, {t.Fleet.Sum(n => n.Cpus):N0} vCPUs"));
            foreach (var g in t.Fleet.Where(n => n.Gpus > 0).GroupBy(n => (n.RawModel, n.GpuModel, n.Gpus)).OrderByDescending(g => g.Count()))
            {
                var model = g.Key.RawModel == g.Key.GpuModel ? g.Key.RawModel : $"{g.Key.RawModel} (as {g.Key.GpuModel})";
                Line(string.Create(Inv, $"        {g.Count(),5:N0} × {model}×{g.Key.Gpus}"));
            }

            var cpuOnly = t.Fleet.Count(n => n.Gpus == 0);
            if (cpuOnly > 0) Line(string.Create(Inv, $"        {cpuOnly,5:N0} × CPU-only"));
        }
        else
        {
            Line("fleet   none in the trace");
        }

        Line("notes");
        foreach (var n in t.Notes) Line("  - " + n);
        Line(string.Create(Inv, $"bad rows skipped: {t.BadRowsSkipped:N0}"));
        foreach (var m in t.BadRowMessages) Line("  " + m);
        if (t.BadRowsSkipped > t.BadRowMessages.Count) Line(string.Create(Inv, $"  … and {t.BadRowsSkipped - t.BadRowMessages.Count:N0} more"));
        return sb.ToString();
    }

    private static double Positive(double v, string name, string example) =>
        double.IsFinite(v) && v > 0 ? v : throw new CliException($"{name} {v.ToString(Inv)} must be greater than 0.", $"Give a positive number, {example}.");

    private static int AtLeastOne(int v, string name) =>
        v >= 1 ? v : throw new CliException($"{name} {v} must be at least 1.", $"Give {name} 1 or more.");

    private static double Share(double v, string name) =>
        v is >= 0 and <= 1 ? v : throw new CliException($"{name} {v.ToString(Inv)} is not a share.", $"Give {name} between 0 and 1, e.g. 0.3.");

    private static string ParseMix(string spec)
    {
        try
        {
            _ = GpuMix.Parse(spec);
            return spec;
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--gpu-mix '{spec}': {e.Message.Split(" Expected", 2)[0].Replace(" (Parameter 'spec')", "", StringComparison.Ordinal)}",
                "Give gpus:share pairs summing to 1, e.g. --gpu-mix \"0:0.1,0.5:0.2,1:0.4,2:0.1,4:0.1,8:0.1\" (0.5 = half a GPU).");
        }
    }
}
