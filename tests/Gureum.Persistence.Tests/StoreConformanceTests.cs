using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Microsoft.Extensions.Time.Testing;

namespace Gureum.Persistence.Tests;

/// <summary>
/// The control-plane store contract, run against every provider (Orleans'
/// <c>MembershipTableTestsBase</c> pattern): each provider's class only says how to make an empty
/// database and how its lease holder dies.
/// </summary>
public abstract class StoreConformanceTests : IAsyncLifetime
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero));
    protected IControlPlaneStore Store { get; private set; } = null!;
    protected string ConnectionString { get; private set; } = "";
    private readonly List<IAsyncDisposable> _disposables = [];

    /// <summary>A connection string to a new, empty database.</summary>
    protected abstract Task<string> CreateDatabaseAsync();

    /// <summary>Make the lease's holder lose its connection or lock as if its process died.</summary>
    protected abstract Task KillLeaseConnectionAsync(ILeaderLease lease);

    public async Task InitializeAsync()
    {
        ConnectionString = await CreateDatabaseAsync();
        Store = await OpenAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var d in _disposables) await d.DisposeAsync();
    }

    /// <summary>Another store instance on the same database (another replica, or the process after a restart).</summary>
    protected async Task<IControlPlaneStore> OpenAsync()
    {
        var s = await ControlPlaneStore.OpenAsync(ConnectionString, new ControlPlaneStoreOptions { Time = Time }, default);
        _disposables.Add(s);
        return s;
    }

    private static readonly Offer Offer = new()
    {
        Cloud = "aws", Region = "us-east-1", Zone = "us-east-1a", InstanceType = "p3.8xlarge", GpuModel = "V100", GpuCount = 4,
        VCpus = 32, MemoryGiB = 244, OnDemandPerHour = 12.24m, SpotPerHour = 3.6720m,
    };

    protected JobSpec Spec(string id, string lab = "nlp", string user = "ann", int gpus = 2, int priority = 0) => new()
    {
        Id = id, Name = "train-" + id, User = user, Lab = lab, Project = "qa", SubmitTime = Time.GetUtcNow(),
        Resources = new ResourceRequest(gpus, 0, 4, 16), Priority = priority, Command = "python train.py", Zones = ["us-east-1a"],
        CheckpointInterval = TimeSpan.FromMinutes(10),
    };

    private async Task SeedTenancyAsync(IControlPlaneStore s, int? maxQueued = null)
    {
        Assert.True(await s.AddLabAsync(new Lab("nlp", MaxConcurrentGpus: 16, MaxQueuedJobs: maxQueued, MonthlyBudgetUsd: 1234.56m), default));
        Assert.True(await s.AddLabAsync(new Lab("vision"), default));
        Assert.Equal(AddUserResult.Added, await s.AddUserAsync(new User("ann", "nlp", Role.Researcher), default));
        Assert.Equal(AddUserResult.Added, await s.AddUserAsync(new User("bob", "nlp", Role.LabLead), default));
        Assert.Equal(AddUserResult.Added, await s.AddUserAsync(new User("cho", "vision", Role.Researcher), default));
    }

    private async Task<JobRecord> SubmitOkAsync(IControlPlaneStore s, JobSpec spec)
    {
        var r = await s.SubmitAsync(spec, "name: " + spec.Name + "\n", Time.GetUtcNow(), default);
        Assert.True(r.Accepted, r.Reason);
        return r.Job!;
    }

    private async Task ExecRawAsync(string sql)
    {
        await using var c = await ControlPlaneStore.Parse(ConnectionString).OpenAsync(default);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<List<string[]>> QueryRawAsync(string sql)
    {
        await using var c = await ControlPlaneStore.Parse(ConnectionString).OpenAsync(default);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await r.ReadAsync())
            rows.Add(Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!).ToArray());
        return rows;
    }

    // ---- migrations -----------------------------------------------------------------------

    [StoreFact]
    public async Task MigrateAsync_FreshDatabase_ReachesCurrentVersionWithEveryTable()
    {
        Assert.Equal(SchemaInfo.CurrentVersion, await Store.GetSchemaVersionAsync(default));
        foreach (var table in new[] { "labs", "users", "tokens", "jobs", "cancel_requests", "job_runs", "nodes", "events", "run_handles", "leader", "spot_trouble", "hold_releases", "job_wait_reasons" })
            Assert.Equal("0", (await QueryRawAsync($"SELECT COUNT(*) FROM {table}"))[0][0]);
    }

    [StoreFact]
    public async Task MigrateAsync_FromVersion2_MovesPendingWaitReasonsToTheirTable_AndDropsTheOldColumn()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        await SubmitOkAsync(Store, Spec("j2"));
        // A version-2 database: reasons lived on the job row.
        await ExecRawAsync("DROP TABLE job_wait_reasons");
        await ExecRawAsync("ALTER TABLE jobs ADD COLUMN wait_reason TEXT NULL");
        await ExecRawAsync("ALTER TABLE labs DROP COLUMN alert_thresholds"); // added by version 5
        await ExecRawAsync("DELETE FROM schema_version WHERE version >= 3");
        await ExecRawAsync("UPDATE jobs SET wait_reason = 'waiting for 2×GPU: an old reason' WHERE id = 'j1'");

        var migrated = await OpenAsync();

        Assert.Equal(SchemaInfo.CurrentVersion, await migrated.GetSchemaVersionAsync(default));
        Assert.Equal("waiting for 2×GPU: an old reason", (await migrated.GetJobAsync("j1", default))!.WaitReason);
        Assert.Null((await migrated.GetJobAsync("j2", default))!.WaitReason);
        // Version 4 drops the old column.
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => QueryRawAsync("SELECT wait_reason FROM jobs"));
    }

    [StoreFact]
    public async Task MigrateAsync_FromVersion4_AddsLabAlertThresholds_NullUntilSet()
    {
        await SeedTenancyAsync(Store);
        // A version-4 database: labs had no alert thresholds.
        await ExecRawAsync("ALTER TABLE labs DROP COLUMN alert_thresholds");
        await ExecRawAsync("DELETE FROM schema_version WHERE version >= 5");

        var migrated = await OpenAsync();

        Assert.Equal(SchemaInfo.CurrentVersion, await migrated.GetSchemaVersionAsync(default));
        var nlp = (await migrated.GetLabAsync("nlp", default))!;
        Assert.Equal((1234.56m, (IReadOnlyList<decimal>?)null), (nlp.MonthlyBudgetUsd, nlp.AlertThresholdsPercent));
        Assert.True(await migrated.UpdateLabAsync(nlp with { AlertThresholdsPercent = [25m, 90m, 112.5m] }, default));
        Assert.Equal([25m, 90m, 112.5m], (await migrated.GetLabAsync("nlp", default))!.AlertThresholdsPercent!);
        Assert.Equal("25,90,112.5", (await QueryRawAsync("SELECT alert_thresholds FROM labs WHERE name = 'nlp'"))[0][0]);
    }

    [StoreFact]
    public async Task UpdateLabAsync_AlertThresholds_ReadBackAfterReopenAndClearedWithNull()
    {
        await SeedTenancyAsync(Store);
        Assert.True(await Store.AddLabAsync(new Lab("speech", MonthlyBudgetUsd: 50m, AlertThresholdsPercent: [10m, 100m]), default));
        Assert.Equal([10m, 100m], (await Store.GetLabAsync("speech", default))!.AlertThresholdsPercent!);
        var again = await OpenAsync();
        Assert.Equal([10m, 100m], (await again.ListLabsAsync(default)).Single(l => l.Name == "speech").AlertThresholdsPercent!);
        Assert.True(await again.UpdateLabAsync(new Lab("speech", MonthlyBudgetUsd: 50m), default));
        Assert.Null((await again.GetLabAsync("speech", default))!.AlertThresholdsPercent);
    }

    [StoreFact]
    public async Task OpenAsync_Reopened_KeepsDataAndVersion()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        await Store.MigrateAsync(default); // idempotent
        var again = await OpenAsync();
        Assert.Equal(SchemaInfo.CurrentVersion, await again.GetSchemaVersionAsync(default));
        Assert.Equal(SchemaInfo.CurrentVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), (await QueryRawAsync("SELECT COUNT(*) FROM schema_version"))[0][0]);
        Assert.Equal(1234.56m, (await again.GetLabAsync("nlp", default))!.MonthlyBudgetUsd);
        Assert.Equal("j1", (await again.GetJobAsync("j1", default))!.Id);
    }

    [StoreFact]
    public async Task OpenAsync_DatabaseFromNewerVersion_RefusedNamingBothVersions()
    {
        var newer = SchemaInfo.CurrentVersion + 1;
        await ExecRawAsync($"INSERT INTO schema_version (version, applied_at) VALUES ({newer}, 0)");
        var e = await Assert.ThrowsAsync<SchemaVersionException>(async () => await ControlPlaneStore.OpenAsync(ConnectionString, null, default));
        Assert.Contains($"schema version {newer}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {SchemaInfo.CurrentVersion}", e.Message, StringComparison.Ordinal);
        Assert.Contains("To fix", e.Message, StringComparison.Ordinal);
        Assert.Equal(newer.ToString(System.Globalization.CultureInfo.InvariantCulture), (await QueryRawAsync("SELECT MAX(version) FROM schema_version"))[0][0]);
    }

    // ---- tenancy --------------------------------------------------------------------------

    [StoreFact]
    public async Task AddUserAsync_UnknownLabOrExisting_ReturnsWhy()
    {
        await SeedTenancyAsync(Store);
        Assert.Equal(AddUserResult.UnknownLab, await Store.AddUserAsync(new User("dan", "nope", Role.Researcher), default));
        Assert.Equal(AddUserResult.Exists, await Store.AddUserAsync(new User("ann", "vision", Role.Admin), default));
        Assert.False(await Store.AddLabAsync(new Lab("nlp"), default));
        Assert.Equal(["ann", "bob"], (await Store.ListUsersAsync("nlp", default)).Select(u => u.Name));
        Assert.Equal(Role.LabLead, (await Store.GetUserAsync("bob", default))!.Role);
        Assert.Equal(3, (await Store.ListUsersAsync(null, default)).Count);
    }

    [StoreFact]
    public async Task UpdateLabAsync_NewQuotas_ReadBack()
    {
        await SeedTenancyAsync(Store);
        Assert.True(await Store.UpdateLabAsync(new Lab("vision", 8.5, 100, 99.99m), default));
        Assert.False(await Store.UpdateLabAsync(new Lab("nope", 1), default));
        Assert.Equal(new Lab("vision", 8.5, 100, 99.99m), await Store.GetLabAsync("vision", default));
        Assert.Equal(["nlp", "vision"], (await Store.ListLabsAsync(default)).Select(l => l.Name));
    }

    [StoreFact]
    public async Task CreateTokenAsync_StoresOnlyTheHash_AuthenticatesThePlaintext()
    {
        await SeedTenancyAsync(Store);
        var t = await Store.CreateTokenAsync("bob", Time.GetUtcNow(), default);
        Assert.NotNull(t);
        Assert.StartsWith("gur_", t.Token, StringComparison.Ordinal);
        Assert.Equal(new User("bob", "nlp", Role.LabLead), await Store.AuthenticateAsync(t.Token, default));
        Assert.Null(await Store.AuthenticateAsync(t.Token + "x", default));
        Assert.Null(await Store.AuthenticateAsync("", default));
        Assert.Null(await Store.CreateTokenAsync("nobody", Time.GetUtcNow(), default));

        var rows = await QueryRawAsync("SELECT id, user_name, hash, created_at FROM tokens");
        var row = Assert.Single(rows);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(t.Token))), row[2]);
        Assert.DoesNotContain(row, v => v.Contains(t.Token[4..], StringComparison.Ordinal));

        Assert.True(await Store.RevokeTokenAsync(t.Id, default));
        Assert.False(await Store.RevokeTokenAsync(t.Id, default));
        Assert.Null(await Store.AuthenticateAsync(t.Token, default));
    }

    // ---- jobs -----------------------------------------------------------------------------

    [StoreFact]
    public async Task SubmitAsync_NewJob_ReadBackWithSpecTextAndEvent()
    {
        await SeedTenancyAsync(Store);
        var spec = Spec("j1") with { Deadline = Time.GetUtcNow().AddDays(1), GpuModels = ["A100", "H100"] };
        var r = await Store.SubmitAsync(spec, "name: x\nrun: python train.py\n", Time.GetUtcNow(), default);
        Assert.True(r.Accepted);
        var job = await Store.GetJobAsync("j1", default);
        Assert.NotNull(job);
        Assert.Equal(JobStatus.Pending, job.Status);
        Assert.Equal("name: x\nrun: python train.py\n", job.SpecText);
        Assert.Equal(JsonSerializer.Serialize(spec), JsonSerializer.Serialize(job.Spec));
        Assert.Equal(Time.GetUtcNow(), job.SubmittedAt);
        Assert.Equal(r.Job!.Seq, job.Seq);
        var ev = Assert.Single((await Store.ListEventsAsync(new EventQuery { JobId = "j1" }, default)).Items);
        Assert.Equal(EventKind.JobSubmitted, ev.Event.Kind);
        Assert.Null(await Store.GetJobAsync("nope", default));
    }

    [StoreFact]
    public async Task SubmitAsync_DuplicateIdOrUnknownLab_RejectedAsValues()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        var dup = await Store.SubmitAsync(Spec("j1"), "", Time.GetUtcNow(), default);
        Assert.Equal(SubmitRejectionKind.DuplicateId, dup.Rejection);
        var lab = await Store.SubmitAsync(Spec("j2", lab: "nope"), "", Time.GetUtcNow(), default);
        Assert.Equal(SubmitRejectionKind.UnknownLab, lab.Rejection);
        Assert.Contains("nope", lab.Reason, StringComparison.Ordinal);
        Assert.Single((await Store.ListJobsAsync(new JobQuery(), default)).Items);
    }

    [StoreFact]
    public async Task SubmitAsync_ConcurrentBurstOverQueuedQuota_AcceptsExactlyTheQuota()
    {
        await SeedTenancyAsync(Store, maxQueued: 5);
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Store.SubmitAsync(Spec($"q{i}"), "", Time.GetUtcNow(), default).AsTask()));
        Assert.Equal(5, results.Count(r => r.Accepted));
        Assert.All(results.Where(r => !r.Accepted), r =>
        {
            Assert.Equal(SubmitRejectionKind.QueuedJobsQuota, r.Rejection);
            Assert.Contains("quota of queued jobs is 5", r.Reason, StringComparison.Ordinal);
        });
        // Another lab is not limited by nlp's quota.
        Assert.True((await Store.SubmitAsync(Spec("v1", lab: "vision", user: "cho"), "", Time.GetUtcNow(), default)).Accepted);
        Assert.Equal(5, (await Store.CountQueuedByLabAsync(default))["nlp"]);
    }

    [StoreFact]
    public async Task SubmitAsync_QueuedQuota_CountsOnlyJobsStillQueued()
    {
        await SeedTenancyAsync(Store, maxQueued: 2);
        await SubmitOkAsync(Store, Spec("a", gpus: 4));
        await SubmitOkAsync(Store, Spec("b", gpus: 4));
        Assert.Equal(SubmitRejectionKind.QueuedJobsQuota, (await Store.SubmitAsync(Spec("c"), "", Time.GetUtcNow(), default)).Rejection);
        var (ds, loop, _) = await OpenLoopAsync(Store);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        await loop.RunOnceAsync(default); // a starts: one slot frees
        await SubmitOkAsync(Store, Spec("c", gpus: 4));
        Assert.Equal(SubmitRejectionKind.QueuedJobsQuota, (await Store.SubmitAsync(Spec("d"), "", Time.GetUtcNow(), default)).Rejection);
        await ds.SyncAsync(Time.GetUtcNow(), default);
        await loop.CancelAsync("b", "x", default); // a cancelled pending job frees a slot
        await SubmitOkAsync(Store, Spec("d", gpus: 4));
        Time.Advance(TimeSpan.FromMinutes(20));
        await loop.OnNodeLostAsync("f1", "failed", default); // a is requeued: the lab is over quota again
        Assert.Equal(SubmitRejectionKind.QueuedJobsQuota, (await Store.SubmitAsync(Spec("e"), "", Time.GetUtcNow(), default)).Rejection);
        Assert.Equal(3, (await Store.CountQueuedByLabAsync(default))["nlp"]);
    }

    [StoreFact]
    public async Task SubmitAsync_SixteenConcurrentSubmitters_AllDurableWithDistinctSeqs()
    {
        await SeedTenancyAsync(Store);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var mine = new List<SubmitResult>();
            for (var i = 0; i < 25; i++) mine.Add(await Store.SubmitAsync(Spec($"w{w}-{i}"), "", Time.GetUtcNow(), default));
            return mine;
        })));
        var all = results.SelectMany(r => r).ToList();
        Assert.All(all, r => Assert.True(r.Accepted));
        Assert.Equal(400, all.Select(r => r.Job!.Seq).Distinct().Count());
        var other = await OpenAsync(); // a fresh instance reads what was acknowledged
        Assert.Equal(400, (await other.CountQueuedByLabAsync(default))["nlp"]);
    }

    [StoreFact]
    public async Task ListJobsAsync_FiltersAndKeysetPaging_EveryMatchOnceNewestFirst()
    {
        await SeedTenancyAsync(Store);
        for (var i = 0; i < 10; i++) await SubmitOkAsync(Store, Spec($"a{i}", user: i % 2 == 0 ? "ann" : "bob"));
        for (var i = 0; i < 3; i++) await SubmitOkAsync(Store, Spec($"c{i}", lab: "vision", user: "cho"));

        var seen = new List<JobRecord>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Store.ListJobsAsync(new JobQuery { Lab = "nlp", Limit = 3, Cursor = cursor }, default);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
            pages++;
        } while (cursor is not null);
        Assert.Equal(4, pages);
        Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(i => $"a{i}"), seen.Select(j => j.Id));

        var bob = await Store.ListJobsAsync(new JobQuery { User = "bob", Limit = 100 }, default);
        Assert.Equal(5, bob.Items.Count);
        Assert.Null(bob.NextCursor);
        Assert.All(bob.Items, j => Assert.Equal("bob", j.Spec.User));
        Assert.Equal(13, (await Store.ListJobsAsync(new JobQuery { Statuses = [JobStatus.Pending], Limit = 100 }, default)).Items.Count);
        Assert.Empty((await Store.ListJobsAsync(new JobQuery { Statuses = [JobStatus.Running, JobStatus.Completed] }, default)).Items);
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.ListJobsAsync(new JobQuery { Cursor = "zz" }, default));
    }

    [StoreFact]
    public async Task ListEventsAsync_ByJobAfterCursor_PagesInOrder()
    {
        await SeedTenancyAsync(Store);
        for (var i = 0; i < 5; i++) await SubmitOkAsync(Store, Spec($"e{i}"));
        await Store.RequestCancelAsync("e3", "not needed", Time.GetUtcNow(), default);
        var first = await Store.ListEventsAsync(new EventQuery { Limit = 4 }, default);
        Assert.Equal(4, first.Items.Count);
        var rest = await Store.ListEventsAsync(new EventQuery { After = long.Parse(first.NextCursor!, System.Globalization.CultureInfo.InvariantCulture), Limit = 4 }, default);
        Assert.Equal(2, rest.Items.Count);
        Assert.Null(rest.NextCursor);
        Assert.Equal(["e0", "e1", "e2", "e3", "e4", "e3"], first.Items.Concat(rest.Items).Select(e => e.Event.JobId));
        Assert.True(first.Items.Concat(rest.Items).Select(e => e.Id).Order().SequenceEqual(first.Items.Concat(rest.Items).Select(e => e.Id)));
        var e3 = await Store.ListEventsAsync(new EventQuery { JobId = "e3" }, default);
        Assert.Equal([EventKind.JobSubmitted, EventKind.JobCancelRequested], e3.Items.Select(e => e.Event.Kind));
        Assert.Equal("not needed", e3.Items[1].Event.Message);
    }

    [StoreFact]
    public async Task RequestCancelAsync_UnknownOrRepeated_NullOrIdempotent()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        Assert.Null(await Store.RequestCancelAsync("nope", "x", Time.GetUtcNow(), default));
        Assert.True((await Store.RequestCancelAsync("j1", "x", Time.GetUtcNow(), default))!.CancelRequested);
        Assert.True((await Store.RequestCancelAsync("j1", "again", Time.GetUtcNow(), default))!.CancelRequested);
        Assert.Single((await Store.ListEventsAsync(new EventQuery { JobId = "j1" }, default)).Items, e => e.Event.Kind == EventKind.JobCancelRequested);
    }

    // ---- run handles ----------------------------------------------------------------------

    [StoreFact]
    public async Task RunHandles_SaveUpsertListDelete_RoundTripDurably()
    {
        var at = Time.GetUtcNow();
        await Store.SaveAsync(new RunHandle("j1", "local", "n1", """{"pid":1}""", at), default);
        await Store.SaveAsync(new RunHandle("j2", "sim", "n2", "{}", at), default);
        await Store.SaveAsync(new RunHandle("j1", "local", "n1", """{"pid":2}""", at.AddSeconds(1)), default);
        var other = await OpenAsync();
        Assert.Equal([new RunHandle("j1", "local", "n1", """{"pid":2}""", at.AddSeconds(1))], await other.ListAsync("local", default));
        await other.DeleteAsync("j1", default);
        await other.DeleteAsync("j1", default);
        Assert.Empty(await Store.ListAsync("local", default));
        Assert.Single(await Store.ListAsync("sim", default));
    }

    // ---- the durable cluster store --------------------------------------------------------

    private sealed class RecordingBackend : INodeProvisioner, IExecutor
    {
        public List<string> Started { get; } = [];
        public List<string> Stopped { get; } = [];
        public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) { Started.Add(job.Id); return ValueTask.CompletedTask; }
        public ValueTask StopAsync(JobView job, CancellationToken ct) { Stopped.Add(job.Id); return ValueTask.CompletedTask; }
    }

    private async Task<(IDurableClusterStore Store, ControlLoop Loop, RecordingBackend Backend)> OpenLoopAsync(IControlPlaneStore s)
    {
        var ds = await s.OpenClusterStoreAsync([Offer], null, Time.GetUtcNow(), default);
        var backend = new RecordingBackend();
        return (ds, new ControlLoop(ds, PolicyCatalog.Create("static"), backend, backend, Time), backend);
    }

    /// <summary>Everything a decision can see, as text (placements hold arrays, so records don't compare by value).</summary>
    private static async Task<string> DescribeAsync(IClusterStore s, DateTimeOffset now)
    {
        var snap = await s.SnapshotAsync(now, default);
        return JsonSerializer.Serialize(new
        {
            Pending = snap.Pending.Select(j => new { j.Id, j.Seq, j.Status, j.Attempts, j.QueuedSince, j.WorkSaved, j.FirstStartedAt }),
            Running = snap.Running.Values.Select(j => new { j.Id, j.Seq, j.Status, j.Attempts, j.RunStartedAt, j.FirstStartedAt, j.Placements }),
            snap.Nodes,
            Labs = snap.Labs.Values.Select(l => new { l.Name, l.RunningMilliGpus, l.MaxConcurrentGpus }),
        });
    }

    [StoreFact]
    public async Task DeferCommits_ManyWrites_VisibleAtOnceAndDurableWhenTheScopeEnds()
    {
        var (ds, _, _) = await OpenLoopAsync(Store);
        var now = Time.GetUtcNow();
        var sql = (Gureum.Persistence.Sql.SqlControlPlaneStore)Store;
        var batchesBefore = sql.Writer.Batches;
        await using (ds.DeferCommits())
        {
            for (var i = 0; i < 300; i++)
            {
                await ds.AddNodeAsync(Node.Create($"d{i}", Offer, Market.OnDemand, NodeState.Requested, now), default);
                await ds.AppendEventAsync(new ClusterEvent(now, EventKind.NodeRequested, null, $"d{i}", "deferred"), default);
            }
            Assert.NotNull(await ds.GetNodeAsync("d299", default)); // the working set has them at once
            await using (ds.DeferCommits()) // a nested scope joins the outer one
                await ds.SetNodeStateAsync("d0", NodeState.Ready, now, default);
        }
        // 601 writes, committed as one transaction rather than one each.
        Assert.Equal(1, sql.Writer.Batches - batchesBefore);

        var reloaded = await (await OpenAsync()).OpenClusterStoreAsync([Offer], null, now, default);
        var nodes = (await reloaded.SnapshotAsync(now, default)).Nodes;
        Assert.Equal(300, nodes.Count);
        Assert.Equal(NodeState.Ready, nodes.Single(n => n.Id == "d0").State);
        var events = await Store.ListEventsAsync(new EventQuery { Limit = 1000 }, default);
        var deferred = events.Items.Where(e => e.Event.Message == "deferred").OrderBy(e => e.Id).Select(e => e.Event.NodeId);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"d{i}"), deferred); // all of them, in the order written

        // Outside a scope every write waits for its own commit again.
        var before = sql.Writer.Writes;
        await ds.AddNodeAsync(Node.Create("after", Offer, Market.OnDemand, NodeState.Requested, now), default);
        Assert.Equal(before + 1, sql.Writer.Writes);
    }

    [StoreFact]
    public async Task OpenClusterStoreAsync_AfterCrash_RebuildsTheSameWorkingSet()
    {
        await SeedTenancyAsync(Store);
        var t0 = Time.GetUtcNow();
        for (var i = 0; i < 6; i++) await SubmitOkAsync(Store, Spec($"j{i}"));
        var (ds, loop, backend) = await OpenLoopAsync(Store);
        Assert.Equal(6, (await ds.SnapshotAsync(Time.GetUtcNow(), default)).Pending.Count); // loaded at open
        Assert.Empty((await ds.SyncAsync(Time.GetUtcNow(), default)).NewJobs);
        foreach (var id in new[] { "f1", "f2" })
            await ds.AddNodeAsync(Node.Create(id, Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        await loop.RunOnceAsync(default);
        Assert.Equal(4, backend.Started.Count); // 2 nodes × 4 GPUs, 2 GPUs each
        Time.Advance(TimeSpan.FromMinutes(25));
        var done = backend.Started[0];
        await loop.OnJobExitedAsync(done, succeeded: true, default);
        await loop.RunOnceAsync(default);
        Assert.Equal(5, backend.Started.Count);
        var before = await DescribeAsync(ds, Time.GetUtcNow());

        // "Crash": drop the working set without closing anything; a new process reads the database.
        var restarted = await OpenAsync();
        var reloaded = await restarted.OpenClusterStoreAsync([Offer], null, Time.GetUtcNow(), default);
        Assert.Equal(before, await DescribeAsync(reloaded, Time.GetUtcNow()));
        Assert.Empty((await reloaded.SyncAsync(Time.GetUtcNow(), default)).NewJobs);
        Assert.Equal(16, reloaded.LabGpuQuotas["nlp"]);

        // What the API and cost metering read.
        var completed = (await restarted.GetJobAsync(done, default))!;
        Assert.Equal(JobStatus.Completed, completed.Status);
        Assert.Equal(Time.GetUtcNow(), completed.EndedAt);
        Assert.Equal(t0, completed.StartedAt);
        Assert.Equal("V100", completed.GpuModel);
        Assert.Single(completed.NodeIds);
        var runs = await restarted.ListRunsAsync(t0, Time.GetUtcNow().AddSeconds(1), default);
        Assert.Equal(5, runs.Count);
        var ended = Assert.Single(runs, r => r.End is not null);
        Assert.Equal((done, RunOutcome.Completed, 2000L, TimeSpan.FromMinutes(25)), (ended.JobId, ended.Outcome!.Value, ended.MilliGpus, ended.End!.Value - ended.Start));
        Assert.Empty(await restarted.ListRunsAsync(t0.AddDays(-2), t0.AddDays(-1), default));
        var nodes = await restarted.ListNodesAsync(t0, Time.GetUtcNow(), default);
        Assert.Equal(["f1", "f2"], nodes.Select(n => n.Id));
        Assert.Equal(12.24m, nodes[0].PricePerHour);
        Assert.Equal(8000L, (await restarted.RunningMilliGpusByLabAsync(default))["nlp"]);
        Assert.Equal(1, (await restarted.CountQueuedByLabAsync(default))["nlp"]);
        Assert.Contains((await restarted.ListEventsAsync(new EventQuery { JobId = done, Limit = 10 }, default)).Items, e => e.Event.Kind == EventKind.JobCompleted);
    }

    [StoreFact]
    public async Task SetWaitReasonsAsync_LoopExplainsWaits_DurableReloadedAndClearedAtStart()
    {
        await SeedTenancyAsync(Store);
        for (var i = 0; i < 5; i++) await SubmitOkAsync(Store, Spec($"j{i}"));
        var (ds, loop, backend) = await OpenLoopAsync(Store);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        await loop.RunOnceAsync(default);
        Assert.Equal(["j0", "j1"], backend.Started); // 4 GPUs, 2 each
        const string expected = "waiting for 2×GPU: no eligible ready node has room for it now; the fleet is fixed (policy static): it starts when jobs running on an eligible node end";
        // In the working set at once; committed behind the decision (FlushAsync waits for it).
        Assert.All((await ds.SnapshotAsync(Time.GetUtcNow(), default)).Pending, j => Assert.Equal(expected, j.WaitReason));
        await loop.FlushAsync();
        foreach (var id in new[] { "j2", "j3", "j4" })
            Assert.Equal(expected, (await Store.GetJobAsync(id, default))!.WaitReason); // committed: the API reads it from the database

        // A new leader reloads the reasons with the jobs, so an unchanged reason is not written again.
        var restarted = await OpenAsync();
        var reloaded = await restarted.OpenClusterStoreAsync([Offer], null, Time.GetUtcNow(), default);
        Assert.All((await reloaded.SnapshotAsync(Time.GetUtcNow(), default)).Pending, j => Assert.Equal(expected, j.WaitReason));

        // Started jobs lose their reason; the others keep theirs.
        await loop.OnJobExitedAsync("j0", succeeded: true, default);
        await loop.RunOnceAsync(default);
        await loop.FlushAsync();
        Assert.Equal(["j0", "j1", "j2"], backend.Started);
        Assert.Null((await Store.GetJobAsync("j2", default))!.WaitReason);
        Assert.Equal(expected, (await Store.GetJobAsync("j4", default))!.WaitReason);
        // Only pending jobs take a reason, whatever the caller passes.
        await ds.SetWaitReasonsAsync([new("j2", "stale"), new("nope", "x")], Time.GetUtcNow(), default);
        Assert.Null((await Store.GetJobAsync("j2", default))!.WaitReason);

        // A long queue's reasons span several multi-row statements; each job gets its own.
        for (var i = 0; i < 250; i++) await SubmitOkAsync(Store, Spec($"q{i}"));
        await ds.SyncAsync(Time.GetUtcNow(), default);
        await ds.SetWaitReasonsAsync(Enumerable.Range(0, 250).Select(i => new KeyValuePair<string, string>($"q{i}", $"reason {i}")).ToList(), Time.GetUtcNow(), default);
        var again = await (await OpenAsync()).OpenClusterStoreAsync([Offer], null, Time.GetUtcNow(), default);
        var byId = (await again.SnapshotAsync(Time.GetUtcNow(), default)).Pending.ToDictionary(j => j.Id, j => j.WaitReason);
        for (var i = 0; i < 250; i++) Assert.Equal($"reason {i}", byId[$"q{i}"]);
    }

    [StoreFact]
    public async Task OpenClusterStoreAsync_NodeLifecycleAndPreemption_ReloadsNodesWithStates()
    {
        await SeedTenancyAsync(Store);
        var (ds, loop, _) = await OpenLoopAsync(Store);
        var id = ds.NewNodeId();
        await ds.AddNodeAsync(Node.Create(id, Offer, Market.Spot, NodeState.Requested, Time.GetUtcNow()), default);
        await ds.AddNodeAsync(Node.Create(ds.NewNodeId(), Offer, Market.Spot, NodeState.Requested, Time.GetUtcNow()), default);
        Time.Advance(TimeSpan.FromMinutes(2));
        await loop.OnNodeReadyAsync(id, default);
        await SubmitOkAsync(Store, Spec("j1", gpus: 4));
        await ds.SyncAsync(Time.GetUtcNow(), default);
        await loop.RunOnceAsync(default);
        Assert.Equal(JobStatus.Running, (await ds.GetJobAsync("j1", default))!.Status);
        Time.Advance(TimeSpan.FromMinutes(30));
        await loop.OnNodeLostAsync(id, "spot reclaimed", default); // requeues j1 with 30 min of checkpointed work
        var before = await DescribeAsync(ds, Time.GetUtcNow());

        var reloaded = await (await OpenAsync()).OpenClusterStoreAsync([Offer], null, Time.GetUtcNow(), default);
        Assert.Equal(before, await DescribeAsync(reloaded, Time.GetUtcNow()));
        var j1 = (await reloaded.GetJobAsync("j1", default))!;
        Assert.Equal((JobStatus.Pending, 1, TimeSpan.FromMinutes(30)), (j1.Status, j1.Attempts, j1.WorkSaved));
        Assert.Equal("n000002", reloaded.NewNodeId()); // ids continue after a reload
        var all = await Store.ListNodesAsync(includeTerminated: true, default);
        Assert.Equal([NodeState.Terminated, NodeState.Requested], all.Select(n => n.Node.State));
        Assert.Single(await Store.ListNodesAsync(includeTerminated: false, default));
        var run = Assert.Single(await Store.ListRunsOfJobAsync("j1", default));
        Assert.Equal(RunOutcome.NodeLost, run.Outcome);
        Assert.NotNull((await reloaded.SnapshotAsync(Time.GetUtcNow(), default)).Spot.LastTrouble("us-east-1a", "V100"));
    }

    [StoreFact]
    public async Task SyncAsync_OtherReplicaSubmitsAndCancels_LeaderPicksUpBoth()
    {
        await SeedTenancyAsync(Store);
        var (ds, loop, backend) = await OpenLoopAsync(Store);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        var replica = await OpenAsync();
        await SubmitOkAsync(replica, Spec("run", gpus: 4));
        await SubmitOkAsync(replica, Spec("wait", gpus: 4));

        var sync = await ds.SyncAsync(Time.GetUtcNow(), default);
        Assert.Equal(["run", "wait"], sync.NewJobs.Select(j => j.Id));
        Assert.Empty(sync.CancelRequests);
        await loop.RunOnceAsync(default);
        Assert.Equal(["run"], backend.Started);
        Assert.Empty((await ds.SyncAsync(Time.GetUtcNow(), default)).NewJobs);

        Time.Advance(TimeSpan.FromMinutes(5));
        await replica.RequestCancelAsync("run", "wrong data", Time.GetUtcNow(), default);
        await replica.RequestCancelAsync("wait", "not needed", Time.GetUtcNow(), default);
        sync = await ds.SyncAsync(Time.GetUtcNow(), default);
        Assert.Equal(["run", "wait"], sync.CancelRequests.Select(c => c.JobId));
        foreach (var c in sync.CancelRequests) await loop.CancelAsync(c.JobId, c.Reason, default);
        Assert.Equal(["run"], backend.Stopped);
        Assert.Empty((await ds.SyncAsync(Time.GetUtcNow(), default)).CancelRequests);

        var run = (await replica.GetJobAsync("run", default))!;
        Assert.Equal((JobStatus.Cancelled, Time.GetUtcNow()), (run.Status, run.EndedAt));
        Assert.Equal(JobStatus.Cancelled, (await replica.GetJobAsync("wait", default))!.Status);
        Assert.Equal(RunOutcome.Cancelled, Assert.Single(await replica.ListRunsOfJobAsync("run", default)).Outcome);
        var freed = (await replica.ListNodesAsync(false, default))[0].Node.GpuFreeMilli;
        Assert.Equal(new[] { 1000, 1000, 1000, 1000 }, freed);
        Assert.Equal([EventKind.JobSubmitted, EventKind.JobStarted, EventKind.JobCancelRequested, EventKind.JobCancelled],
            (await replica.ListEventsAsync(new EventQuery { JobId = "run" }, default)).Items.Select(e => e.Event.Kind));
        Assert.Equal("wrong data", (await replica.ListEventsAsync(new EventQuery { JobId = "run" }, default)).Items[^1].Event.Message);
        // Cancelling again does nothing.
        Assert.Equal(JobStatus.Cancelled, (await loop.CancelAsync("run", "again", default))!.Status);
        Assert.Null(await loop.CancelAsync("nope", "x", default));
    }

    [StoreFact]
    public async Task OpenClusterStoreAsync_CancelRequestedBeforeTakeover_ReturnedAtFirstSync()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        var (ds, _, _) = await OpenLoopAsync(Store);
        await Store.RequestCancelAsync("j1", "x", Time.GetUtcNow(), default);
        // The old leader dies before syncing; the new leader must still see the request.
        var (ds2, loop2, _) = await OpenLoopAsync(await OpenAsync());
        Assert.Equal(["j1"], (await ds2.SyncAsync(Time.GetUtcNow(), default)).CancelRequests.Select(c => c.JobId));
        await loop2.CancelAsync("j1", "x", default);
        Assert.Equal(JobStatus.Cancelled, (await Store.GetJobAsync("j1", default))!.Status);
        Assert.NotNull(ds);
    }

    [StoreFact]
    public async Task SubmitAsync_Held_NeverStartedSurvivesRestartUntilReleasedByAnotherReplica()
    {
        await SeedTenancyAsync(Store);
        const string reason = "held: budget — lab nlp would reach $1500.00 of $1234.56 this month";
        var r = await Store.SubmitAsync(Spec("held"), "name: held\n", reason, Time.GetUtcNow(), default);
        Assert.True(r.Accepted, r.Reason);
        Assert.Equal(reason, r.Job!.Hold);
        await SubmitOkAsync(Store, Spec("free"));
        var (ds, loop, backend) = await OpenLoopAsync(Store);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        var plan = await loop.RunOnceAsync(default);
        Assert.Equal(["free"], backend.Started); // room for both (2 + 2 of 4 GPUs), only the free one starts
        Assert.Equal(reason, plan.WaitReasons["held"]);
        Assert.DoesNotContain(plan.Actions, a => a is ProvisionNode or RejectJob);
        Assert.Equal([JobStatus.Pending, JobStatus.Running], new[] { "held", "free" }.Select(id => Store.GetJobAsync(id, default).AsTask().Result!.Status));
        Assert.Equal(["held"], (await Store.ListJobsAsync(new JobQuery { Held = true }, default)).Items.Select(j => j.Id));
        Assert.Equal(["free"], (await Store.ListJobsAsync(new JobQuery { Held = false }, default)).Items.Select(j => j.Id));

        // Restart: the hold is durable; the new leader still skips the job.
        var restarted = await OpenAsync();
        var (ds2, loop2, backend2) = await OpenLoopAsync(restarted);
        Assert.Equal(reason, (await ds2.GetJobAsync("held", default))!.Hold);
        await loop2.RunOnceAsync(default);
        Assert.Empty(backend2.Started);

        // Another replica (the API) releases it; the leader picks that up at its next sync and starts it.
        var replica = await OpenAsync();
        Assert.Null(await replica.ReleaseHoldAsync("nope", "x", Time.GetUtcNow(), default));
        var released = await replica.ReleaseHoldAsync("held", "released by admin root", Time.GetUtcNow(), default);
        Assert.Null(released!.Hold);
        Assert.Null((await replica.ReleaseHoldAsync("held", "again", Time.GetUtcNow(), default))!.Hold); // idempotent, nothing recorded
        await ds2.SyncAsync(Time.GetUtcNow(), default);
        Assert.Null((await ds2.GetJobAsync("held", default))!.Hold);
        await loop2.RunOnceAsync(default);
        Assert.Equal(["held"], backend2.Started);
        Assert.Equal([EventKind.JobSubmitted, EventKind.JobHeld, EventKind.JobReleased, EventKind.JobStarted],
            (await replica.ListEventsAsync(new EventQuery { JobId = "held" }, default)).Items.Select(e => e.Event.Kind));
        Assert.NotNull(ds);
    }

    [StoreFact]
    public async Task ControlLoop_HoldAndRelease_RecordedAndWrittenThrough()
    {
        await SeedTenancyAsync(Store);
        await SubmitOkAsync(Store, Spec("j1"));
        var (ds, loop, backend) = await OpenLoopAsync(Store);
        await ds.AddNodeAsync(Node.Create("f1", Offer, Market.OnDemand, NodeState.Ready, Time.GetUtcNow(), isFixed: true), default);
        Assert.Equal("held: test", (await loop.HoldAsync("j1", "held: test", default))!.Hold);
        await loop.RunOnceAsync(default);
        Assert.Empty(backend.Started);
        Assert.Equal("held: test", (await (await OpenAsync()).GetJobAsync("j1", default))!.Hold); // written through
        await loop.ReleaseAsync("j1", "released: test", default);
        Assert.Null((await Store.GetJobAsync("j1", default))!.Hold);
        await loop.RunOnceAsync(default);
        Assert.Equal(["j1"], backend.Started);
        Assert.Null(await loop.HoldAsync("nope", "x", default));
        Assert.Null((await loop.HoldAsync("j1", "held: too late", default))!.Hold); // running: no hold
        Assert.Equal([EventKind.JobSubmitted, EventKind.JobHeld, EventKind.JobReleased, EventKind.JobStarted],
            (await Store.ListEventsAsync(new EventQuery { JobId = "j1" }, default)).Items.Select(e => e.Event.Kind));
    }

    // ---- leader lease ---------------------------------------------------------------------

    [StoreFact]
    public async Task TryAcquireLeaseAsync_HeldByAnother_NullUntilReleased()
    {
        var replica = await OpenAsync();
        var a = await Store.TryAcquireLeaseAsync("a", Time.GetUtcNow(), default);
        Assert.NotNull(a);
        Assert.Null(await replica.TryAcquireLeaseAsync("b", Time.GetUtcNow(), default));
        Assert.Null(await Store.TryAcquireLeaseAsync("a2", Time.GetUtcNow(), default));
        Assert.True(await a.CheckAsync(default));
        Assert.Equal("a", (await replica.GetLeaseInfoAsync(default))!.Holder);
        await a.DisposeAsync();
        await using var b = await replica.TryAcquireLeaseAsync("b", Time.GetUtcNow(), default);
        Assert.NotNull(b);
        Assert.Equal("b", (await Store.GetLeaseInfoAsync(default))!.Holder);
    }

    [StoreFact]
    public async Task TryAcquireLeaseAsync_HolderConnectionDies_OtherTakesOverAndHolderSeesLoss()
    {
        var replica = await OpenAsync();
        var a = await Store.TryAcquireLeaseAsync("a", Time.GetUtcNow(), default);
        Assert.NotNull(a);
        await KillLeaseConnectionAsync(a);
        ILeaderLease? b = null;
        for (var i = 0; i < 100 && b is null; i++)
        {
            b = await replica.TryAcquireLeaseAsync("b", Time.GetUtcNow(), default);
            if (b is null) await Task.Delay(50);
        }
        Assert.NotNull(b);
        Assert.False(await a.CheckAsync(default));
        Assert.True(a.Lost.IsCancellationRequested);
        Assert.True(await b.CheckAsync(default));
        await b.DisposeAsync();
        await a.DisposeAsync();
    }
}
