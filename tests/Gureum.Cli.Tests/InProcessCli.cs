using System.CommandLine;
using Gureum.Cli.Commands;

namespace Gureum.Cli.Tests;

/// <summary>Runs the <c>trace</c>, <c>replay</c> and <c>eval</c> commands in process, as the
/// <c>gureum</c> root does, but lets exceptions reach the test (<c>CliRunner</c> turns them into
/// messages and exit codes).</summary>
internal static class InProcessCli
{
    public static int Run(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
