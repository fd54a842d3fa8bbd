using System.CommandLine;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum anomaly</c>.</summary>
internal static class AnomalyCommand
{
    public static Command Create()
    {
        var cmd = new Command("anomaly", "(not built yet)");
        cmd.SetAction(_ => { Console.Error.WriteLine("not built yet"); return ExitCodes.Failure; });
        return cmd;
    }
}
