using System.Net.Http.Headers;
using Gureum.Contracts.Api;
using Gureum.Server.Api;
using Gureum.Server.Tests.Fixtures;

namespace Gureum.Server.Tests.Functional;

/// <summary>
/// The leader's hourly spend anomaly check, live: a real server (in process, on a loopback port,
/// local backend at 1 USD/s) on a clock the test moves (<see cref="ShiftedClock"/>), so days of
/// hourly spend history take seconds. Two labs each run a small job for 60 hours; then one hour nlp
/// runs a job that holds half the machine for half an hour. When that hour ends the leader appends
/// exactly one <c>SpendAnomaly</c> event for nlp and that hour — not again on later ticks of the hour,
/// nor after a restart — and none for vision; <c>GET /cost/anomalies</c> flags the same hour and
/// nothing else in the 60 hours. Run on SQLite and on PostgreSQL.
/// </summary>
public abstract class SpendAnomalyLiveTestsBase
{
    /// <summary>The <c>--db</c> to start servers on; null for the embedded SQLite default.</summary>
    protected abstract Task<string?> DatabaseAsync();

    /// <summary>The system clock plus an offset the test moves forward; timers run in real time.</summary>
    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        private long _offsetTicks = offset.Ticks;
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    private static string Spec(string name, string run, double cpus) =>
        $"name: {name}\nresources:\n  gpus: 0\n  cpus: {cpus.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n  memory: 64Mi\nrun: {run}\n";

    private static async Task<StartedServer> StartAsync(string dir, string? db, int port, TimeProvider clock) =>
        await GureumServer.StartAsync(new ServerOptions
        {
            Urls = $"http://127.0.0.1:{port}", DataDir = dir, Db = db, Backend = "local", Tick = TimeSpan.FromSeconds(0.2),
            LocalPricePerHour = 3600, Time = clock,
        }, TextWriter.Null, CancellationToken.None);

    private static HttpClient Client(int port, string token)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<List<EventDto>> AnomalyEventsAsync(HttpClient admin) =>
        (await ApiClient.GetAsync<PageDto<EventDto>>(admin, "api/v1/events?limit=1000")).Items.Where(e => e.Kind == "SpendAnomaly").ToList();

    protected async Task RunAsync()
    {
        using var dir = new ApiClient.TempDir();
        var db = await DatabaseAsync();
        var port = ServerProcess.FreePort();
        // Start 5 minutes into an hour, so the hours the test makes are whole and known.
        var real = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(real.Year, real.Month, real.Day, real.Hour, 5, 0, TimeSpan.Zero).AddHours(1);
        var clock = new ShiftedClock(start - real);
        var server = await StartAsync(dir.Path, db, port, clock);
        string token = server.AdminToken!;
        var admin = Client(port, token);
        DateTimeOffset spikeHour;
        string[] baseline;
        try
        {
            await ApiClient.CreateLabAsync(admin, new LabDto("nlp"));
            await ApiClient.CreateLabAsync(admin, new LabDto("vision"));
            var alice = Client(port, await ApiClient.CreateUserAsync(admin, "alice", "nlp", Roles.Researcher));
            var victor = Client(port, await ApiClient.CreateUserAsync(admin, "victor", "vision", Roles.Researcher));

            // 60 hours of steady spend in both labs: one small job each, running all along.
            var a = await ApiClient.SubmitOkAsync(alice, Spec("steady-nlp", "sleep 3600", 0.1));
            var v = await ApiClient.SubmitOkAsync(victor, Spec("steady-vision", "sleep 3600", 0.1));
            await ApiClient.WaitForAsync(alice, a.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(60));
            await ApiClient.WaitForAsync(victor, v.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(60));
            baseline = [a.Id, v.Id];
            for (var h = 0; h < 60; h++)
            {
                clock.Advance(TimeSpan.FromHours(1));
                await Task.Delay(50); // let the loop tick now and then; the hours are scored from the store either way
            }
            Assert.Empty(await AnomalyEventsAsync(admin));

            // The spike: at hh:05 nlp starts a job holding half the machine and it runs for half an hour.
            spikeHour = SpendAnomalyKey.Floor(clock.GetUtcNow());
            // (It runs until cancelled, so how long it runs is the clock's, not the machine's speed.)
            var spike = await ApiClient.SubmitOkAsync(alice, Spec("spike", "sleep 3600", 1));
            await ApiClient.WaitForAsync(alice, spike.Id, j => j.Status == JobStatuses.Running, TimeSpan.FromSeconds(60));
            clock.Advance(TimeSpan.FromMinutes(30));
            using (var c = await alice.PostAsync($"api/v1/jobs/{spike.Id}/cancel", null)) Assert.True(c.IsSuccessStatusCode);
            await ApiClient.WaitForAsync(alice, spike.Id, j => j.Status == JobStatuses.Cancelled, TimeSpan.FromSeconds(60));
            Assert.Empty(await AnomalyEventsAsync(admin)); // the hour has not ended

            // The hour ends: one SpendAnomaly for nlp and that hour.
            clock.Advance(TimeSpan.FromMinutes(30));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            List<EventDto> events;
            do
            {
                await Task.Delay(200);
                events = await AnomalyEventsAsync(admin);
            } while (events.Count == 0 && DateTime.UtcNow < deadline);
            if (events.Count == 0)
            {
                var what = await admin.GetStringAsync($"api/v1/cost/anomalies?metric=spend&since={Uri.EscapeDataString(start.AddHours(-1).ToString("O"))}&until={Uri.EscapeDataString(spikeHour.AddHours(1).ToString("O"))}");
                var all = (await ApiClient.GetAsync<PageDto<EventDto>>(admin, "api/v1/events?limit=1000")).Items.TakeLast(8).Select(x => $"{x.At:O} {x.Kind} {x.Message}");
                var hourCost = await admin.GetStringAsync($"api/v1/cost?by=lab&since={Uri.EscapeDataString(spikeHour.ToString("O"))}&until={Uri.EscapeDataString(spikeHour.AddHours(1).ToString("O"))}");
                var hourBefore = await admin.GetStringAsync($"api/v1/cost?by=lab&since={Uri.EscapeDataString(spikeHour.AddHours(-1).ToString("O"))}&until={Uri.EscapeDataString(spikeHour.ToString("O"))}");
                var store = (Gureum.Persistence.IControlPlaneStore)server.App.Services.GetService(typeof(Gureum.Persistence.IControlPlaneStore))!;
                var series = (await CostService.HourlyAsync(store, Gureum.Cost.Anomalies.AnomalyMetric.Spend, "lab", start.AddHours(-1), spikeHour.AddHours(1), CancellationToken.None))["nlp"];
                var scores = Gureum.Cost.Anomalies.MetricAnomalies.Score(series);
                var hours = string.Join(" ", series.Select((p, i) => $"{p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{scores[i]:F2}"));
                Assert.Fail($"no SpendAnomaly event; clock {clock.GetUtcNow():O}; API: {what}\nspike hour: {hourCost}\nhour before: {hourBefore}\nnlp's hourly spend (USD:score): {hours}\nlast events:\n{string.Join("\n", all)}");
            }
            var e = Assert.Single(events);
            Assert.StartsWith($"spend-anomaly {CostService.AnomalyKey("nlp", spikeHour)}: lab nlp spent $", e.Message, StringComparison.Ordinal);
            Assert.Equal(spikeHour.AddHours(1), e.At);

            // Later ticks of the same hour do not repeat it.
            clock.Advance(TimeSpan.FromMinutes(20));
            await Task.Delay(1000);
            Assert.Single(await AnomalyEventsAsync(admin));

            // The API over the whole history flags that hour of nlp's and nothing else.
            var since = Uri.EscapeDataString(start.AddHours(-1).ToString("O"));
            var until = Uri.EscapeDataString(spikeHour.AddHours(1).ToString("O"));
            var found = await ApiClient.GetAsync<CostAnomaliesDto>(admin, $"api/v1/cost/anomalies?metric=spend&since={since}&until={until}");
            Assert.Equal(["nlp", "vision"], found.Series);
            var flagged = Assert.Single(found.Anomalies);
            Assert.Equal(("nlp", spikeHour), (flagged.Key, flagged.Hour));
            Assert.True(flagged.Usd > 3 * flagged.MedianUsd, $"spike hour {flagged.Usd} USD vs median {flagged.MedianUsd}");
        }
        finally
        {
            await server.DisposeAsync();
        }

        // After a restart (a new term reloads the fired anomalies from the event log) and another hour, still one.
        await using var again = await StartAsync(dir.Path, db, port, clock);
        var admin2 = Client(port, token);
        clock.Advance(TimeSpan.FromHours(1));
        await Task.Delay(1500);
        var after = await AnomalyEventsAsync(admin2);
        Assert.Single(after, x => x.Message.Contains(CostService.AnomalyKey("nlp", spikeHour), StringComparison.Ordinal));
        Assert.DoesNotContain(after, x => x.Message.Contains("|vision|", StringComparison.Ordinal));
        // The steady jobs end here (cancelled and seen to end, so no process outlives the test).
        foreach (var id in baseline)
            using (var c = await admin2.PostAsync($"api/v1/jobs/{id}/cancel", null)) Assert.True(c.IsSuccessStatusCode);
        foreach (var id in baseline)
            await ApiClient.WaitForAsync(admin2, id, j => j.Status == JobStatuses.Cancelled, TimeSpan.FromSeconds(60));
    }

    /// <summary>Hours as the leader keys them.</summary>
    private static class SpendAnomalyKey
    {
        public static DateTimeOffset Floor(DateTimeOffset t) => Gureum.Cost.Anomalies.SpendAnomalies.Floor(t);
    }
}

/// <summary><see cref="SpendAnomalyLiveTestsBase"/> on the embedded SQLite database.</summary>
[Collection(ServerCollection.Name)]
public sealed class SpendAnomalyLiveSqliteTests : SpendAnomalyLiveTestsBase
{
    protected override Task<string?> DatabaseAsync() => Task.FromResult<string?>(null);

    [Fact]
    public Task HourlyCheck_InjectedSpendSpike_OneSpendAnomalyEventForThatLabAndHour() => RunAsync();
}

/// <summary><see cref="SpendAnomalyLiveTestsBase"/> on PostgreSQL started by the fixture.</summary>
[Collection(ServerCollection.Name)]
public sealed class SpendAnomalyLivePostgresTests(PostgresFixture pg) : SpendAnomalyLiveTestsBase, IClassFixture<PostgresFixture>
{
    protected override async Task<string?> DatabaseAsync() => await pg.CreateDatabaseAsync();

    [RequiresPostgresFact]
    public Task HourlyCheck_InjectedSpendSpike_OneSpendAnomalyEventForThatLabAndHour() => RunAsync();
}
