using System.CommandLine;
using Gureum.Cli.Remote;
using Gureum.Contracts.Api;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum labs | users | quota</c>: tenancy. <c>labs create|set</c> (admin) and <c>users create</c>
/// (admin, or a lab lead for their lab) change it; the new user's token is printed once.
/// </summary>
internal static class TenancyCommands
{
    public static IEnumerable<Command> Create() => [CreateLabs(), CreateUsers(), CreateQuota()];

    private static Command CreateLabs()
    {
        var json = CliOutput.JsonOption();
        var cmd = new Command("labs", "List labs with their quotas and budgets; create or change them (admin).") { json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var labs = await client.LabsAsync(ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(labs);
                return ExitCodes.Ok;
            }
            var t = CliOutput.Table("LAB", "MAX GPUS", "MAX QUEUED", "MONTHLY BUDGET");
            foreach (var l in labs) CliOutput.Row(t, l.Name, CliOutput.Num(l.MaxConcurrentGpus), l.MaxQueuedJobs?.ToString(System.Globalization.CultureInfo.InvariantCulture), CliOutput.Usd(l.MonthlyBudgetUsd));
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });
        cmd.Subcommands.Add(CreateLabWrite("create", "Create a lab (admin)."));
        cmd.Subcommands.Add(CreateLabWrite("set", "Change a lab's quotas and budget (admin); options left out are cleared."));
        return cmd;
    }

    private static Command CreateLabWrite(string verb, string description)
    {
        var name = new Argument<string>("NAME") { Description = "Lab name." };
        var gpus = new Option<double?>("--max-gpus") { Description = "Most GPUs its jobs may hold at once (none: no limit)." };
        var queued = new Option<int?>("--max-queued") { Description = "Most jobs it may have waiting (none: no limit)." };
        var budget = new Option<decimal?>("--budget") { Description = "Monthly budget in USD (none: no budget)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command(verb, description) { name, gpus, queued, budget, json };
        cmd.SetAction(async (p, ct) =>
        {
            if (p.GetValue(gpus) is < 0) throw new CliException("--max-gpus must not be negative", "e.g. --max-gpus 16");
            if (p.GetValue(queued) is < 0) throw new CliException("--max-queued must not be negative", "e.g. --max-queued 100");
            if (p.GetValue(budget) is < 0) throw new CliException("--budget must not be negative", "e.g. --budget 5000");
            var lab = new LabDto(p.GetValue(name)!, p.GetValue(gpus), p.GetValue(queued), p.GetValue(budget));
            using var client = CliConfigStore.CreateClient();
            var saved = verb == "create" ? await client.CreateLabAsync(lab, ct) : await client.UpdateLabAsync(lab, ct);
            if (p.GetValue(json)) CliOutput.Json(saved);
            else Console.WriteLine($"Lab {saved.Name}: max GPUs {CliOutput.Num(saved.MaxConcurrentGpus)}, max queued {saved.MaxQueuedJobs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, monthly budget {CliOutput.Usd(saved.MonthlyBudgetUsd)}.");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateUsers()
    {
        var json = CliOutput.JsonOption();
        var cmd = new Command("users", "List the users you may see; create one with users create.") { json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var users = await client.UsersAsync(ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(users);
                return ExitCodes.Ok;
            }
            var t = CliOutput.Table("USER", "LAB", "ROLE");
            foreach (var u in users) CliOutput.Row(t, u.Name, u.Lab, u.Role);
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("NAME") { Description = "New user's name." };
        var lab = new Option<string>("--lab") { Description = "Their lab.", Required = true };
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", Roles.All)}.", DefaultValueFactory = _ => Roles.Researcher };
        var cjson = CliOutput.JsonOption();
        var create = new Command("create", "Create a user and print their token once (admin, or a lab lead for their own lab).") { name, lab, role, cjson };
        create.SetAction(async (p, ct) =>
        {
            var r = Roles.All.FirstOrDefault(x => string.Equals(x, p.GetValue(role), StringComparison.OrdinalIgnoreCase))
                    ?? throw new CliException($"--role \"{p.GetValue(role)}\" is not a role", $"use one of {string.Join(", ", Roles.All)}");
            using var client = CliConfigStore.CreateClient();
            var created = await client.CreateUserAsync(new CreateUserRequest(p.GetValue(name)!, p.GetValue(lab)!, r), ct);
            if (p.GetValue(cjson)) CliOutput.Json(created);
            else
            {
                Console.WriteLine($"Created {created.User.Name} (lab {created.User.Lab}, {created.User.Role}). Their token, shown only now:");
                Console.WriteLine(created.Token);
                Console.WriteLine($"They log in with: gureum login --server {client.Server.AbsoluteUri.TrimEnd('/')} --token {created.Token}");
            }
            return ExitCodes.Ok;
        });
        cmd.Subcommands.Add(create);
        return cmd;
    }

    private static Command CreateQuota()
    {
        var json = CliOutput.JsonOption();
        var cmd = new Command("quota", "Show each lab's quota and what it uses now (the labs you may see).") { json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var quotas = await client.QuotasAsync(ct);
            if (p.GetValue(json))
            {
                CliOutput.Json(quotas);
                return ExitCodes.Ok;
            }
            var t = CliOutput.Table("LAB", "GPUS USED", "MAX GPUS", "QUEUED", "MAX QUEUED");
            foreach (var q in quotas)
                CliOutput.Row(t, q.Lab, CliOutput.Num(q.UsedGpus), q.MaxGpus is null ? "no limit" : CliOutput.Num(q.MaxGpus),
                    q.Queued.ToString(System.Globalization.CultureInfo.InvariantCulture), q.MaxQueued?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no limit");
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
