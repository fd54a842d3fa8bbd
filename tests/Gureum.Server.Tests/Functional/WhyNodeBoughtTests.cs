using System.Globalization;
using System.Text.Json;
using Gureum.Contracts.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Why a node was bought, through a real <c>gureum serve</c> on the simulated cloud (reactive
/// policy, catalog boot delays in live time, a real loopback port): a GPU job fits no node, the
/// loop buys one for it, and <c>GET /api/v1/jobs/{id}/why</c> names that node, its offer, market,
/// zone and price, when it is expected ready, and the policy's reason for that market and zone.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class WhyNodeBoughtTests
{
    [Fact]
    public async Task Why_JobWaitingForABoughtNode_NamesTheNodeItsMarketZoneAndReason()
    {
        using var dir = new ApiClient.TempDir();
        await using var server = await ServerProcess.StartAsync(dir.Path, backend: "sim");
        var admin = server.Client((await server.AdminToken)!);
        var job = await ApiClient.SubmitOkAsync(admin, "name: trainer\nresources: {gpus: \"A100:1\", cpus: 4, memory: 16Gi}\nrun: train\nduration: 1h\n");

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JobWhyDto why;
        while (true)
        {
            why = await ApiClient.GetAsync<JobWhyDto>(admin, $"api/v1/jobs/{job.Id}/why");
            if (why.NodesBought.Count > 0 && why.Job.WaitReason is not null) break;
            Assert.True(DateTime.UtcNow < until, $"no node bought for {job.Id} within 60 s; last: {JsonSerializer.Serialize(why, GureumJson.Options)}");
            await Task.Delay(100);
        }

        var node = Assert.Single(await ApiClient.GetAsync<NodeDto[]>(admin, "api/v1/nodes"));
        var bought = Assert.Single(why.NodesBought);
        Assert.Equal(node.Id, bought.NodeId);
        Assert.Equal(node.Offer, bought.Offer);
        Assert.Equal(node.InstanceType, bought.InstanceType);
        Assert.Equal("OnDemand", bought.Market);
        Assert.Equal(node.Zone, bought.Zone);
        Assert.Equal("A100", bought.GpuModel);
        Assert.True(bought.PricePerHour > 0);
        Assert.Equal(node.RequestedAt, bought.At);
        var price = bought.PricePerHour!.Value.ToString("0.####", CultureInfo.InvariantCulture);
        Assert.Equal($"bought for {job.Id}: the cheapest on-demand offer it fits in any zone it may use ({node.Zone}, ${price}/h)", bought.Reason);

        // Catalog boot delays are minutes of live time: the node still boots, the job waits for it, and
        // the summary says which node, what, when and why.
        Assert.Contains(node.State, new[] { "Requested", "Booting" });
        Assert.Equal(JobStatuses.Pending, why.Job.Status);
        Assert.True(bought.ReadyExpected);
        Assert.True(bought.ReadyAt > bought.At, $"expected ready {bought.ReadyAt} after the request {bought.At}");
        Assert.Contains($"node {node.Id} ({node.InstanceType}, OnDemand, zone {node.Zone}, ${price}/h) was bought for it at ", why.Summary);
        Assert.Contains(bought.Reason, why.Summary);
        var step = Assert.Single(why.Timeline, s => s.Kind == "NodeRequested");
        Assert.Equal(node.Id, step.NodeId);
        Assert.Equal(node.Zone, step.Zone);
        Assert.Equal($"{node.Offer} OnDemand: {bought.Reason}", step.Message);
    }
}
