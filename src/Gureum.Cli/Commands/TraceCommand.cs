using System.CommandLine;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum trace</c>.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var cmd = new Command("trace", "(not built yet)");
        cmd.SetAction(_ => { Console.Error.WriteLine("not built yet"); return ExitCodes.Failure; });
        return cmd;
    }
}
