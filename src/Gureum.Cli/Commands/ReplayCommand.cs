using System.CommandLine;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum replay</c>.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var cmd = new Command("replay", "(not built yet)");
        cmd.SetAction(_ => { Console.Error.WriteLine("not built yet"); return ExitCodes.Failure; });
        return cmd;
    }
}
