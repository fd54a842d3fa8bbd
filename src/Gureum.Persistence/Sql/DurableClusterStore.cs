using System.Collections.Immutable;
using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;
using Gureum.Core.Planning;

namespace Gureum.Persistence.Sql;

/// <summary>
/// The leader's <see cref="IClusterStore"/>: the working set (pending and running jobs, alive
/// nodes) lives in an <see cref="InMemoryClusterStore"/> so snapshots stay cheap, and every
/// mutation is written through to the database (committed by the group-commit writer) before the
/// call returns. Reads never touch the database. Not thread-safe, like the loop that uses it.
/// </summary>
/// <remarks>
/// If a write fails the in-memory state is ahead of the database; the exception reaches the control
/// loop, whose host should drop this store and reload it with <see cref="IControlPlaneStore.OpenClusterStoreAsync"/>.
/// </remarks>
internal sealed class DurableClusterStore : IDurableClusterStore
{
    private readonly SqlControlPlaneStore _db;
    private readonly InMemoryClusterStore _mem;
    private readonly Dictionary<string, double> _quotas;
    private long _lastSeq;
    private long _lastCancel;
    private long _lastRelease;
    private List<CancelRequest> _carriedCancels;

    private DurableClusterStore(SqlControlPlaneStore db, IReadOnlyList<Offer> offers, DurableClusterStoreOptions options, Dictionary<string, double> quotas)
    {
        _db = db;
        _quotas = quotas;
        _mem = new InMemoryClusterStore(offers, new InMemoryStoreOptions
        {
            KeepEvents = false,
            FairShareHalfLife = options.FairShareHalfLife,
            LabWeights = options.LabWeights,
            LabGpuQuotas = quotas,
        });
        _carriedCancels = [];
    }

    /// <summary>The working set, for tests and diagnostics.</summary>
    internal InMemoryClusterStore Memory => _mem;

    public IReadOnlyList<Offer> Offers => _mem.Offers;

    public IReadOnlyDictionary<string, double> LabGpuQuotas => _quotas;

    /// <summary>Rebuild the working set from one consistent read of the database.</summary>
    internal static async ValueTask<DurableClusterStore> LoadAsync(SqlControlPlaneStore db, IReadOnlyList<Offer> offers, DurableClusterStoreOptions options, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.Dialect.OpenAsync(ct);
        await using var tx = await db.Dialect.BeginSnapshotAsync(c, ct);

        async ValueTask<List<T>> Q<T>(string sql, Func<System.Data.Common.DbDataReader, T> read)
        {
            await using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = sql;
            var list = new List<T>();
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) list.Add(read(r));
            return list;
        }

        var quotas = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (lab, max) in await Q("SELECT name, max_gpus FROM labs WHERE max_gpus IS NOT NULL", r => (r.GetString(0), r.Dbl(1))))
            quotas[lab] = max;
        var store = new DurableClusterStore(db, offers, options, quotas);

        var allIds = await Q("SELECT id FROM nodes", r => r.GetString(0));
        foreach (var node in await Q($"SELECT {SqlControlPlaneStore.NodeColumns} FROM nodes WHERE state <> 'Terminated' ORDER BY seq", SqlControlPlaneStore.ReadNode))
            store._mem.Restore(node);
        store._mem.SetNextNodeSeq(NextNodeSeq(allIds));

        var rows = await Q($"SELECT {SqlControlPlaneStore.JobColumns} FROM jobs WHERE status IN ('Pending', 'Running') ORDER BY seq", SqlControlPlaneStore.ReadJob);
        foreach (var row in rows)
        {
            store._mem.Restore(row.ToView(), now);
            if (row.Record.CancelRequested) store._carriedCancels.Add(new CancelRequest(row.Record.Id, "cancel requested before takeover", now));
        }
        foreach (var (zone, model, at) in await Q("SELECT zone, gpu_model, at FROM spot_trouble", r => (r.GetString(0), r.GetString(1), r.Time(2))))
            await store._mem.RecordSpotTroubleAsync(zone, model.Length == 0 ? null : model, at, ct);

        store._lastSeq = (await Q("SELECT COALESCE(MAX(seq), 0) FROM jobs", r => r.L(0)))[0];
        store._lastCancel = (await Q("SELECT COALESCE(MAX(id), 0) FROM cancel_requests", r => r.L(0)))[0];
        store._lastRelease = (await Q("SELECT COALESCE(MAX(id), 0) FROM hold_releases", r => r.L(0)))[0];
        await tx.CommitAsync(ct);
        return store;
    }

    /// <summary>The next number for <c>nNNNNNN</c> node ids after every id in the database.</summary>
    private static long NextNodeSeq(IEnumerable<string> ids)
    {
        long next = 0;
        foreach (var id in ids)
            if (id.Length > 1 && id[0] == 'n' && long.TryParse(id.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                next = Math.Max(next, n + 1);
        return next;
    }

    public async ValueTask<SyncResult> SyncAsync(DateTimeOffset now, CancellationToken ct)
    {
        var newRows = await _db.QueryAsync($"SELECT {SqlControlPlaneStore.JobColumns} FROM jobs WHERE seq > @s ORDER BY seq",
            c => c.P("s", _lastSeq), SqlControlPlaneStore.ReadJob, ct);
        var newJobs = new List<JobView>();
        foreach (var row in newRows)
        {
            _lastSeq = Math.Max(_lastSeq, row.Record.Seq);
            if (await _mem.GetJobAsync(row.Record.Id, ct) is not null || row.Record.Status != JobStatus.Pending) continue;
            var view = row.ToView();
            _mem.Restore(view, now);
            newJobs.Add(view);
        }
        var cancels = await _db.QueryAsync("SELECT id, job_id, reason, at FROM cancel_requests WHERE id > @c ORDER BY id",
            c => c.P("c", _lastCancel), r => (Id: r.L(0), Request: new CancelRequest(r.GetString(1), r.GetString(2), r.Time(3))), ct);
        var requests = new List<CancelRequest>();
        foreach (var request in _carriedCancels.Concat(cancels.Select(c => c.Request)))
            if (await _mem.GetJobAsync(request.JobId, ct) is { Status: JobStatus.Pending or JobStatus.Running } && !requests.Exists(r => r.JobId == request.JobId))
                requests.Add(request);
        _carriedCancels = [];
        foreach (var (id, _) in cancels) _lastCancel = Math.Max(_lastCancel, id);

        // Holds released through the API (any replica): already cleared in the database, clear them here.
        var releases = await _db.QueryAsync("SELECT id, job_id FROM hold_releases WHERE id > @r ORDER BY id",
            c => c.P("r", _lastRelease), r => (Id: r.L(0), JobId: r.GetString(1)), ct);
        foreach (var (id, jobId) in releases)
        {
            _lastRelease = Math.Max(_lastRelease, id);
            await _mem.SetHoldAsync(jobId, null, ct);
        }

        _quotas.Clear();
        foreach (var (lab, max) in await _db.QueryAsync("SELECT name, max_gpus FROM labs WHERE max_gpus IS NOT NULL", _ => { }, r => (r.GetString(0), r.Dbl(1)), ct))
            _quotas[lab] = max;
        return new SyncResult(newJobs, requests);
    }

    // ---- reads: the working set ------------------------------------------------------------

    public ValueTask<ClusterSnapshot> SnapshotAsync(DateTimeOffset now, CancellationToken ct) => _mem.SnapshotAsync(now, ct);
    public ValueTask<JobView?> GetJobAsync(string jobId, CancellationToken ct) => _mem.GetJobAsync(jobId, ct);
    public ValueTask<Node?> GetNodeAsync(string nodeId, CancellationToken ct) => _mem.GetNodeAsync(nodeId, ct);
    public ValueTask<IReadOnlyList<JobView>> JobsOnNodeAsync(string nodeId, CancellationToken ct) => _mem.JobsOnNodeAsync(nodeId, ct);
    public string NewNodeId() => _mem.NewNodeId();

    // ---- mutations: memory first, then the same change committed ---------------------------

    public async ValueTask<JobView> AddJobAsync(JobSpec spec, DateTimeOffset now, CancellationToken ct)
    {
        if (await _mem.GetJobAsync(spec.Id, ct) is not null) throw new InvalidOperationException($"Job {spec.Id} already exists.");
        var json = Db.ToJson(spec);
        var result = await _db.Writer.SubmitAsync(new SubmitBatch.Request(spec, json, json, now, CheckQuota: false), ct);
        if (!result.Accepted) throw new InvalidOperationException($"Job {spec.Id} was not added: {result.Reason}");
        var view = new JobView { Seq = result.Job!.Seq, Spec = spec, Status = JobStatus.Pending, QueuedSince = now };
        _mem.Restore(view, now);
        return view;
    }

    public async ValueTask<JobView> StartJobAsync(string jobId, IReadOnlyList<Placement> placements, DateTimeOffset now, CancellationToken ct)
    {
        var job = await _mem.StartJobAsync(jobId, placements, now, ct);
        var nodes = new List<Node>(placements.Count);
        foreach (var p in placements) nodes.Add((await _mem.GetNodeAsync(p.NodeId, ct))!);
        var model = Progress.SlowestModel(nodes);
        var placementsJson = Db.ToJson(placements);
        await WriteAsync(async w =>
        {
            await WriteJobAsync(w, job, model, ended: null);
            await SubmitBatch.AddQueuedAsync(w, job.Spec.Lab, -1);
            await w.Command("INSERT INTO job_runs (job_id, attempt, lab, user_name, project, start_at, placements, gpu_model) VALUES (@j, @a, @l, @u, @p, @s, @pl, @g)")
                .P("j", job.Id).P("a", (long)job.Attempts).P("l", job.Spec.Lab).P("u", job.Spec.User).P("p", job.Spec.Project)
                .P("s", Db.T(now)).P("pl", placementsJson).P("g", model).ExecAsync();
            await UpsertNodesAsync(w, Distinct(nodes));
            return 0;
        }, ct);
        return job;
    }

    public async ValueTask<JobView> EndRunAsync(string jobId, RunOutcome outcome, TimeSpan workSaved, DateTimeOffset now, CancellationToken ct)
    {
        var before = await _mem.GetJobAsync(jobId, ct) ?? throw new InvalidOperationException($"Job {jobId} is not in the working set.");
        var job = await _mem.EndRunAsync(jobId, outcome, workSaved, now, ct);
        var nodes = new List<Node>(before.Placements.Count);
        foreach (var p in before.Placements) nodes.Add((await _mem.GetNodeAsync(p.NodeId, ct))!);
        var ended = job.Status is JobStatus.Pending ? (DateTimeOffset?)null : now;
        await WriteAsync(async w =>
        {
            // A finished job keeps the placements of its last run for display; a requeued one has none.
            await WriteJobAsync(w, job, null, ended, keepPlacements: ended is not null);
            if (job.Status == JobStatus.Pending) await SubmitBatch.AddQueuedAsync(w, job.Spec.Lab, +1);
            await w.Command("UPDATE job_runs SET end_at = @e, outcome = @o WHERE job_id = @j AND attempt = @a")
                .P("e", Db.T(now)).P("o", outcome.ToString()).P("j", jobId).P("a", (long)before.Attempts).ExecAsync();
            await UpsertNodesAsync(w, Distinct(nodes));
            return 0;
        }, ct);
        return job;
    }

    public async ValueTask<JobView?> CancelJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var before = await _mem.GetJobAsync(jobId, ct);
        var job = await _mem.CancelJobAsync(jobId, reason, now, ct);
        if (job is null || before?.Status != JobStatus.Pending) return job;
        await WriteAsync(async w =>
        {
            await WriteJobAsync(w, job, null, now);
            await SubmitBatch.AddQueuedAsync(w, job.Spec.Lab, -1);
            return 0;
        }, ct);
        return job;
    }

    public async ValueTask<JobView?> SetHoldAsync(string jobId, string? hold, CancellationToken ct)
    {
        var before = await _mem.GetJobAsync(jobId, ct);
        var job = await _mem.SetHoldAsync(jobId, hold, ct);
        if (job is null || before is not { Status: JobStatus.Pending } || before.Hold == hold) return job;
        await WriteAsync(async w => await w.Command("UPDATE jobs SET hold = @h WHERE id = @i").P("h", hold).P("i", jobId).ExecAsync(), ct);
        return job;
    }

    public async ValueTask SetWaitReasonsAsync(IReadOnlyList<KeyValuePair<string, string>> reasons, DateTimeOffset now, CancellationToken ct)
    {
        var changed = new List<KeyValuePair<string, string>>(reasons.Count);
        foreach (var (id, reason) in reasons)
            if (await _mem.GetJobAsync(id, ct) is { Status: JobStatus.Pending } job && job.WaitReason != reason) changed.Add(new(id, reason));
        if (changed.Count == 0) return;
        await _mem.SetWaitReasonsAsync(changed, now, ct);
        // One transaction for the whole batch; a job another writer already moved on keeps its state.
        await WriteAsync(async w =>
        {
            // Many rows per statement: a long queue's changed reasons cost a few statements, not one each.
            for (var from = 0; from < changed.Count; from += WaitReasonRowsPerStatement)
            {
                var n = Math.Min(WaitReasonRowsPerStatement, changed.Count - from);
                var cmd = w.Command(WaitReasonUpsert(n));
                for (var k = 0; k < n; k++) cmd.P($"i{k}", changed[from + k].Key).P($"r{k}", changed[from + k].Value);
                await cmd.ExecAsync();
            }
            return 0;
        }, ct);
    }

    public async ValueTask RejectJobAsync(string jobId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var before = await _mem.GetJobAsync(jobId, ct);
        await _mem.RejectJobAsync(jobId, reason, now, ct);
        if (before?.Status != JobStatus.Pending) return;
        var job = (await _mem.GetJobAsync(jobId, ct))!;
        await WriteAsync(async w =>
        {
            await WriteJobAsync(w, job, null, now);
            await SubmitBatch.AddQueuedAsync(w, job.Spec.Lab, -1);
            return 0;
        }, ct);
    }

    public async ValueTask AddNodeAsync(Node node, CancellationToken ct)
    {
        await _mem.AddNodeAsync(node, ct);
        await WriteNodeAsync(node, ct);
    }

    public async ValueTask<Node> SetNodeStateAsync(string nodeId, NodeState state, DateTimeOffset now, CancellationToken ct)
    {
        var node = await _mem.SetNodeStateAsync(nodeId, state, now, ct);
        await WriteNodeAsync(node, ct);
        return node;
    }

    /// <summary>Upserts a node's row: at once, or with the deferral scope's other node rows.</summary>
    private Task WriteNodeAsync(Node node, CancellationToken ct)
    {
        if (_deferred.Value is not { } scope) return _db.Writer.RunAsync(async w => { await UpsertNodesAsync(w, [node]); return 0; }, ct);
        scope.Node(node);
        return Task.CompletedTask;
    }

    public async ValueTask RecordSpotTroubleAsync(string zone, string? gpuModel, DateTimeOffset at, CancellationToken ct)
    {
        await _mem.RecordSpotTroubleAsync(zone, gpuModel, at, ct);
        await WriteAsync(async w =>
            await w.Command("INSERT INTO spot_trouble (zone, gpu_model, at) VALUES (@z, @g, @t) ON CONFLICT (zone, gpu_model) DO UPDATE SET at = excluded.at")
                .P("z", zone).P("g", gpuModel ?? "").P("t", Db.T(at)).ExecAsync(), ct);
    }

    public async ValueTask AppendEventAsync(ClusterEvent e, CancellationToken ct)
    {
        await _mem.AppendEventAsync(e, ct);
        if (_deferred.Value is { } scope) scope.Events.Add(e);
        else await _db.Writer.RunAsync(async w => { await SqlControlPlaneStore.InsertEventsAsync(w, [e]); return 0; }, ct);
    }

    private const int WaitReasonRowsPerStatement = 100;
    private static readonly string?[] WaitReasonUpserts = new string?[WaitReasonRowsPerStatement + 1];

    /// <summary>The statement that sets the wait reason of <paramref name="rows"/> jobs (parameters
    /// i0, r0, i1, r1, …; each job once) in their own narrow table, where a change does not rewrite
    /// the wide job row; one text per row count, so prepared statements are reused. A reason is read
    /// only while its job is pending, so a job another writer already moved on shows none.</summary>
    private static string WaitReasonUpsert(int rows) => WaitReasonUpserts[rows] ??=
        "INSERT INTO job_wait_reasons (job_id, reason) VALUES " +
        string.Join(", ", Enumerable.Range(0, rows).Select(k => $"(@i{k}, @r{k})")) +
        " ON CONFLICT (job_id) DO UPDATE SET reason = excluded.reason";

    // The deferral scope of this logical flow (null when not deferring).
    private readonly AsyncLocal<Deferral?> _deferred = new();

    /// <inheritdoc />
    /// <remarks>The scope's writes are queued as one transaction when it ends (one commit, one log
    /// flush), node rows and events many rows per statement (a node touched twice is written once,
    /// in its last state).</remarks>
    public IAsyncDisposable DeferCommits()
    {
        if (_deferred.Value is not null) return NoDeferral.Instance; // joins the outer scope
        var scope = new Deferral(this);
        _deferred.Value = scope;
        return scope;
    }

    /// <summary>Queues a write and waits for its commit, or adds it to this flow's deferral scope.</summary>
    private Task WriteAsync<T>(Func<WriteContext, ValueTask<T>> op, CancellationToken ct)
    {
        if (_deferred.Value is not { } scope) return _db.Writer.RunAsync(op, ct);
        scope.Ops.Add(async w => { await op(w); return 0; });
        return Task.CompletedTask;
    }

    private sealed class Deferral(DurableClusterStore store) : IAsyncDisposable
    {
        private readonly List<Node> _nodes = [];
        private readonly Dictionary<string, int> _nodeIndex = new(StringComparer.Ordinal);

        /// <summary>Writes in the order they were made.</summary>
        public List<Func<WriteContext, ValueTask<int>>> Ops { get; } = [];
        public List<ClusterEvent> Events { get; } = [];

        public void Node(Node node)
        {
            if (_nodeIndex.TryGetValue(node.Id, out var i)) _nodes[i] = node;
            else
            {
                _nodeIndex[node.Id] = _nodes.Count;
                _nodes.Add(node);
            }
        }

        // Not async: the AsyncLocal must be cleared in the caller's flow, not in a copy of it.
        public ValueTask DisposeAsync()
        {
            if (ReferenceEquals(store._deferred.Value, this)) store._deferred.Value = null;
            if (Ops.Count == 0 && _nodes.Count == 0 && Events.Count == 0) return ValueTask.CompletedTask;
            var ops = Ops.ToArray();
            var nodes = _nodes.ToArray();
            var events = Events.ToArray();
            return new ValueTask(store._db.Writer.RunAsync(async w =>
            {
                foreach (var op in ops) await op(w);
                await UpsertNodesAsync(w, nodes);
                await SqlControlPlaneStore.InsertEventsAsync(w, events);
                return 0;
            }, CancellationToken.None));
        }
    }

    private static async ValueTask WriteJobAsync(WriteContext w, JobView job, string? gpuModel, DateTimeOffset? ended, bool keepPlacements = false)
    {
        var placements = job.Placements.Count > 0 ? Db.ToJson(job.Placements) : null;
        var sql = "UPDATE jobs SET status = @st, attempts = @a, work_saved = @ws, queued_since = @q, first_started_at = @f, run_started_at = @r, " +
                  "ended_at = @e" +
                  (keepPlacements ? "" : ", placements = @pl") +
                  (gpuModel is null ? "" : ", gpu_model = @g") +
                  " WHERE id = @id";
        var cmd = w.Command(sql)
            .P("st", job.Status.ToString()).P("a", (long)job.Attempts).P("ws", job.WorkSaved.Ticks).P("q", Db.T(job.QueuedSince))
            .P("f", Db.T(job.FirstStartedAt)).P("r", Db.T(job.RunStartedAt)).P("e", Db.T(ended)).P("id", job.Id);
        if (!keepPlacements) cmd.P("pl", placements);
        if (gpuModel is not null) cmd.P("g", gpuModel);
        await cmd.ExecAsync();
        if (job.WaitReason is null)
            await w.Command("DELETE FROM job_wait_reasons WHERE job_id = @id").P("id", job.Id).ExecAsync();
        else
            await w.Command(WaitReasonUpsert(1)).P("i0", job.Id).P("r0", job.WaitReason).ExecAsync();
    }

    /// <summary>Each node once (a gang job may hold several slices of one node).</summary>
    private static IReadOnlyList<Node> Distinct(List<Node> nodes) => nodes.Count < 2 ? nodes : nodes.DistinctBy(n => n.Id, StringComparer.Ordinal).ToList();

    private const int NodeRowsPerStatement = 32;
    private static readonly string?[] NodeUpserts = new string?[NodeRowsPerStatement + 1];
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Offer, string> OfferJson = new();

    /// <summary>Inserts or updates node rows, up to <see cref="NodeRowsPerStatement"/> per statement
    /// (parameters suffixed by the row number; one text per row count, so statements stay prepared).
    /// The caller passes each node once (PostgreSQL refuses a statement that updates a row twice).</summary>
    private static async ValueTask UpsertNodesAsync(WriteContext w, IReadOnlyList<Node> nodes)
    {
        for (var from = 0; from < nodes.Count; from += NodeRowsPerStatement)
        {
            var rows = Math.Min(NodeRowsPerStatement, nodes.Count - from);
            var cmd = w.Command(NodeUpserts[rows] ??= NodeUpsert(rows));
            for (var k = 0; k < rows; k++)
            {
                var n = nodes[from + k];
                var offerJson = OfferJson.GetValue(n.Offer, o => Db.ToJson(o)); // offers are immutable and shared by many nodes
                cmd.P($"id{k}", n.Id).P($"oi{k}", n.Offer.Id).P($"oj{k}", offerJson).P($"m{k}", n.Market.ToString()).P($"pr{k}", Db.Micros(n.Offer.PricePerHour(n.Market)))
                    .P($"st{k}", n.State.ToString()).P($"rq{k}", Db.T(n.RequestedAt)).P($"rd{k}", Db.T(n.ReadyAt)).P($"tm{k}", Db.T(n.TerminatedAt))
                    .P($"gf{k}", Db.ToJson(n.GpuFreeMilli)).P($"fc{k}", n.FreeCpus).P($"fm{k}", n.FreeMemoryGiB).P($"rj{k}", (long)n.RunningJobs)
                    .P($"is{k}", Db.T(n.IdleSince)).P($"fx{k}", n.Fixed ? 1L : 0L);
            }
            await cmd.ExecAsync();
        }
    }

    private static string NodeUpsert(int rows) =>
        "INSERT INTO nodes (id, offer_id, offer_json, market, price_micros, state, requested_at, ready_at, terminated_at, gpu_free, free_cpus, free_memory_gib, running_jobs, idle_since, fixed) VALUES " +
        string.Join(", ", Enumerable.Range(0, rows).Select(k => $"(@id{k}, @oi{k}, @oj{k}, @m{k}, @pr{k}, @st{k}, @rq{k}, @rd{k}, @tm{k}, @gf{k}, @fc{k}, @fm{k}, @rj{k}, @is{k}, @fx{k})")) +
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, ready_at = excluded.ready_at, terminated_at = excluded.terminated_at, gpu_free = excluded.gpu_free, " +
        "free_cpus = excluded.free_cpus, free_memory_gib = excluded.free_memory_gib, running_jobs = excluded.running_jobs, idle_since = excluded.idle_since";
}
