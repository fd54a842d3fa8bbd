using System.CommandLine;
using Gureum.Cli;
using Gureum.Cli.Commands;

var root = new RootCommand("Gureum: an AI-operated cloud for AI research. Replays, plans and runs GPU jobs on spot and on-demand capacity.");
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(TraceCommand.Create());
root.Subcommands.Add(AnomalyCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
return await CliRunner.RunAsync(root, args);
