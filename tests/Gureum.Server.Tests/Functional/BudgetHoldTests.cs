using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Gureum.Contracts.Api;
using Gureum.Server.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// Forecast-gated admission end to end on a real <c>gureum serve</c> (local backend charged at
/// <c>--local-price</c> 3600 USD/h = 1 USD/s, so seconds of running cost real money): budget alerts at
/// 50/80/100 % as events and via the API; a job predicted over budget is accepted but held with the
/// reason, never started by the control loop (also across a restart), released by an admin and not
/// by a researcher or lab lead; the gate counts the committed cost of jobs already running, and
/// raising the budget releases held jobs by itself. Run on SQLite and on PostgreSQL.
/// </summary>
public abstract partial class BudgetHoldTestsBase
{
    /// <summary>The <c>--db</c> to start servers on; null for the embedded SQLite default.</summary>
    protected abstract Task<string?> DatabaseAsync();

    private static string Spec(string name, string run, string? extra = null) =>
        $"name: {name}\nresources:\n  gpus: 0\n  cpus: 1\n  memory: 64Mi\nrun: {run}\n" + (extra ?? "");

    private const string OneHour = "time_limit: 1h\n";

    private static Task<ServerProcess> StartAsync(string dir, string? db, int port) =>
        ServerProcess.StartAsync(dir, db: db, port: port, extraArgs: ["--local-price", "3600", "--tick", "0.2s"]);

    [GeneratedRegex(@"\$([0-9]+\.[0-9]{2})")]
    private static partial Regex Dollars();

    /// <summary>The dollar figures of a hold reason in order: projected, budget, spent, committed, this job.</summary>
    private static decimal[] Figures(string reason) =>
        Dollars().Matches(reason).Select(m => decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    private static async Task<BudgetDto> PutBudgetAsync(HttpClient admin, string lab, decimal usd)
    {
        using var put = await admin.PutAsJsonAsync($"api/v1/labs/{lab}/budget", new BudgetRequest(usd), GureumJson.Options);
        var body = await put.Content.ReadAsStringAsync();
        Assert.True(put.IsSuccessStatusCode, body);
        return System.Text.Json.JsonSerializer.Deserialize<BudgetDto>(body, GureumJson.Options)!;
    }

    private static async Task<List<EventDto>> EventsAsync(HttpClient admin, string? kind = null, string? job = null)
    {
        var page = await ApiClient.GetAsync<PageDto<EventDto>>(admin, "api/v1/events?limit=1000" + (job is null ? "" : $"&job={job}"));
        return page.Items.Where(e => kind is null || e.Kind == kind).ToList();
    }

    protected async Task AlertsAndHold_OverBudgetJobHeldUntilAdminReleases_EvenAcrossRestart()
    {
        using var dir = new ApiClient.TempDir();
        var db = await DatabaseAsync();
        var port = ServerProcess.FreePort();
        var server = await StartAsync(dir.Path, db, port);
        string token, heldId;
        try
        {
            token = (await server.AdminToken)!;
            var admin = server.Client(token);
            await ApiClient.CreateLabAsync(admin, new LabDto("nlp"));
            var alice = server.Client(await ApiClient.CreateUserAsync(admin, "alice", "nlp", Roles.Researcher));
            var lead = server.Client(await ApiClient.CreateUserAsync(admin, "nlp-lead", "nlp", Roles.LabLead));

            // Spend first (no budget yet), then a budget below it: all three thresholds fire, once each.
            var spend = await ApiClient.SubmitOkAsync(alice, Spec("spend", "sleep 1"));
            await ApiClient.WaitForAsync(alice, spend.Id, j => j.Status == JobStatuses.Completed, TimeSpan.FromSeconds(60));
            var spent = (await ApiClient.GetAsync<BudgetDto>(alice, "api/v1/labs/nlp/budget")).SpentUsd;
            Assert.True(spent > 0.1m, $"spent {spent}");
            var budget = Math.Max(0.01m, Math.Round(spent * 0.9m, 2, MidpointRounding.ToZero));
            await PutBudgetAsync(admin, "nlp", budget);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            List<EventDto> alerts;
            do
            {
                await Task.Delay(200);
                alerts = await EventsAsync(admin, "BudgetAlert");
            } while (alerts.Count < 3 && DateTime.UtcNow < deadline);
            Assert.Equal(3, alerts.Count);
            foreach (var t in new[] { "|0.5:", "|0.8:", "|1:" }) Assert.Single(alerts, e => e.Message.Contains("nlp|", StringComparison.Ordinal) && e.Message.Contains(t, StringComparison.Ordinal));
            Assert.Equal(["50", "80", "100"], (await ApiClient.GetAsync<BudgetDto>(lead, "api/v1/labs/nlp/budget")).AlertsFired);
            Assert.Contains("Budget alert", server.Output, StringComparison.Ordinal);

            // Over budget: accepted (201), pending, held with the reason, visible in show and ls.
            var held = await ApiClient.SubmitOkAsync(alice, Spec("big", "echo ran", OneHour));
            heldId = held.Id;
            Assert.Equal(JobStatuses.Pending, held.Status);
            Assert.StartsWith("held: budget — lab nlp would reach $", held.Hold, StringComparison.Ordinal);
            Assert.Equal(held.Hold, held.WaitReason);
            var f = Figures(held.Hold!);
            Assert.Equal(budget, f[1]);
            Assert.True(f[0] > budget && f[4] > 0, held.Hold);
            var listed = await ApiClient.GetAsync<PageDto<JobDto>>(alice, "api/v1/jobs?status=Pending");
            Assert.Equal(held.Hold, Assert.Single(listed.Items, j => j.Id == heldId).Hold);
            Assert.Equal(held.Hold, Assert.Single(await EventsAsync(admin, "JobHeld", heldId)).Message);

            // The loop keeps running other work (a job it cannot price is not gated) but never starts the held one.
            var free = await ApiClient.SubmitOkAsync(alice, Spec("free", "true"));
            Assert.Null(free.Hold);
            await ApiClient.WaitForAsync(alice, free.Id, j => j.Status == JobStatuses.Completed, TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // > one budget check (2 s): re-evaluation keeps it held
            var still = await ApiClient.GetAsync<JobDto>(alice, $"api/v1/jobs/{heldId}");
            Assert.Equal((JobStatuses.Pending, 0, held.Hold), (still.Status, still.Attempts, still.Hold));

            // Only an admin releases.
            foreach (var who in new[] { alice, lead })
                using (var r = await who.PostAsync($"api/v1/jobs/{heldId}/release", null))
                {
                    Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
                    Assert.Contains("Only an admin releases", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
            using (var r = await admin.PostAsync($"api/v1/jobs/{free.Id}/release", null))
                Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            using (var r = await admin.PostAsync("api/v1/jobs/j-nope/release", null))
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }

        // The hold is durable: after a restart the job is still held and still not started.
        await using var again = await StartAsync(dir.Path, db, port);
        var admin2 = again.Client(token);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var afterRestart = await ApiClient.GetAsync<JobDto>(admin2, $"api/v1/jobs/{heldId}");
        Assert.Equal(JobStatuses.Pending, afterRestart.Status);
        Assert.StartsWith("held: budget", afterRestart.Hold, StringComparison.Ordinal);
        Assert.Equal(0, afterRestart.Attempts);

        using (var r = await admin2.PostAsync($"api/v1/jobs/{heldId}/release", null))
        {
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Null(System.Text.Json.JsonSerializer.Deserialize<JobDto>(body, GureumJson.Options)!.Hold);
        }
        var ran = await ApiClient.WaitForAsync(admin2, heldId, j => j.IsTerminal(), TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatuses.Completed, ran.Status);
        var kinds = (await EventsAsync(admin2, job: heldId)).Select(e => e.Kind).ToList();
        Assert.Equal(["JobSubmitted", "JobHeld", "JobReleased", "JobStarted", "JobCompleted"], kinds);
        Assert.Contains("released by admin admin", (await EventsAsync(admin2, "JobReleased", heldId))[0].Message, StringComparison.Ordinal);
    }

    protected async Task Gate_CountsRunningJobsCommittedCost_HeldUntilBudgetRaised()
    {
        using var dir = new ApiClient.TempDir();
        await using var server = await StartAsync(dir.Path, await DatabaseAsync(), ServerProcess.FreePort());
        var admin = server.Client((await server.AdminToken)!);
        await ApiClient.CreateLabAsync(admin, new LabDto("nlp"));
        var alice = server.Client(await ApiClient.CreateUserAsync(admin, "alice", "nlp", Roles.Researcher));

        // The price of one 1-hour job as the gate predicts it, from a probe held under a 1-cent budget.
        await PutBudgetAsync(admin, "nlp", 0.01m);
        var probe = await ApiClient.SubmitOkAsync(alice, Spec("probe", "true", OneHour));
        var x = Figures(probe.Hold!)[4];
        Assert.True(x > 1, probe.Hold);
        using (var c = await alice.PostAsync($"api/v1/jobs/{probe.Id}/cancel", null)) Assert.True(c.IsSuccessStatusCode);
        // A cancel reaches the leader at its next sync: wait for it, or raising the budget below could
        // release the probe first and count it as queued work.
        await ApiClient.WaitForAsync(alice, probe.Id, j => j.IsTerminal(), TimeSpan.FromSeconds(30));

        // Room for one such job, not two. The first is admitted and runs.
        var budget = Math.Round(x * 1.5m, 2);
        await PutBudgetAsync(admin, "nlp", budget);
        var first = await ApiClient.SubmitOkAsync(alice, Spec("first", "sleep 60", OneHour));
        Assert.Null(first.Hold);
        await ApiClient.WaitForAsync(alice, first.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(30));

        // The second: spend so far + this job fits, but with the first job's remaining hour it does not.
        var second = await ApiClient.SubmitOkAsync(alice, Spec("second", "true", OneHour));
        Assert.NotNull(second.Hold);
        var f = Figures(second.Hold!); // projected, budget, spent, committed, this job
        Assert.Equal(budget, f[1]);
        Assert.True(f[3] > x * 0.9m, $"committed {f[3]} should be most of the running job's {x}: {second.Hold}");
        Assert.True(f[2] + f[4] <= budget, $"spend + job alone ({f[2]} + {f[4]}) fits {budget}; only the committed cost holds it: {second.Hold}");

        // Raising the budget releases it by itself (no admin release), and it runs.
        await PutBudgetAsync(admin, "nlp", x * 10);
        var released = await ApiClient.WaitForAsync(alice, second.Id, j => j.Hold is null && j.IsTerminal(), TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatuses.Completed, released.Status);
        var rel = Assert.Single(await EventsAsync(admin, "JobReleased", second.Id));
        Assert.StartsWith("released: budget — lab nlp now projects $", rel.Message, StringComparison.Ordinal);

        // An admin's override=budget admits at once and says so in the log.
        await PutBudgetAsync(admin, "nlp", 0.01m);
        using var over = await admin.PostAsync("api/v1/jobs?override=budget", new StringContent(Spec("over", "true", OneHour) + "lab: nlp\n", Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Created, over.StatusCode);
        var overJob = System.Text.Json.JsonSerializer.Deserialize<JobDto>(await over.Content.ReadAsStringAsync(), GureumJson.Options)!;
        Assert.Null(overJob.Hold);
        Assert.Equal(["JobSubmitted", "JobHeld", "JobReleased"], (await EventsAsync(admin, job: overJob.Id)).Select(e => e.Kind).Take(3));
        using (var c = await alice.PostAsync($"api/v1/jobs/{first.Id}/cancel", null)) Assert.True(c.IsSuccessStatusCode);
    }
}

/// <summary><see cref="BudgetHoldTestsBase"/> on the embedded SQLite database.</summary>
[Collection(ServerCollection.Name)]
public sealed class BudgetHoldSqliteTests : BudgetHoldTestsBase
{
    protected override Task<string?> DatabaseAsync() => Task.FromResult<string?>(null);

    [Fact]
    public Task AlertsAndHold_OverBudgetJob_HeldUntilAdminReleasesEvenAcrossRestart() => AlertsAndHold_OverBudgetJobHeldUntilAdminReleases_EvenAcrossRestart();

    [Fact]
    public Task Gate_RunningJobsCommittedCost_HeldUntilBudgetRaised() => Gate_CountsRunningJobsCommittedCost_HeldUntilBudgetRaised();
}

/// <summary><see cref="BudgetHoldTestsBase"/> on PostgreSQL started by the fixture.</summary>
[Collection(ServerCollection.Name)]
public sealed class BudgetHoldPostgresTests(PostgresFixture pg) : BudgetHoldTestsBase, IClassFixture<PostgresFixture>
{
    protected override async Task<string?> DatabaseAsync() => await pg.CreateDatabaseAsync();

    [RequiresPostgresFact]
    public Task AlertsAndHold_OverBudgetJob_HeldUntilAdminReleasesEvenAcrossRestart() => AlertsAndHold_OverBudgetJobHeldUntilAdminReleases_EvenAcrossRestart();

    [RequiresPostgresFact]
    public Task Gate_RunningJobsCommittedCost_HeldUntilBudgetRaised() => Gate_CountsRunningJobsCommittedCost_HeldUntilBudgetRaised();
}
