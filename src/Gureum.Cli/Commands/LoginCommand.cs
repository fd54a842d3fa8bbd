using System.CommandLine;
using Gureum.Cli.Remote;
using Gureum.Contracts.Client;

namespace Gureum.Cli.Commands;

/// <summary>
/// <c>gureum login --server URL --token T</c> checks the token against the server (<c>whoami</c>)
/// and saves both in the config file (mode 0600); <c>gureum whoami</c> shows who the CLI acts as.
/// </summary>
internal static class LoginCommand
{
    public static IEnumerable<Command> Create() => [CreateLogin(), CreateWhoAmI()];

    private static Command CreateLogin()
    {
        var server = new Option<string>("--server") { Description = $"Server URL (default: GUREUM_SERVER, the saved one, or {CliConfigStore.DefaultServer})." };
        var token = new Option<string>("--token") { Description = "API token; '-' reads it from standard input (keeps it out of shell history). Default: GUREUM_TOKEN." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("login", "Check a token against a server and save both for the other commands.") { server, token, json };
        cmd.SetAction(async (p, ct) =>
        {
            var saved = CliConfigStore.Load();
            var url = p.GetValue(server) is { Length: > 0 } s ? CliConfigStore.ParseServer(s, "--server") : CliConfigStore.ResolveServer(saved);
            var t = p.GetValue(token);
            if (t == "-") t = (await Console.In.ReadLineAsync(ct))?.Trim();
            if (string.IsNullOrEmpty(t)) t = Environment.GetEnvironmentVariable("GUREUM_TOKEN");
            if (string.IsNullOrWhiteSpace(t))
                throw new CliException("no token given", "pass --token TOKEN (or --token - to read it from standard input); the admin token is printed when gureum serve starts the first time");
            using var client = new GureumClient(url, t.Trim());
            var me = await client.WhoAmIAsync(ct);
            var path = CliConfigStore.Save(saved with { Server = url.AbsoluteUri.TrimEnd('/'), Token = t.Trim() });
            if (p.GetValue(json)) CliOutput.Json(me);
            else Console.WriteLine($"Logged in to {url.AbsoluteUri.TrimEnd('/')} as {me.Name} (lab {me.Lab}, {me.Role}). Saved to {path}.");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateWhoAmI()
    {
        var json = CliOutput.JsonOption();
        var cmd = new Command("whoami", "Show the user, lab and role the CLI acts as.") { json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var me = await client.WhoAmIAsync(ct);
            if (p.GetValue(json)) CliOutput.Json(me);
            else Console.WriteLine($"{me.Name} (lab {me.Lab}, {me.Role}) at {client.Server.AbsoluteUri.TrimEnd('/')}");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
