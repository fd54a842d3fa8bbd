using System.CommandLine;
using Gureum.Cli.Remote;
using Gureum.Contracts.Api;
using Spectre.Console;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum why JOB [--json]</c>: why a job is where it is — what it waits for and for whom (as the
/// control loop's last decision explained it), its lab's GPU quota in use, and every decision about
/// it (submitted, nodes bought for it and why that offer, market and zone, started on which node, offer,
/// market and zone and why, preempted why, requeued, …).
/// </summary>
internal static class WhyCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("JOB") { Description = "Job id (as printed by submit and ls)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("why", "Explain a job: why it waits (and for whom) or where it runs and why, with its decision history.") { id, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var why = await client.WhyAsync(p.GetValue(id)!, ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(why);
                return ExitCodes.Ok;
            }
            Write(why);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>The summary, the job's key facts and the timeline as a table.</summary>
    internal static void Write(JobWhyDto why)
    {
        var job = why.Job;
        Console.WriteLine($"{job.Id}{(job.Name is null ? "" : $" ({job.Name})")}: {why.Summary}");
        Console.WriteLine();
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Add(string k, string? v) => grid.AddRow(new Text(k), new Text(v ?? "-"));
        Add("status", job.Status + (job.CancelRequested && !job.IsTerminal() ? " (cancel requested)" : ""));
        Add("user / lab / project", $"{job.User} / {job.Lab} / {job.Project}");
        Add("asks for", job.Gpus == "0" ? "no GPU" : $"{job.Gpus} GPU{(job.Gpus == "1" ? "" : "s")}");
        if (job.Status is JobStatuses.Pending or JobStatuses.Unschedulable) Add(job.Status == JobStatuses.Pending ? "waiting because" : "rejected because", job.WaitReason);
        if (job.Nodes.Count > 0) Add(job.Status == JobStatuses.Running ? "runs on" : "last ran on", string.Join(", ", job.Nodes) + (job.GpuModel is null ? "" : $" ({job.GpuModel})"));
        foreach (var b in why.NodesBought)
        {
            var price = b.PricePerHour is { } pr ? $", ${pr.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}/h" : "";
            var ready = b.ReadyAt is null ? b.State ?? "" : $"{(b.ReadyExpected ? "ready ~" : "ready at ")}{CliOutput.Time(b.ReadyAt)} UTC";
            Add("node bought for it", $"{b.NodeId} ({b.InstanceType}, {b.Market}, zone {b.Zone}{price}) at {CliOutput.Time(b.At)} UTC, {ready}: {b.Reason}");
        }
        if (why.LabQuota is { } q)
            Add("lab quota", $"{CliOutput.Num(q.UsedGpus)}/{(q.MaxGpus is { } m ? CliOutput.Num(m) : "unlimited")} GPUs in use, {q.Queued}/{(q.MaxQueued is { } mq ? mq.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unlimited")} jobs queued");
        AnsiConsole.Write(grid);
        if (why.Timeline.Count == 0) return;
        Console.WriteLine();
        var t = CliOutput.Table("TIME (UTC)", "DECISION", "NODE", "OFFER", "MARKET", "ZONE", "WHY");
        foreach (var s in why.Timeline)
            CliOutput.Row(t, CliOutput.Time(s.At), s.Kind, s.NodeId, s.Offer, s.Market, s.Zone, s.Message);
        CliOutput.Write(t);
    }
}
