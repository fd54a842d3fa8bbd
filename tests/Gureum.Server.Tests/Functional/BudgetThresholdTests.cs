using System.Net;
using System.Net.Http.Json;
using Gureum.Contracts.Api;
using Gureum.Server.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Per-lab budget alert thresholds through the API on a real <c>gureum serve</c> (local backend at
/// 1 USD/s): <c>PUT /labs/{lab}/budget</c> validates <c>alertThresholds</c> (ProblemDetails with the
/// index of each bad value, nothing stored), stores them sorted, the leader's budget check alerts at
/// the lab's own thresholds (not 50/80/100), <c>PUT /labs/{lab}</c> keeps them, and they survive a
/// restart. Run on SQLite and on PostgreSQL.
/// </summary>
public abstract class BudgetThresholdTestsBase
{
    /// <summary>The <c>--db</c> to start servers on; null for the embedded SQLite default.</summary>
    protected abstract Task<string?> DatabaseAsync();

    private static Task<ServerProcess> StartAsync(string dir, string? db, int port) =>
        ServerProcess.StartAsync(dir, db: db, port: port, extraArgs: ["--local-price", "3600", "--tick", "0.2s"]);

    protected async Task RunAlertThresholdsAsync()
    {
        using var dir = new ApiClient.TempDir();
        var db = await DatabaseAsync();
        var port = ServerProcess.FreePort();
        var server = await StartAsync(dir.Path, db, port);
        string token;
        decimal budget;
        try
        {
            token = (await server.AdminToken)!;
            var admin = server.Client(token);
            await ApiClient.CreateLabAsync(admin, new LabDto("nlp"));
            var alice = server.Client(await ApiClient.CreateUserAsync(admin, "alice", "nlp", Roles.Researcher));
            var spend = await ApiClient.SubmitOkAsync(alice, "name: spend\nresources:\n  gpus: 0\n  cpus: 1\n  memory: 64Mi\nrun: sleep 1\n");
            await ApiClient.WaitForAsync(alice, spend.Id, j => j.Status == JobStatuses.Completed, TimeSpan.FromSeconds(60));
            var before = await ApiClient.GetAsync<BudgetDto>(alice, "api/v1/labs/nlp/budget");
            Assert.Equal([50m, 80m, 100m], before.AlertThresholds);
            Assert.True(before.SpentUsd > 0.1m, $"spent {before.SpentUsd}");

            // Bad thresholds: 400 naming each bad value by index, with how to fix it; nothing stored.
            using (var bad = await admin.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(10m, [0m, 50m, 50m, 2000m]), GureumJson.Options))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                var problem = await bad.Content.ReadAsStringAsync();
                foreach (var field in new[] { "alertThresholds[0]", "alertThresholds[2]", "alertThresholds[3]" }) Assert.Contains($"\"{field}\"", problem, StringComparison.Ordinal);
                Assert.DoesNotContain("alertThresholds[1]", problem, StringComparison.Ordinal);
                Assert.Contains("To fix: give a percentage of the monthly budget from 1 to 1000", problem, StringComparison.Ordinal);
            }
            using (var empty = await admin.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(10m, []), GureumJson.Options))
            {
                Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
                Assert.Contains("\"alertThresholds\"", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            var unchanged = await ApiClient.GetAsync<BudgetDto>(alice, "api/v1/labs/nlp/budget");
            Assert.Null(unchanged.MonthlyUsd);
            Assert.Equal([50m, 80m, 100m], unchanged.AlertThresholds);

            // About 60 % of the budget spent, thresholds 90 and 25 given out of order: stored sorted; only 25 % fires
            // (the default 50 % would have fired too).
            budget = Math.Round(before.SpentUsd / 0.6m, 2);
            using (var put = await admin.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(budget, [90m, 25m]), GureumJson.Options))
            {
                var body = await put.Content.ReadAsStringAsync();
                Assert.True(put.IsSuccessStatusCode, body);
                Assert.Equal([25m, 90m], System.Text.Json.JsonSerializer.Deserialize<BudgetDto>(body, GureumJson.Options)!.AlertThresholds);
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            List<EventDto> alerts;
            do
            {
                await Task.Delay(200);
                alerts = (await ApiClient.GetAsync<PageDto<EventDto>>(admin, "api/v1/events?limit=1000")).Items.Where(e => e.Kind == "BudgetAlert").ToList();
            } while (alerts.Count < 1 && DateTime.UtcNow < deadline);
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // > one budget check (2 s): nothing more fires
            alerts = (await ApiClient.GetAsync<PageDto<EventDto>>(admin, "api/v1/events?limit=1000")).Items.Where(e => e.Kind == "BudgetAlert").ToList();
            var alert = Assert.Single(alerts);
            Assert.Contains("nlp|", alert.Message, StringComparison.Ordinal);
            Assert.Contains("|0.25:", alert.Message, StringComparison.Ordinal);
            Assert.Equal(["25"], (await ApiClient.GetAsync<BudgetDto>(alice, "api/v1/labs/nlp/budget")).AlertsFired);

            // Changing the lab's quotas (PUT /labs/{lab}, 'gureum labs set') keeps its thresholds; a budget PUT
            // without alertThresholds keeps them too.
            using (var lab = await admin.PutAsJsonAsync("api/v1/labs/nlp", new LabDto("nlp", MaxQueuedJobs: 100, MonthlyBudgetUsd: budget), GureumJson.Options))
                Assert.True(lab.IsSuccessStatusCode, await lab.Content.ReadAsStringAsync());
            using (var put = await admin.PutAsJsonAsync("api/v1/labs/nlp/budget", new BudgetRequest(budget), GureumJson.Options))
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            Assert.Equal([25m, 90m], (await ApiClient.GetAsync<BudgetDto>(alice, "api/v1/labs/nlp/budget")).AlertThresholds);
        }
        finally
        {
            await server.DisposeAsync();
        }

        // Durable: after a restart the thresholds and the fired alert are still there, and 25 % does not fire again.
        await using var again = await StartAsync(dir.Path, db, port);
        var admin2 = again.Client(token);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var after = await ApiClient.GetAsync<BudgetDto>(admin2, "api/v1/labs/nlp/budget");
        Assert.Equal(budget, after.MonthlyUsd);
        Assert.Equal([25m, 90m], after.AlertThresholds);
        Assert.Equal(["25"], after.AlertsFired);
        Assert.Single((await ApiClient.GetAsync<PageDto<EventDto>>(admin2, "api/v1/events?limit=1000")).Items, e => e.Kind == "BudgetAlert");
    }
}

/// <summary><see cref="BudgetThresholdTestsBase"/> on the embedded SQLite database.</summary>
[Collection(ServerCollection.Name)]
public sealed class BudgetThresholdSqliteTests : BudgetThresholdTestsBase
{
    protected override Task<string?> DatabaseAsync() => Task.FromResult<string?>(null);

    [Fact]
    public Task AlertThresholds_PutValidatedStoredAndUsed_KeptAcrossLabUpdateAndRestart() => RunAlertThresholdsAsync();
}

/// <summary><see cref="BudgetThresholdTestsBase"/> on PostgreSQL started by the fixture.</summary>
[Collection(ServerCollection.Name)]
public sealed class BudgetThresholdPostgresTests(PostgresFixture pg) : BudgetThresholdTestsBase, IClassFixture<PostgresFixture>
{
    protected override async Task<string?> DatabaseAsync() => await pg.CreateDatabaseAsync();

    [RequiresPostgresFact]
    public Task AlertThresholds_PutValidatedStoredAndUsed_KeptAcrossLabUpdateAndRestart() => RunAlertThresholdsAsync();
}
