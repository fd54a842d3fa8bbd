using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gureum.Persistence.Sql;

/// <summary>
/// The single writer: every write of the store is queued here and the writer commits whatever is
/// queued in one transaction (group commit), so concurrent submitters share one log flush. A write
/// completes only after its transaction committed. If a batch fails, each of its writes is retried
/// in a transaction of its own, so one bad write fails alone.
/// </summary>
internal sealed partial class GroupCommitWriter : IAsyncDisposable
{
    private readonly Dialect _dialect;
    private readonly int _maxBatch;
    private readonly ILogger _log;
    private readonly Channel<WriteItem> _queue = Channel.CreateUnbounded<WriteItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private DbConnection? _connection;

    // Commands survive across batches on the writer's connection, so SQLite keeps them prepared.
    // Cleared with the connection.
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    public GroupCommitWriter(Dialect dialect, int maxBatch, ILogger log)
    {
        _dialect = dialect;
        _maxBatch = Math.Max(1, maxBatch);
        _log = log;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Batches committed so far.</summary>
    public long Batches { get; private set; }

    /// <summary>Writes committed so far.</summary>
    public long Writes { get; private set; }

    /// <summary>Queue a job submission; consecutive submissions in a batch are inserted together
    /// (a few statements per batch, not per job). Completes after commit.</summary>
    public Task<SubmitResult> SubmitAsync(SubmitBatch.Request request, CancellationToken ct)
    {
        var item = new SubmitItem(request, ct);
        if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(GroupCommitWriter), "The store is closed.");
        return item.Task;
    }

    /// <summary>Run <paramref name="op"/> inside the next batch's transaction; completes after commit.
    /// The op must have no effect outside the database (it may be run twice: in the batch, then alone).</summary>
    public Task<T> RunAsync<T>(Func<WriteContext, ValueTask<T>> op, CancellationToken ct)
    {
        var item = new WriteItem<T>(op, ct);
        if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(GroupCommitWriter), "The store is closed.");
        return item.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteItem>(_maxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var item))
                if (!item.IsCancelled) batch.Add(item);
            if (batch.Count == 0) continue;
            try
            {
                await CommitAsync(batch);
                Batches++; // counted before the writers resume, so a writer that awaited its write sees it counted
                Writes += batch.Count;
                foreach (var item in batch) item.Complete();
            }
            catch (Exception e)
            {
                await ResetConnectionAsync();
                if (batch.Count == 1)
                {
                    batch[0].Fail(e);
                    continue;
                }
                LogBatchFailed(_log, batch.Count, e);
                foreach (var item in batch)
                {
                    try
                    {
                        await CommitAsync([item]);
                        Batches++;
                        Writes++;
                        item.Complete();
                    }
                    catch (Exception e1)
                    {
                        await ResetConnectionAsync();
                        item.Fail(e1);
                    }
                }
            }
        }
    }

    private async Task CommitAsync(List<WriteItem> batch)
    {
        _connection ??= await _dialect.OpenWriterAsync(CancellationToken.None);
        await using var tx = await _dialect.BeginWriteAsync(_connection, CancellationToken.None);
        if (_commands.Count > 512) ClearCommands();
        var ctx = new WriteContext(_connection, tx, _commands);
        {
            for (var i = 0; i < batch.Count;)
            {
                if (batch[i] is SubmitItem)
                {
                    var run = new List<SubmitItem>();
                    while (i < batch.Count && batch[i] is SubmitItem s) { run.Add(s); i++; }
                    var results = await SubmitBatch.ExecuteAsync(ctx, run.Select(r => r.Request).ToList());
                    for (var k = 0; k < run.Count; k++) run[k].Result = results[k];
                }
                else
                {
                    await batch[i].ExecuteAsync(ctx);
                    i++;
                }
            }
            await tx.CommitAsync();
        }
    }

    private void ClearCommands()
    {
        foreach (var c in _commands.Values) c.Dispose();
        _commands.Clear();
    }

    private async Task ResetConnectionAsync()
    {
        ClearCommands();
        if (_connection is null) return;
        try { await _connection.DisposeAsync(); } catch (Exception) { /* already broken */ }
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        await ResetConnectionAsync();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "A batch of {Count} writes failed; retrying each alone")]
    private static partial void LogBatchFailed(ILogger log, int count, Exception e);

    private abstract class WriteItem
    {
        public abstract bool IsCancelled { get; }
        public abstract ValueTask ExecuteAsync(WriteContext ctx);
        public abstract void Complete();
        public abstract void Fail(Exception e);
    }

    private sealed class SubmitItem(SubmitBatch.Request request, CancellationToken ct) : WriteItem
    {
        private readonly TaskCompletionSource<SubmitResult> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SubmitBatch.Request Request => request;
        public SubmitResult Result { get; set; }
        public Task<SubmitResult> Task => _tcs.Task;

        public override bool IsCancelled
        {
            get
            {
                if (!ct.IsCancellationRequested) return false;
                _tcs.TrySetCanceled(ct);
                return true;
            }
        }

        public override ValueTask ExecuteAsync(WriteContext ctx) => throw new InvalidOperationException("Submissions run through SubmitBatch.");
        public override void Complete() => _tcs.TrySetResult(Result);
        public override void Fail(Exception e) => _tcs.TrySetException(e);
    }

    private sealed class WriteItem<T>(Func<WriteContext, ValueTask<T>> op, CancellationToken ct) : WriteItem
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _tcs.Task;

        public override bool IsCancelled
        {
            get
            {
                if (!ct.IsCancellationRequested) return false;
                _tcs.TrySetCanceled(ct);
                return true;
            }
        }

        public override async ValueTask ExecuteAsync(WriteContext ctx) => _result = await op(ctx);
        public override void Complete() => _tcs.TrySetResult(_result);
        public override void Fail(Exception e) => _tcs.TrySetException(e);
    }
}

/// <summary>The open transaction a write runs in, with the writer's prepared commands and a cache of
/// per-batch facts (lab quotas and queue counts) that later writes in the same batch reuse.</summary>
internal sealed class WriteContext(DbConnection connection, DbTransaction transaction, Dictionary<string, DbCommand> commands)
{

    public DbConnection Connection => connection;
    public DbTransaction Transaction => transaction;

    /// <summary>Per-batch memo: lab name → (exists, max queued, queued now).</summary>
    public Dictionary<string, LabQueue> LabQueues { get; } = new(StringComparer.Ordinal);

    /// <summary>Job ids inserted in this batch (duplicates within a batch).</summary>
    public HashSet<string> JobIds { get; } = new(StringComparer.Ordinal);

    /// <summary>A command for <paramref name="sql"/> in this transaction, reused within the batch.</summary>
    public DbCommand Command(string sql)
    {
        if (!commands.TryGetValue(sql, out var cmd))
        {
            cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            commands[sql] = cmd;
        }
        cmd.Transaction = transaction;
        cmd.Parameters.Clear();
        return cmd;
    }
}

/// <summary>A lab's queue facts within one batch.</summary>
internal sealed class LabQueue
{
    public bool Exists;
    public long? MaxQueued;
    public long Queued;
}
