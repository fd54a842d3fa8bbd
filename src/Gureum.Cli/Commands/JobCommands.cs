using System.CommandLine;
using System.Text;
using Gureum.Cli.Remote;
using Gureum.Contracts.Api;
using Gureum.Contracts.Client;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum ls | show | logs | cancel</c>: watch and manage jobs on the server.</summary>
internal static class JobCommands
{
    public static IEnumerable<Command> Create() => [CreateLs(), CreateShow(), CreateLogs(), CreateCancel()];

    private static Argument<string> IdArgument() => new("ID") { Description = "Job id (as printed by submit and ls)." };

    private static Command CreateLs()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Everything your role may see (lab lead: the lab's jobs; admin: every job), not just your own, and ended jobs too." };
        var status = new Option<string?>("--status") { Description = $"Only jobs in this state: {string.Join(", ", JobStatuses.All)}." };
        var lab = new Option<string?>("--lab") { Description = "Only this lab's jobs." };
        var user = new Option<string?>("--user") { Description = "Only this user's jobs." };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs (newest first as the server pages them).", DefaultValueFactory = _ => 200 };
        var json = CliOutput.JsonOption();
        var cmd = new Command("ls", "List jobs: yours by default, everything you may see with --all.") { all, status, lab, user, limit, json };
        cmd.SetAction(async (p, ct) =>
        {
            var s = p.GetValue(status);
            if (s is not null)
                s = JobStatuses.All.FirstOrDefault(x => string.Equals(x, s, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CliException($"--status \"{s}\" is not a job status", $"use one of {string.Join(", ", JobStatuses.All)}");
            var max = p.GetValue(limit);
            if (max < 1) throw new CliException($"--limit {max} must be at least 1", "e.g. --limit 50");
            using var client = CliConfigStore.CreateClient();
            var jobs = await client.ListAllJobsAsync(new JobQuery { All = p.GetValue(all), Status = s, Lab = p.GetValue(lab), User = p.GetValue(user) }, max, ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(jobs);
                return ExitCodes.Ok;
            }
            if (jobs.Count == 0)
            {
                Console.WriteLine(p.GetValue(all) ? "No jobs." : "No jobs of yours (gureum ls --all shows everything you may see).");
                return ExitCodes.Ok;
            }
            var now = TimeProvider.System.GetUtcNow();
            var t = CliOutput.Table("ID", "NAME", "STATUS", "GPUS", "USER", "LAB", "SUBMITTED (UTC)", "RAN", "NOTE");
            foreach (var j in jobs)
            {
                var ran = j.StartedAt is { } st ? CliOutput.Span((j.EndedAt ?? now) - st) : "-";
                var note = j.Status switch
                {
                    JobStatuses.Pending => j.WaitReason,
                    JobStatuses.Running => (j.CancelRequested ? "cancelling; " : "") + string.Join(',', j.Nodes),
                    _ => j.ExitCode is { } c ? $"exit {c}" : null,
                };
                CliOutput.Row(t, j.Id, j.Name, j.Status, j.Gpus, j.User, j.Lab, CliOutput.Time(j.SubmittedAt), ran, note);
            }
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateShow()
    {
        var id = IdArgument();
        var json = CliOutput.JsonOption();
        var cmd = new Command("show", "Show one job and its history of events.") { id, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var job = await client.GetJobAsync(p.GetValue(id)!, ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(job);
                return ExitCodes.Ok;
            }
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            void Add(string k, string? v) => grid.AddRow(new Text(k), new Text(v ?? "-"));
            Add("id", job.Id);
            Add("name", job.Name);
            Add("kind", job.Kind);
            Add("status", job.Status + (job.CancelRequested && !job.IsTerminal() ? " (cancel requested)" : ""));
            Add("user / lab / project", $"{job.User} / {job.Lab} / {job.Project}");
            Add("gpus", job.Gpus + (job.GpuModel is null ? "" : $" (got {job.GpuModel})"));
            Add("nodes", job.Nodes.Count == 0 ? null : string.Join(", ", job.Nodes));
            Add("submitted", CliOutput.Time(job.SubmittedAt));
            Add("started", CliOutput.Time(job.StartedAt));
            Add("ended", CliOutput.Time(job.EndedAt));
            Add("attempts", job.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (job.ExitCode is { } c) Add("exit code", c.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (job.WaitReason is not null && job.Status == JobStatuses.Pending) Add("waiting because", job.WaitReason);
            if (job.Hold is not null) Add("held", $"{job.Hold} (an admin releases it with 'gureum release {job.Id}')");
            AnsiConsole.Write(grid);
            var events = await client.JobEventsAsync(job.Id, ct);
            if (events.Items.Count > 0)
            {
                Console.WriteLine();
                var t = CliOutput.Table("TIME (UTC)", "EVENT", "NODE", "MESSAGE");
                foreach (var e in events.Items) CliOutput.Row(t, CliOutput.Time(e.At), e.Kind, e.NodeId, e.Message);
                CliOutput.Write(t);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateLogs()
    {
        var id = IdArgument();
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing output as it comes, until the job ends." };
        var stderr = new Option<bool>("--stderr") { Description = "The job's standard error instead of its standard output." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("logs", "Print a job's output (stdout, or stderr with --stderr).") { id, follow, stderr, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var jobId = p.GetValue(id)!;
            if (!p.GetValue(follow))
            {
                // Without -f, a job that has not started has no output yet: say so instead of waiting for it.
                var job = await client.GetJobAsync(jobId, ct);
                if (job.Status == JobStatuses.Pending)
                {
                    Console.Error.WriteLine($"Job {job.Id} is Pending{(job.WaitReason is null ? "" : $" ({job.WaitReason})")}: no output yet. gureum logs {job.Id} -f waits for it.");
                    if (p.GetValue(json)) CliOutput.Json(new LogsJson(job.Id, p.GetValue(stderr) ? "stderr" : "stdout", ""));
                    return ExitCodes.Ok;
                }
            }
            if (p.GetValue(json))
            {
                using var buffer = new MemoryStream();
                await client.CopyLogsAsync(jobId, p.GetValue(stderr), p.GetValue(follow), 0, buffer, ct);
                CliOutput.Json(new LogsJson(jobId, p.GetValue(stderr) ? "stderr" : "stdout", Encoding.UTF8.GetString(buffer.ToArray())));
                return ExitCodes.Ok;
            }
            await using var stdout = Console.OpenStandardOutput();
            await client.CopyLogsAsync(jobId, p.GetValue(stderr), p.GetValue(follow), 0, stdout, ct);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary><c>logs --json</c>.</summary>
    internal sealed record LogsJson(string JobId, string Stream, string Text);

    private static Command CreateCancel()
    {
        var id = IdArgument();
        var json = CliOutput.JsonOption();
        var cmd = new Command("cancel", "Cancel a job: a waiting job is dropped, a running one is stopped (SIGTERM, then SIGKILL after a grace period).") { id, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var job = await client.CancelAsync(p.GetValue(id)!, ct);
            if (p.GetValue(json)) CliOutput.Json(job);
            else if (job.IsTerminal()) Console.WriteLine($"Job {job.Id} is {job.Status}.");
            else Console.WriteLine($"Cancel requested for job {job.Id} ({job.Status}); gureum show {job.Id} tells when it has stopped.");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
