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
                foreach (var item in batch) item.Complete();
                Batches++;
                Writes += batch.Count;
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
                        item.Complete();
                        Batches++;
                        Writes++;
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
        var ctx = new WriteContext(_connection, tx);
        try
        {
            foreach (var item in batch) await item.ExecuteAsync(ctx);
            await tx.CommitAsync();
        }
        finally
        {
            ctx.Dispose();
        }
    }

    private async Task ResetConnectionAsync()
    {
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

/// <summary>The open transaction a write runs in, with a cache of prepared commands and of
/// per-batch facts (lab quotas and queue counts) that later writes in the same batch reuse.</summary>
internal sealed class WriteContext(DbConnection connection, DbTransaction transaction) : IDisposable
{
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    public DbConnection Connection => connection;
    public DbTransaction Transaction => transaction;

    /// <summary>Per-batch memo: lab name → (exists, max queued, queued now).</summary>
    public Dictionary<string, LabQueue> LabQueues { get; } = new(StringComparer.Ordinal);

    /// <summary>Job ids inserted in this batch (duplicates within a batch).</summary>
    public HashSet<string> JobIds { get; } = new(StringComparer.Ordinal);

    /// <summary>A command for <paramref name="sql"/> in this transaction, reused within the batch.</summary>
    public DbCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var cmd))
        {
            cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            cmd.Transaction = transaction;
            _commands[sql] = cmd;
        }
        cmd.Parameters.Clear();
        return cmd;
    }

    public void Dispose()
    {
        foreach (var c in _commands.Values) c.Dispose();
        _commands.Clear();
    }
}

/// <summary>A lab's queue facts within one batch.</summary>
internal sealed class LabQueue
{
    public bool Exists;
    public long? MaxQueued;
    public long Queued;
}
