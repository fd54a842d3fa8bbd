using System.CommandLine;
using System.Text.Json;
using Gureum.Simulation.Evaluation;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum predict</c>: the learned predictors.</summary>
internal static class PredictCommand
{
    private static readonly string[] TaskNames = ["duration", "demand", "spot", "wait"];

    public static Command Create()
    {
        var cmd = new Command("predict", "Learned predictors: job duration, demand forecast, spot risk, wait-time ETA.");
        cmd.Subcommands.Add(CreateEval());
        return cmd;
    }

    private static Command CreateEval()
    {
        var data = new Option<string>("--data") { Description = "The shared data folder holding traces/, spot_traces/ and utilization/.", Required = true };
        var output = new Option<string?>("--out") { Description = "Write predictors.json and predictors.txt into this folder." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON instead of the table." };
        var tasks = new Option<string?>("--tasks") { Description = "Comma-separated subset of duration,demand,spot,wait (default: all)." };
        var cmd = new Command("eval", "Score every predictor against its baselines on held-back later data and print the table.");
        cmd.Options.Add(data);
        cmd.Options.Add(output);
        cmd.Options.Add(json);
        cmd.Options.Add(tasks);
        cmd.SetAction(parse => Run(parse.GetValue(data)!, parse.GetValue(output), parse.GetValue(json), parse.GetValue(tasks)));
        return cmd;
    }

    private static int Run(string dataDir, string? outDir, bool asJson, string? taskList)
    {
        if (!Directory.Exists(dataDir))
            throw new CliException($"data folder not found: {dataDir}", "pass --data the folder holding traces/, spot_traces/ and utilization/, e.g. ../shared/data");
        var selected = new HashSet<string>(TaskNames, StringComparer.OrdinalIgnoreCase);
        if (taskList is not null)
        {
            selected = new HashSet<string>(taskList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
            var unknown = selected.Where(t => !TaskNames.Contains(t, StringComparer.OrdinalIgnoreCase)).ToList();
            if (unknown.Count > 0 || selected.Count == 0)
                throw new CliException($"--tasks: unknown task(s) {string.Join(", ", unknown)}", "use a comma-separated subset of duration,demand,spot,wait");
        }

        var report = PredictorEvaluation.Run(new PredictorEvaluationOptions { DataRoot = dataDir, Tasks = selected },
            new LineProgress(task => Console.Error.WriteLine($"evaluating {task} …")));
        var text = report.ToTable();
        var jsonText = JsonSerializer.Serialize(report, JsonOptions);
        Console.WriteLine(asJson ? jsonText : text);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "predictors.json"), jsonText);
            File.WriteAllText(Path.Combine(outDir, "predictors.txt"), text);
        }

        return ExitCodes.Ok;
    }

    private sealed class LineProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
