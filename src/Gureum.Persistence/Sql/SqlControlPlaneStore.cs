using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Microsoft.Extensions.Logging;

namespace Gureum.Persistence.Sql;

/// <summary>The control-plane store over SQL, shared by SQLite and PostgreSQL (see <see cref="Dialect"/>).</summary>
internal sealed partial class SqlControlPlaneStore(Dialect dialect, ControlPlaneStoreOptions options) : IControlPlaneStore
{
    internal const string JobColumns =
        "seq, id, status, spec_json, spec_text, submitted_at, first_started_at, ended_at, attempts, placements, gpu_model, " +
        "(SELECT w.reason FROM job_wait_reasons w WHERE w.job_id = jobs.id AND jobs.status = 'Pending'), " + // a pending job's reason
        "exit_code, cancel_requested, queued_since, run_started_at, work_saved, hold";

    private readonly ILogger _log = options.LoggerFactory.CreateLogger("Gureum.Persistence");
    private GroupCommitWriter? _writer;

    internal Dialect Dialect => dialect;
    internal ControlPlaneStoreOptions Options => options;
    internal GroupCommitWriter Writer => _writer ?? throw new InvalidOperationException("The store is not open.");

    public string Provider => dialect.Provider;

    internal ValueTask StartAsync(CancellationToken ct)
    {
        _writer = new GroupCommitWriter(dialect, options.MaxBatch, _log);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is { } w) await w.DisposeAsync();
        _writer = null;
    }

    // ---- schema ---------------------------------------------------------------------------

    public async ValueTask MigrateAsync(CancellationToken ct)
    {
        await dialect.InitializeAsync(ct);
        await using var c = await dialect.OpenAsync(ct);
        await using (var create = c.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
            await create.ExecAsync(ct);
        }
        var current = await ReadVersionAsync(c, null, ct);
        CheckNotNewer(current);
        for (var v = current + 1; v <= Migrations.Latest; v++)
        {
            await using var tx = await dialect.BeginWriteAsync(c, ct);
            // Another process may have migrated while we waited for the write lock.
            var now = await ReadVersionAsync(c, tx, ct);
            CheckNotNewer(now);
            if (now >= v) { await tx.CommitAsync(ct); continue; }
            await using (var cmd = c.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = dialect.Render(Migrations.All[v - 1]);
                await cmd.ExecAsync(ct);
            }
            await using (var cmd = c.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (@v, @t)";
                cmd.P("v", (long)v).P("t", Db.T(options.Time.GetUtcNow()));
                await cmd.ExecAsync(ct);
            }
            await tx.CommitAsync(ct);
            LogMigrated(_log, dialect.Describe, v);
        }
    }

    private void CheckNotNewer(int version)
    {
        if (version > Migrations.Latest)
            throw new SchemaVersionException(
                $"The database {dialect.Describe} is at schema version {version}, written by a newer Gureum; this Gureum knows schema versions up to {Migrations.Latest}. " +
                "To fix: run the newer Gureum that wrote it, or point --db at another database (this one was not changed).");
    }

    private static async ValueTask<int> ReadVersionAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return (int)await cmd.ScalarLongAsync(ct);
    }

    public async ValueTask<int> GetSchemaVersionAsync(CancellationToken ct)
    {
        await using var c = await dialect.OpenAsync(ct);
        return await ReadVersionAsync(c, null, ct);
    }

    // ---- tenancy --------------------------------------------------------------------------

    public ValueTask<bool> AddLabAsync(Lab lab, CancellationToken ct)
    {
        ValidateName(lab.Name, "lab");
        var now = Db.T(options.Time.GetUtcNow());
        return new(Writer.RunAsync(async w =>
        {
            var exists = w.Command("SELECT COUNT(*) FROM labs WHERE name = @n").P("n", lab.Name);
            if (await exists.ScalarLongAsync() > 0) return false;
            await w.Command("INSERT INTO labs (name, max_gpus, max_queued, budget_micros, alert_thresholds, created_at) VALUES (@n, @g, @q, @b, @a, @t)")
                .P("n", lab.Name).P("g", lab.MaxConcurrentGpus).P("q", (long?)lab.MaxQueuedJobs).P("b", Db.Micros(lab.MonthlyBudgetUsd))
                .P("a", ThresholdsText(lab.AlertThresholdsPercent)).P("t", now).ExecAsync();
            return true;
        }, ct));
    }

    public ValueTask<bool> UpdateLabAsync(Lab lab, CancellationToken ct) =>
        new(Writer.RunAsync(async w =>
            await w.Command("UPDATE labs SET max_gpus = @g, max_queued = @q, budget_micros = @b, alert_thresholds = @a WHERE name = @n")
                .P("n", lab.Name).P("g", lab.MaxConcurrentGpus).P("q", (long?)lab.MaxQueuedJobs).P("b", Db.Micros(lab.MonthlyBudgetUsd))
                .P("a", ThresholdsText(lab.AlertThresholdsPercent)).ExecAsync() > 0, ct));

    public async ValueTask<Lab?> GetLabAsync(string name, CancellationToken ct) =>
        (await QueryAsync("SELECT name, max_gpus, max_queued, budget_micros, alert_thresholds FROM labs WHERE name = @n", c => c.P("n", name), ReadLab, ct)).FirstOrDefault();

    public async ValueTask<IReadOnlyList<Lab>> ListLabsAsync(CancellationToken ct) =>
        await QueryAsync("SELECT name, max_gpus, max_queued, budget_micros, alert_thresholds FROM labs ORDER BY name", _ => { }, ReadLab, ct);

    private static Lab ReadLab(DbDataReader r) => new(r.GetString(0), r.NDbl(1), r.NL(2) is { } q ? (int)q : null, Db.Usd(r.NL(3)),
        r.S(4) is { } a ? a.Split(',').Select(v => decimal.Parse(v, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture)).ToList() : null);

    /// <summary>Alert thresholds as stored: percentages joined by commas ("50,80,100"); null for the default.</summary>
    private static string? ThresholdsText(IReadOnlyList<decimal>? percents) =>
        percents is null ? null : string.Join(',', percents.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public ValueTask<AddUserResult> AddUserAsync(User user, CancellationToken ct)
    {
        ValidateName(user.Name, "user");
        var now = Db.T(options.Time.GetUtcNow());
        return new(Writer.RunAsync(async w =>
        {
            if (await w.Command("SELECT COUNT(*) FROM labs WHERE name = @n").P("n", user.Lab).ScalarLongAsync() == 0) return AddUserResult.UnknownLab;
            if (await w.Command("SELECT COUNT(*) FROM users WHERE name = @n").P("n", user.Name).ScalarLongAsync() > 0) return AddUserResult.Exists;
            await w.Command("INSERT INTO users (name, lab, role, created_at) VALUES (@n, @l, @r, @t)")
                .P("n", user.Name).P("l", user.Lab).P("r", user.Role.ToString()).P("t", now).ExecAsync();
            return AddUserResult.Added;
        }, ct));
    }

    public async ValueTask<User?> GetUserAsync(string name, CancellationToken ct) =>
        (await QueryAsync("SELECT name, lab, role FROM users WHERE name = @n", c => c.P("n", name), ReadUser, ct)).FirstOrDefault();

    public async ValueTask<IReadOnlyList<User>> ListUsersAsync(string? lab, CancellationToken ct) =>
        lab is null
            ? await QueryAsync("SELECT name, lab, role FROM users ORDER BY name", _ => { }, ReadUser, ct)
            : await QueryAsync("SELECT name, lab, role FROM users WHERE lab = @l ORDER BY name", c => c.P("l", lab), ReadUser, ct);

    private static User ReadUser(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.E<Role>(2));

    public async ValueTask<NewToken?> CreateTokenAsync(string userName, DateTimeOffset now, CancellationToken ct)
    {
        var user = await GetUserAsync(userName, ct);
        if (user is null) return null;
        var secret = "gur_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = "t-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var ok = await Writer.RunAsync(async w =>
        {
            if (await w.Command("SELECT COUNT(*) FROM users WHERE name = @n").P("n", userName).ScalarLongAsync() == 0) return false;
            await w.Command("INSERT INTO tokens (id, user_name, hash, created_at) VALUES (@i, @u, @h, @t)")
                .P("i", id).P("u", userName).P("h", Hash(secret)).P("t", Db.T(now)).ExecAsync();
            return true;
        }, ct);
        return ok ? new NewToken(id, secret, user) : null;
    }

    public async ValueTask<User?> AuthenticateAsync(string token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token)) return null;
        return (await QueryAsync(
            "SELECT u.name, u.lab, u.role FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.hash = @h AND t.revoked_at IS NULL",
            c => c.P("h", Hash(token)), ReadUser, ct)).FirstOrDefault();
    }

    public ValueTask<bool> RevokeTokenAsync(string tokenId, CancellationToken ct)
    {
        var now = Db.T(options.Time.GetUtcNow());
        return new(Writer.RunAsync(async w =>
            await w.Command("UPDATE tokens SET revoked_at = @t WHERE id = @i AND revoked_at IS NULL").P("t", now).P("i", tokenId).ExecAsync() > 0, ct));
    }

    /// <summary>Hex SHA-256 of a token: what is stored.</summary>
    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void ValidateName(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100 || name.Any(char.IsControl))
            throw new ArgumentException($"A {what} name must be 1–100 printable characters; got '{name}'.", nameof(name));
    }

    // ---- jobs -----------------------------------------------------------------------------

    public ValueTask<SubmitResult> SubmitAsync(JobSpec spec, string specText, DateTimeOffset now, CancellationToken ct) =>
        SubmitAsync(spec, specText, null, now, ct);

    public async ValueTask<SubmitResult> SubmitAsync(JobSpec spec, string specText, string? hold, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var json = Db.ToJson(spec); // serialize outside the writer: the writer is the bottleneck
        return await Writer.SubmitAsync(new SubmitBatch.Request(spec, specText, json, now, CheckQuota: true, Hold: hold), ct);
    }

    public async ValueTask<JobRecord?> ReleaseHoldAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var found = await Writer.RunAsync(async w =>
        {
            string? status = null, hold = null;
            await using (var r = await w.Command("SELECT status, hold FROM jobs WHERE id = @i").P("i", jobId).ExecuteReaderAsync())
                if (await r.ReadAsync()) { status = r.GetString(0); hold = r.S(1); }
            if (status is null) return false;
            if (status != nameof(JobStatus.Pending) || hold is null) return true;
            await w.Command("UPDATE jobs SET hold = NULL WHERE id = @i").P("i", jobId).ExecAsync();
            await w.Command("INSERT INTO hold_releases (job_id, reason, at) VALUES (@i, @r, @t)").P("i", jobId).P("r", reason).P("t", Db.T(now)).ExecAsync();
            await InsertEventAsync(w, new ClusterEvent(now, EventKind.JobReleased, jobId, null, reason));
            return true;
        }, ct);
        return found ? await GetJobAsync(jobId, ct) : null;
    }

    internal static async ValueTask InsertEventAsync(WriteContext w, ClusterEvent e) => await InsertEventsAsync(w, [e]);

    private const int EventRowsPerStatement = 64;
    private static readonly string?[] EventInserts = new string?[EventRowsPerStatement + 1];

    /// <summary>Appends events in order, up to <see cref="EventRowsPerStatement"/> rows per statement.</summary>
    internal static async ValueTask InsertEventsAsync(WriteContext w, IReadOnlyList<ClusterEvent> events)
    {
        for (var from = 0; from < events.Count; from += EventRowsPerStatement)
        {
            var rows = Math.Min(EventRowsPerStatement, events.Count - from);
            var cmd = w.Command(EventInserts[rows] ??= "INSERT INTO events (at, kind, job_id, node_id, message) VALUES " +
                string.Join(", ", Enumerable.Range(0, rows).Select(k => $"(@a{k}, @k{k}, @j{k}, @n{k}, @m{k})")));
            for (var k = 0; k < rows; k++)
            {
                var e = events[from + k];
                cmd.P($"a{k}", Db.T(e.At)).P($"k{k}", e.Kind.ToString()).P($"j{k}", e.JobId).P($"n{k}", e.NodeId).P($"m{k}", e.Message);
            }
            await cmd.ExecAsync();
        }
    }

    public async ValueTask<JobRecord?> GetJobAsync(string jobId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {JobColumns} FROM jobs WHERE id = @i", c => c.P("i", jobId), r => ReadJob(r).Record, ct)).FirstOrDefault();

    public async ValueTask<Page<JobRecord>> ListJobsAsync(JobQuery query, CancellationToken ct)
    {
        var limit = Math.Clamp(query.Limit, 1, 1000);
        long? before = null;
        if (query.Cursor is { Length: > 0 } cur)
        {
            if (!long.TryParse(cur, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
                throw new ArgumentException($"The cursor '{cur}' is not one this server returned. To fix: pass the nextCursor of the previous page, or none for the first page.", nameof(query));
            before = b;
        }
        var sql = new StringBuilder($"SELECT {JobColumns} FROM jobs WHERE 1 = 1");
        if (query.Lab is not null) sql.Append(" AND lab = @lab");
        if (query.User is not null) sql.Append(" AND user_name = @user");
        var statuses = query.Statuses ?? [];
        for (var i = 0; i < statuses.Count; i++) sql.Append(i == 0 ? " AND status IN (" : ", ").Append("@s").Append(i).Append(i == statuses.Count - 1 ? ")" : "");
        if (query.Held is { } held) sql.Append(held ? " AND hold IS NOT NULL" : " AND hold IS NULL");
        if (before is not null) sql.Append(" AND seq < @before");
        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        var rows = await QueryAsync(sql.ToString(), c =>
        {
            if (query.Lab is not null) c.P("lab", query.Lab);
            if (query.User is not null) c.P("user", query.User);
            for (var i = 0; i < statuses.Count; i++) c.P("s" + i.ToString(CultureInfo.InvariantCulture), statuses[i].ToString());
            if (before is not null) c.P("before", before.Value);
            c.P("limit", (long)limit + 1);
        }, r => ReadJob(r).Record, ct);
        if (rows.Count <= limit) return new Page<JobRecord>(rows, null);
        var items = rows.Take(limit).ToList();
        return new Page<JobRecord>(items, items[^1].Seq.ToString(CultureInfo.InvariantCulture));
    }

    public async ValueTask<JobRecord?> RequestCancelAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var found = await Writer.RunAsync(async w =>
        {
            string? status = null;
            long requested = 0;
            await using (var r = await w.Command("SELECT status, cancel_requested FROM jobs WHERE id = @i").P("i", jobId).ExecuteReaderAsync())
                if (await r.ReadAsync()) { status = r.GetString(0); requested = r.L(1); }
            if (status is null) return false;
            if (status is not (nameof(JobStatus.Pending) or nameof(JobStatus.Running)) || requested != 0) return true;
            await w.Command("UPDATE jobs SET cancel_requested = 1 WHERE id = @i").P("i", jobId).ExecAsync();
            await w.Command("INSERT INTO cancel_requests (job_id, reason, at) VALUES (@i, @r, @t)").P("i", jobId).P("r", reason).P("t", Db.T(now)).ExecAsync();
            await InsertEventAsync(w, new ClusterEvent(now, EventKind.JobCancelRequested, jobId, null, reason));
            return true;
        }, ct);
        return found ? await GetJobAsync(jobId, ct) : null;
    }

    public async ValueTask<IReadOnlyDictionary<string, int>> CountQueuedByLabAsync(CancellationToken ct) =>
        (await QueryAsync("SELECT lab, COUNT(*) FROM jobs WHERE status = 'Pending' GROUP BY lab", _ => { }, r => (r.GetString(0), (int)r.L(1)), ct))
            .ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

    public async ValueTask<IReadOnlyDictionary<string, long>> RunningMilliGpusByLabAsync(CancellationToken ct)
    {
        var rows = await QueryAsync("SELECT lab, placements FROM jobs WHERE status = 'Running'", _ => { }, r => (r.GetString(0), r.S(1)), ct);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (lab, placements) in rows)
            result[lab] = result.GetValueOrDefault(lab) + (placements is null ? 0 : Db.FromJson<Placement[]>(placements).Sum(p => (long)p.MilliGpus));
        return result;
    }

    /// <summary>One jobs row, readable as the API's record or the control loop's view.</summary>
    internal sealed record JobRow(JobRecord Record, DateTimeOffset QueuedSince, DateTimeOffset? RunStartedAt, TimeSpan WorkSaved, IReadOnlyList<Placement> Placements)
    {
        public JobView ToView() => new()
        {
            Seq = Record.Seq,
            Spec = Record.Spec,
            Status = Record.Status,
            Attempts = Record.Attempts,
            WorkSaved = WorkSaved,
            RunStartedAt = Record.Status == JobStatus.Running ? RunStartedAt : null,
            FirstStartedAt = Record.StartedAt,
            QueuedSince = QueuedSince,
            Placements = Record.Status == JobStatus.Running ? Placements : [],
            WaitReason = Record.WaitReason,
            Hold = Record.Status == JobStatus.Pending ? Record.Hold : null,
        };
    }

    internal static JobRow ReadJob(DbDataReader r)
    {
        var placements = r.S(9) is { } p ? Db.FromJson<Placement[]>(p) : [];
        var record = new JobRecord
        {
            Seq = r.L(0),
            Spec = Db.FromJson<JobSpec>(r.GetString(3)),
            Status = r.E<JobStatus>(2),
            SpecText = r.GetString(4),
            SubmittedAt = r.Time(5),
            StartedAt = r.NTime(6),
            EndedAt = r.NTime(7),
            Attempts = (int)r.L(8),
            NodeIds = placements.Select(x => x.NodeId).ToArray(),
            GpuModel = r.S(10),
            WaitReason = r.S(11),
            ExitCode = r.NL(12) is { } x ? (int)x : null,
            CancelRequested = r.L(13) != 0,
            Hold = r.S(17),
            RunStartedAt = r.NTime(15),
            WorkSaved = TimeSpan.FromTicks(r.L(16)),
        };
        return new JobRow(record, r.Time(14), r.NTime(15), TimeSpan.FromTicks(r.L(16)), placements);
    }

    // ---- events, runs, nodes --------------------------------------------------------------

    public async ValueTask<Page<EventRecord>> ListEventsAsync(EventQuery query, CancellationToken ct)
    {
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var sql = "SELECT id, at, kind, job_id, node_id, message FROM events WHERE id > @after" + (query.JobId is null ? "" : " AND job_id = @job") + " ORDER BY id LIMIT @limit";
        var rows = await QueryAsync(sql, c =>
        {
            c.P("after", query.After ?? 0L).P("limit", (long)limit + 1);
            if (query.JobId is not null) c.P("job", query.JobId);
        }, ReadEvent, ct);
        if (rows.Count <= limit) return new Page<EventRecord>(rows, null);
        var items = rows.Take(limit).ToList();
        return new Page<EventRecord>(items, items[^1].Id.ToString(CultureInfo.InvariantCulture));
    }

    private static EventRecord ReadEvent(DbDataReader r) =>
        new(r.L(0), new ClusterEvent(r.Time(1), r.E<EventKind>(2), r.S(3), r.S(4), r.GetString(5)));

    internal const string NodeColumns =
        "id, offer_json, market, state, requested_at, ready_at, terminated_at, gpu_free, free_cpus, free_memory_gib, running_jobs, idle_since, fixed";

    internal static Node ReadNode(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Offer = Db.FromJson<Offer>(r.GetString(1)),
        Market = r.E<Market>(2),
        State = r.E<NodeState>(3),
        RequestedAt = r.Time(4),
        ReadyAt = r.NTime(5),
        TerminatedAt = r.NTime(6),
        GpuFreeMilli = Db.FromJson<int[]>(r.GetString(7)),
        FreeCpus = r.Dbl(8),
        FreeMemoryGiB = r.Dbl(9),
        RunningJobs = (int)r.L(10),
        IdleSince = r.NTime(11),
        Fixed = r.L(12) != 0,
    };

    public async ValueTask<IReadOnlyList<NodeRecord>> ListNodesAsync(bool includeTerminated, CancellationToken ct) =>
        await QueryAsync($"SELECT {NodeColumns} FROM nodes" + (includeTerminated ? "" : " WHERE state <> 'Terminated'") + " ORDER BY seq",
            _ => { }, r => new NodeRecord(ReadNode(r)), ct);

    public async ValueTask<IReadOnlyList<NodeRecord>> ListNodesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        await QueryAsync($"SELECT {NodeColumns} FROM nodes WHERE requested_at < @to AND (terminated_at IS NULL OR terminated_at >= @from) ORDER BY seq",
            c => c.P("from", Db.T(from)).P("to", Db.T(to)), r => new NodeRecord(ReadNode(r)), ct);

    private const string RunColumns = "job_id, attempt, lab, user_name, project, start_at, end_at, placements, gpu_model, outcome";

    public async ValueTask<IReadOnlyList<RunRecord>> ListRunsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        await QueryAsync($"SELECT {RunColumns} FROM job_runs WHERE start_at < @to AND (end_at IS NULL OR end_at >= @from) ORDER BY start_at, job_id, attempt",
            c => c.P("from", Db.T(from)).P("to", Db.T(to)), ReadRun, ct);

    public async ValueTask<IReadOnlyList<RunRecord>> ListRunsOfJobAsync(string jobId, CancellationToken ct) =>
        await QueryAsync($"SELECT {RunColumns} FROM job_runs WHERE job_id = @j ORDER BY attempt", c => c.P("j", jobId), ReadRun, ct);

    private static RunRecord ReadRun(DbDataReader r) => new()
    {
        JobId = r.GetString(0),
        Attempt = (int)r.L(1),
        Lab = r.GetString(2),
        User = r.GetString(3),
        Project = r.GetString(4),
        Start = r.Time(5),
        End = r.NTime(6),
        Placements = Db.FromJson<Placement[]>(r.GetString(7)),
        GpuModel = r.S(8),
        Outcome = r.IsDBNull(9) ? null : r.E<RunOutcome>(9),
    };

    // ---- run handles (contract A) ---------------------------------------------------------

    public async ValueTask SaveAsync(RunHandle handle, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handle);
        await Writer.RunAsync(async w =>
            await w.Command("INSERT INTO run_handles (job_id, backend, node_id, data, saved_at) VALUES (@j, @b, @n, @d, @t) " +
                            "ON CONFLICT (job_id) DO UPDATE SET backend = excluded.backend, node_id = excluded.node_id, data = excluded.data, saved_at = excluded.saved_at")
                .P("j", handle.JobId).P("b", handle.Backend).P("n", handle.NodeId).P("d", handle.Data).P("t", Db.T(handle.SavedAt)).ExecAsync(), ct);
    }

    public async ValueTask<IReadOnlyList<RunHandle>> ListAsync(string backend, CancellationToken ct) =>
        await QueryAsync("SELECT job_id, backend, node_id, data, saved_at FROM run_handles WHERE backend = @b ORDER BY job_id", c => c.P("b", backend),
            r => new RunHandle(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.Time(4)), ct);

    public async ValueTask DeleteAsync(string jobId, CancellationToken ct) =>
        await Writer.RunAsync(async w => await w.Command("DELETE FROM run_handles WHERE job_id = @j").P("j", jobId).ExecAsync(), ct);

    // ---- control loop store and lease -----------------------------------------------------

    public async ValueTask<IDurableClusterStore> OpenClusterStoreAsync(IReadOnlyList<Offer> offers, DurableClusterStoreOptions? storeOptions, DateTimeOffset now, CancellationToken ct) =>
        await DurableClusterStore.LoadAsync(this, offers, storeOptions ?? new DurableClusterStoreOptions(), now, ct);

    public async ValueTask<ILeaderLease?> TryAcquireLeaseAsync(string holder, DateTimeOffset now, CancellationToken ct)
    {
        var lease = await dialect.TryAcquireLeaseAsync(holder, options, ct);
        if (lease is null) return null;
        await Writer.RunAsync(async w =>
            await w.Command("INSERT INTO leader (id, holder, acquired_at) VALUES (1, @h, @t) ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at")
                .P("h", holder).P("t", Db.T(now)).ExecAsync(), ct);
        LogLeaseAcquired(_log, holder, dialect.Describe);
        return lease;
    }

    public async ValueTask<LeaseInfo?> GetLeaseInfoAsync(CancellationToken ct) =>
        (await QueryAsync("SELECT holder, acquired_at FROM leader WHERE id = 1", _ => { }, r => new LeaseInfo(r.GetString(0), r.Time(1)), ct)).FirstOrDefault();

    // ---- plumbing -------------------------------------------------------------------------

    internal async ValueTask<List<T>> QueryAsync<T>(string sql, Action<DbCommand> bind, Func<DbDataReader, T> read, CancellationToken ct)
    {
        await using var c = await dialect.OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        bind(cmd);
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(read(r));
        return list;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Migrated {Database} to schema version {Version}")]
    private static partial void LogMigrated(ILogger log, string database, int version);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "{Holder} holds the leader lease on {Database}")]
    private static partial void LogLeaseAcquired(ILogger log, string holder, string database);
}
