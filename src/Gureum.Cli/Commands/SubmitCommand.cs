using System.CommandLine;
using Gureum.Cli.Remote;
using Gureum.Contracts.Api;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum submit FILE [--wait] [--dry-run]</c>: sends a job spec (YAML, contract D) to the
/// server, which validates it against the offers and the lab's quota. <c>--wait</c> follows the job
/// to its end and exits <see cref="ExitCodes.JobFailed"/> unless it completed.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Job spec YAML ('-' for standard input)." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job ends; exit 0 only if it completed." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Ask the server what it would do (validation, placement, cost) without submitting." };
        var poll = new Option<double>("--poll-seconds") { Description = "How often --wait asks for the job's state.", DefaultValueFactory = _ => 1.0, Hidden = true };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the job id (for ID=$(gureum submit job.yaml -q))." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("submit", "Submit a job spec (YAML) to the server.") { file, wait, dryRun, poll, quiet, json };
        cmd.SetAction(async (p, ct) =>
        {
            var path = p.GetValue(file)!;
            var yaml = path == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
            if (string.IsNullOrWhiteSpace(yaml))
                throw new CliException($"{(path == "-" ? "standard input" : path)} is empty", "write at least 'run: COMMAND', e.g. run: python train.py");
            using var client = CliConfigStore.CreateClient();
            var asJson = p.GetValue(json);

            if (p.GetValue(dryRun))
            {
                var answer = await client.SubmitDryRunAsync(yaml, ct);
                if (asJson) CliOutput.Json(answer);
                else WriteDryRun(answer);
                return ExitCodes.Ok;
            }

            var job = await client.SubmitAsync(yaml, ct);
            var quietly = p.GetValue(quiet) && !asJson;
            if (quietly) Console.WriteLine(job.Id);
            if (!p.GetValue(wait))
            {
                if (asJson) CliOutput.Json(job);
                else if (!quietly)
                {
                    Console.WriteLine($"Submitted job {job.Id}{(job.Name is null ? "" : $" ({job.Name})")} to lab {job.Lab}: {job.Status}.");
                    Console.WriteLine($"Watch it: gureum show {job.Id}   logs: gureum logs {job.Id} -f   cancel: gureum cancel {job.Id}");
                }
                return ExitCodes.Ok;
            }

            if (!asJson && !quietly) Console.Error.WriteLine($"Submitted job {job.Id}: {job.Status}");
            var interval = TimeSpan.FromSeconds(Math.Clamp(p.GetValue(poll), 0.05, 60));
            var last = job.Status;
            while (!job.IsTerminal())
            {
                await Task.Delay(interval, TimeProvider.System, ct);
                job = await client.GetJobAsync(job.Id, ct);
                if (job.Status != last)
                {
                    var why = job.Status == JobStatuses.Pending && job.WaitReason is not null ? $" ({job.WaitReason})" : "";
                    var where = job.Status == JobStatuses.Running && job.Nodes.Count > 0 ? $" on {string.Join(',', job.Nodes)}" : "";
                    if (!quietly) Console.Error.WriteLine($"job {job.Id}: {job.Status}{where}{why}");
                    last = job.Status;
                }
            }
            if (asJson) CliOutput.Json(job);
            else if (!quietly)
            {
                var took = job.StartedAt is { } s && job.EndedAt is { } e ? $" after running {CliOutput.Span(e - s)}" : "";
                Console.WriteLine($"Job {job.Id} {job.Status}{(job.ExitCode is { } x ? $" (exit code {x})" : "")}{took}.");
            }
            if (job.Status == JobStatuses.Completed) return ExitCodes.Ok;
            Console.Error.WriteLine($"error: job {job.Id} ended {job.Status}{(job.ExitCode is { } c ? $" with exit code {c}" : "")}.");
            Console.Error.WriteLine($"To fix: read its output with gureum logs {job.Id} --stderr and its history with gureum show {job.Id}");
            return ExitCodes.JobFailed;
        });
        return cmd;
    }

    /// <summary>The dry run as a table: start, duration and cost, each estimate with its interval; then where and why.</summary>
    internal static void WriteDryRun(DryRunDto d)
    {
        Console.WriteLine($"Dry run (nothing submitted): policy {d.Policy}, at {CliOutput.Time(d.At)} UTC.");
        var t = CliOutput.Table("", "ESTIMATE", "LOW", "HIGH");
        if (d.StartInSeconds is { } s)
            CliOutput.Row(t, "starts in", Secs(s.Estimate), Secs(s.Low), Secs(s.High));
        else
            CliOutput.Row(t, "starts in", "not within the horizon", "-", "-");
        if (d.StartAt is not null)
            CliOutput.Row(t, "starts at (UTC)", CliOutput.Time(d.StartAt), CliOutput.Time(d.StartAtLow), CliOutput.Time(d.StartAtHigh));
        if (d.DurationSeconds is { } r) CliOutput.Row(t, "runs for", Secs(r.Estimate), Secs(r.Low), Secs(r.High));
        if (d.CostUsd is { } c) CliOutput.Row(t, "costs", Usd(c.Estimate), Usd(c.Low), Usd(c.High));
        CliOutput.Write(t);
        if (d.Offer is not null) Console.WriteLine($"Where: {d.Offer} ({d.Market}{(d.GpuModel is null ? "" : $", {d.GpuModel}")})");
        Console.WriteLine($"Why: {d.Explanation}");
        Console.WriteLine($"Duration model: {d.Predictor}");
        Console.WriteLine($"Method: {d.Method}");
        Console.WriteLine("Submit it for real: gureum submit FILE (without --dry-run).");
    }

    private static string Secs(double seconds) => CliOutput.Span(TimeSpan.FromSeconds(seconds));
    private static string Usd(double usd) => "$" + usd.ToString(usd < 1 ? "0.####" : "0.##", System.Globalization.CultureInfo.InvariantCulture);
}
