using System.CommandLine;
using Gureum.Contracts.Specs;
using Gureum.Server;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum serve</c>: the control-plane server (REST API, auth, metrics, the control loop).
/// Runs until SIGINT/SIGTERM. Exit codes: <see cref="ExitCodes"/> (2 for bad options or a database
/// from a newer Gureum).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var d = new ServerOptions();
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on (';'-separated).", DefaultValueFactory = _ => d.Urls };
        var data = new Option<string>("--data") { Description = "Data directory (database, job logs).", DefaultValueFactory = _ => d.DataDir };
        var db = new Option<string?>("--db") { Description = "Database: sqlite:PATH (default: DATA/gureum.db) or postgres://user:pass@host:port/db." };
        var backend = new Option<string>("--backend") { Description = "Where jobs run: local (this machine) or sim (simulated cloud in live time).", DefaultValueFactory = _ => d.Backend };
        var policy = new Option<string?>("--policy") { Description = "Autoscaling policy: static, reactive, spot-fallback (default: static for local, reactive for sim)." };
        var tick = new Option<string>("--tick") { Description = "Longest time between two decisions, e.g. 1s, 0.5s (events wake the loop at once).", DefaultValueFactory = _ => "1s" };
        var localPrice = new Option<decimal>("--local-price") { Description = "Accounting price of the local machine in USD per hour (local backend), so cost reports and lab budgets apply; default 0." };
        var cmd = new Command("serve", "Run the Gureum server: REST API on --urls and the control loop.");
        foreach (var o in new Option[] { urls, data, db, backend, policy, tick, localPrice }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new ServerOptions
            {
                Urls = parse.GetValue(urls)!,
                DataDir = Path.GetFullPath(parse.GetValue(data)!),
                Db = parse.GetValue(db),
                Backend = parse.GetValue(backend)!.ToLowerInvariant(),
                Policy = parse.GetValue(policy)?.ToLowerInvariant(),
                Tick = ParseTick(parse.GetValue(tick)!),
                LocalPricePerHour = parse.GetValue(localPrice),
            };
            var errors = options.Validate();
            if (errors.Count > 0) throw new CliException(string.Join(Environment.NewLine, errors));
            try
            {
                await GureumServer.RunAsync(options, Console.Out, ct);
            }
            catch (ServerStartException e)
            {
                throw new CliException(e.Message, e.Fix);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static TimeSpan ParseTick(string text) =>
        JobSpecYaml.ParseDuration(text) is { } t && t > TimeSpan.Zero
            ? t
            : throw new CliException($"--tick '{text}' is not a duration.", "Give a positive duration such as 0.5s, 2s or 1m, e.g. --tick 1s.");
}
