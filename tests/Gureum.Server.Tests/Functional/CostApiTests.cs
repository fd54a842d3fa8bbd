using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gureum.Contracts.Api;
using Gureum.Server.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Cost and budgets end to end on a real <c>gureum serve</c> (local backend charged at
/// <c>--local-price</c> 3600 USD/h = 1 USD/s, so a one-second job costs real money): jobs run, spend
/// accrues, /api/v1/cost rows add up to the total and are scoped by lab, a budget set just above the
/// spend fires the 50 % and 80 % alerts (not 100 %) as events, a job predicted over budget is held
/// with the budget reason and an admin override admits it.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CostApiTests : IAsyncLifetime
{
    private readonly ApiClient.TempDir _dir = new();
    private ServerProcess _server = null!;
    private HttpClient _admin = null!, _alice = null!, _nlpLead = null!, _victor = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_dir.Path, extraArgs: ["--local-price", "3600", "--tick", "0.2s"]);
        var token = await _server.AdminToken;
        Assert.False(string.IsNullOrEmpty(token), $"first start printed no admin token:\n{_server.Output}");
        _admin = _server.Client(token);
        await ApiClient.CreateLabAsync(_admin, new LabDto("nlp"));
        await ApiClient.CreateLabAsync(_admin, new LabDto("vision"));
        _nlpLead = _server.Client(await ApiClient.CreateUserAsync(_admin, "nlp-lead", "nlp", Roles.LabLead));
        _alice = _server.Client(await ApiClient.CreateUserAsync(_admin, "alice", "nlp", Roles.Researcher));
        _victor = _server.Client(await ApiClient.CreateUserAsync(_admin, "victor", "vision", Roles.Researcher));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private static string Spec(string name, string run, string? extra = null, string? lab = null) =>
        $"name: {name}\n" + (lab is null ? "" : $"lab: {lab}\n") + "resources:\n  gpus: 0\n  cpus: 1\n  memory: 64Mi\n" + $"run: {run}\n" + (extra ?? "");

    [Fact]
    public async Task CostAndBudget_JobsSpend_AlertsFireAndOverBudgetJobIsHeldUnlessAdminOverrides()
    {
        // Spend: one job of alice's (nlp) and one of victor's (vision), each about a second.
        var a = await ApiClient.SubmitOkAsync(_alice, Spec("a1", "sleep 1"));
        var v = await ApiClient.SubmitOkAsync(_victor, Spec("v1", "sleep 1"));
        await ApiClient.WaitForAsync(_alice, a.Id, j => j.Status == "Completed", TimeSpan.FromSeconds(60));
        await ApiClient.WaitForAsync(_victor, v.Id, j => j.Status == "Completed", TimeSpan.FromSeconds(60));

        // Admin: every lab, the idle row, rows in cents adding up to the total.
        var all = await ApiClient.GetAsync<CostReportDto>(_admin, "api/v1/cost?by=lab");
        Assert.False(all.Scoped);
        Assert.Contains(all.Rows, r => r.Key == "nlp" && r.ExactUsd > 0.1m && r.GpuHours == 0);
        Assert.Contains(all.Rows, r => r.Key == "vision" && r.ExactUsd > 0.1m);
        Assert.Contains(all.Rows, r => r.Key == "(idle)" && r.ExactUsd > 0);
        Assert.Equal(all.TotalUsd, all.Rows.Sum(r => r.CostUsd));
        Assert.Equal(Math.Round(all.Rows.Sum(r => r.ExactUsd), 2, MidpointRounding.AwayFromZero), all.TotalUsd);
        // Admin total reconciles with the billed node cost over an explicit window (the local node is billed per second).
        var until = DateTimeOffset.UtcNow;
        var since = until.AddHours(-1);
        var window = await ApiClient.GetAsync<CostReportDto>(_admin, $"api/v1/cost?by=market&since={Uri.EscapeDataString(since.ToString("O"))}&until={Uri.EscapeDataString(until.ToString("O"))}");
        var nodes = await ApiClient.GetAsync<NodeDto[]>(_admin, "api/v1/nodes"); // the local machine: one fixed node, never terminated
        // Billing is per started second (Meter.FromLiveNode).
        var billed = nodes.Sum(n => (n.PricePerHour ?? 0) * (decimal)Math.Ceiling((until - (n.RequestedAt > since ? n.RequestedAt : since)).TotalSeconds) / 3600);
        Assert.True(billed > 1, $"billed {billed}");
        Assert.InRange(window.Rows.Sum(r => r.ExactUsd), billed - 0.000001m, billed + 0.000001m);
        // Spend anomalies: both labs' hourly series are scored (a few minutes of history: nothing to flag yet); a
        // researcher sees only their lab's series.
        var anomalies = await ApiClient.GetAsync<CostAnomaliesDto>(_admin, "api/v1/cost/anomalies?by=lab");
        Assert.Equal(["nlp", "vision"], anomalies.Series);
        Assert.InRange(anomalies.Hours, 1, 2); // from the local node's start (this test's server), not 14 days of made-up zeros
        Assert.Empty(anomalies.Anomalies);
        Assert.Equal(["vision"], (await ApiClient.GetAsync<CostAnomaliesDto>(_victor, "api/v1/cost/anomalies")).Series);
        // Usage and node metrics through the same route: CPU-hours per lab (the jobs held 1 vCPU for about a
        // second each), node-hours per pool (the local machine, about one node all along).
        var cpu = await ApiClient.GetAsync<CostAnomaliesDto>(_admin, "api/v1/cost/anomalies?metric=cpu-hours");
        Assert.Equal(("cpu-hours", "vCPU-hours", "lab"), (cpu.Metric, cpu.Unit, cpu.By));
        Assert.Equal(["nlp", "vision"], cpu.Series);
        var pools = await ApiClient.GetAsync<CostAnomaliesDto>(_admin, "api/v1/cost/anomalies?metric=node-hours");
        Assert.Equal(("node-hours", "pool"), (pools.Metric, pools.By));
        Assert.EndsWith("/on-demand", Assert.Single(pools.Series), StringComparison.Ordinal);
        var byUser = await ApiClient.GetAsync<CostReportDto>(_admin, "api/v1/cost?by=user");
        Assert.Contains(byUser.Rows, r => r.Key == "nlp/alice");
        Assert.Equal(byUser.Rows.Sum(r => r.CostUsd), byUser.TotalUsd);

        // Another lab's token does not see nlp's rows, nor the idle row; alice sees only nlp.
        var victorView = await ApiClient.GetAsync<CostReportDto>(_victor, "api/v1/cost?by=lab");
        Assert.True(victorView.Scoped);
        Assert.Equal(["vision"], victorView.Rows.Select(r => r.Key).ToArray());
        var aliceView = await ApiClient.GetAsync<CostReportDto>(_alice, "api/v1/cost?by=project");
        Assert.All(aliceView.Rows, r => Assert.StartsWith("nlp/", r.Key, StringComparison.Ordinal));
        Assert.Equal(aliceView.TotalUsd, aliceView.Rows.Sum(r => r.CostUsd));

        // Budget just above the spend: ~90 % used, so 50 % and 80 % fire, 100 % does not.
        var before = await ApiClient.GetAsync<BudgetDto>(_nlpLead, "api/v1/labs/nlp/budget");
        Assert.Null(before.MonthlyUsd);
        Assert.True(before.SpentUsd > 0.1m, $"spent {before.SpentUsd}");
        var budget = Math.Round(before.SpentUsd / 0.9m, 2);
        using (var forbidden = await _nlpLead.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(budget), GureumJson.Options))
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        using (var put = await _admin.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(budget), GureumJson.Options))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<EventDto> alerts;
        do
        {
            await Task.Delay(200);
            var events = await ApiClient.GetAsync<PageDto<EventDto>>(_admin, "api/v1/events?limit=1000");
            alerts = events.Items.Where(e => e.Kind == "BudgetAlert").ToList();
        } while (alerts.Count < 2 && DateTime.UtcNow < deadline);
        Assert.Equal(2, alerts.Count);
        Assert.Contains(alerts, e => e.Message.Contains("nlp|", StringComparison.Ordinal) && e.Message.Contains("|0.5:", StringComparison.Ordinal));
        Assert.Contains(alerts, e => e.Message.Contains("|0.8:", StringComparison.Ordinal));
        var after = await ApiClient.GetAsync<BudgetDto>(_alice, "api/v1/labs/nlp/budget");
        Assert.Equal(budget, after.MonthlyUsd);
        Assert.Equal(["50", "80"], after.AlertsFired);
        Assert.Contains("Budget alert", _server.Output, StringComparison.Ordinal);

        // A job predicted at 1 h × 1 USD/s × its share is over what is left: accepted but held with the reason
        // (BudgetHoldTests follows a held job to its release).
        var big = Spec("big", "sleep 1", "time_limit: 1h\n");
        var held = await ApiClient.SubmitOkAsync(_alice, big);
        Assert.Equal(JobStatuses.Pending, held.Status);
        Assert.StartsWith("held: budget — lab nlp would reach $", held.Hold, StringComparison.Ordinal);
        using (var notAdmin = await _alice.PostAsync("api/v1/jobs?override=budget", new StringContent(big, Encoding.UTF8, "application/yaml")))
            Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        using (var overridden = await _admin.PostAsync("api/v1/jobs?override=budget", new StringContent(Spec("big", "sleep 1", "time_limit: 1h\n", lab: "nlp"), Encoding.UTF8, "application/yaml")))
            Assert.Equal(HttpStatusCode.Created, overridden.StatusCode);
        // The other lab has no budget: the same job is admitted there, not held.
        Assert.Null((await ApiClient.SubmitOkAsync(_victor, big)).Hold);
    }

    [Fact]
    public async Task CostApi_NoTokenOrBadInput_401And400()
    {
        using var anon = _server.Client();
        foreach (var path in new[] { "api/v1/cost", "api/v1/labs/nlp/budget" })
        {
            using var r = await anon.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        using var bad = await _admin.GetAsync("api/v1/cost?by=color");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("\"by\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var badBy = await _admin.GetAsync("api/v1/cost/anomalies?by=color&threshold=2");
        Assert.Equal(HttpStatusCode.BadRequest, badBy.StatusCode);
        var problem = await badBy.Content.ReadAsStringAsync();
        Assert.Contains("\"by\"", problem, StringComparison.Ordinal);
        Assert.Contains("\"threshold\"", problem, StringComparison.Ordinal);
        using (var r = await anon.GetAsync("api/v1/cost/anomalies")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using var badMetric = await _admin.GetAsync("api/v1/cost/anomalies?metric=color");
        Assert.Equal(HttpStatusCode.BadRequest, badMetric.StatusCode);
        Assert.Contains("\"metric\"", await badMetric.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var poolByLab = await _admin.GetAsync("api/v1/cost/anomalies?metric=idle-gpu-hours&by=lab");
        Assert.Equal(HttpStatusCode.BadRequest, poolByLab.StatusCode);
        Assert.Contains("per pool", await poolByLab.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Pools are the operator's: a researcher gets 403 with how to fix it.
        using var poolsForResearcher = await _victor.GetAsync("api/v1/cost/anomalies?metric=idle-gpu-hours");
        Assert.Equal(HttpStatusCode.Forbidden, poolsForResearcher.StatusCode);
        Assert.Contains("To fix", await poolsForResearcher.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var other = await _victor.GetAsync("api/v1/labs/nlp/budget");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }
}
