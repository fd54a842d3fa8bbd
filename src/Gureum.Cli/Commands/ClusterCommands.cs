using System.CommandLine;
using Gureum.Cli.Remote;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum nodes | offers</c>: the capacity the server holds and what it may buy.</summary>
internal static class ClusterCommands
{
    public static IEnumerable<Command> Create() => [CreateNodes(), CreateOffers()];

    private static Command CreateNodes()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Terminated nodes too." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("nodes", "List the nodes: state, market, GPUs free of total, CPUs, memory, jobs.") { all, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var nodes = (await client.NodesAsync(ct)).Where(n => p.GetValue(all) || n.State != "Terminated").ToList();
            if (p.GetValue(json))
            {
                CliOutput.Json(nodes);
                return ExitCodes.Ok;
            }
            if (nodes.Count == 0)
            {
                Console.WriteLine("No nodes.");
                return ExitCodes.Ok;
            }
            var t = CliOutput.Table("ID", "STATE", "TYPE", "ZONE", "MARKET", "GPU", "GPUS FREE", "CPUS FREE", "MEM FREE (GiB)", "JOBS", "$/H");
            foreach (var n in nodes)
                CliOutput.Row(t, n.Id, n.State, n.InstanceType, n.Zone, n.Market, n.GpuModel, $"{CliOutput.Num(n.FreeGpus)}/{n.Gpus}",
                    $"{CliOutput.Num(n.FreeCpus)}/{CliOutput.Num(n.Cpus)}", $"{CliOutput.Num(n.FreeMemoryGiB)}/{CliOutput.Num(n.MemoryGiB)}",
                    n.RunningJobs.ToString(System.Globalization.CultureInfo.InvariantCulture), CliOutput.Usd(n.PricePerHour));
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateOffers()
    {
        var gpu = new Option<string?>("--gpu") { Description = "Only offers with this GPU model (e.g. A100)." };
        var json = CliOutput.JsonOption();
        var cmd = new Command("offers", "List the node shapes the server may provision, with on-demand and spot prices.") { gpu, json };
        cmd.SetAction(async (p, ct) =>
        {
            using var client = CliConfigStore.CreateClient();
            var model = p.GetValue(gpu);
            var offers = (await client.OffersAsync(ct))
                .Where(o => model is null || string.Equals(o.GpuModel, Core.Domain.GpuModels.Canonical(model), StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (p.GetValue(json))
            {
                CliOutput.Json(offers);
                return ExitCodes.Ok;
            }
            if (offers.Count == 0)
            {
                Console.WriteLine(model is null ? "No offers." : $"No offers with {model} GPUs (gureum offers lists them all).");
                return ExitCodes.Ok;
            }
            var t = CliOutput.Table("CLOUD", "ZONE", "TYPE", "GPU", "GPUS", "VCPUS", "MEM (GiB)", "ON-DEMAND $/H", "SPOT $/H");
            foreach (var o in offers)
                CliOutput.Row(t, o.Cloud, o.Zone, o.InstanceType, o.GpuModel, o.GpuCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    CliOutput.Num(o.VCpus), CliOutput.Num(o.MemoryGiB), CliOutput.Usd(o.OnDemandPerHour), CliOutput.Usd(o.SpotPerHour));
            CliOutput.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
