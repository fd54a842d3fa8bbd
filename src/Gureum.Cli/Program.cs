using System.CommandLine;
using Gureum.Cli;
using Gureum.Cli.Commands;

var root = new RootCommand("Gureum: an AI-operated cloud for AI research. Replays, plans and runs GPU jobs on spot and on-demand capacity.");
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(TraceCommand.Create());
root.Subcommands.Add(AnomalyCommand.Create());
foreach (var c in LoginCommand.Create()) root.Subcommands.Add(c);
root.Subcommands.Add(SubmitCommand.Create());
root.Subcommands.Add(WhyCommand.Create());
foreach (var c in JobCommands.Create()) root.Subcommands.Add(c);
foreach (var c in ClusterCommands.Create()) root.Subcommands.Add(c);
foreach (var c in TenancyCommands.Create()) root.Subcommands.Add(c);
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(CostCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
return await CliRunner.RunAsync(root, args);
