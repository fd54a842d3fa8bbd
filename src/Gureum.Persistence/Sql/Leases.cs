using Npgsql;

namespace Gureum.Persistence.Sql;

/// <summary>SQLite's lease: an exclusive lock on a file beside the database (flock on Linux),
/// released by the OS when the process dies. Single host only.</summary>
internal sealed class FileLease : ILeaderLease
{
    private readonly FileStream _file;
    private readonly CancellationTokenSource _lost = new();

    private FileLease(FileStream file, string holder)
    {
        _file = file;
        Holder = holder;
    }

    public string Holder { get; }
    public CancellationToken Lost => _lost.Token;

    public static FileLease? TryAcquire(string path, string holder)
    {
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; a second open fails.
            var f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            f.SetLength(0);
            var bytes = System.Text.Encoding.UTF8.GetBytes(holder + "\n");
            f.Write(bytes);
            f.Flush();
            return new FileLease(f, holder);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public ValueTask<bool> CheckAsync(CancellationToken ct) => ValueTask.FromResult(!_lost.IsCancellationRequested);

    public ValueTask DisposeAsync()
    {
        _lost.Cancel(); // not disposed: Lost stays readable after release
        _file.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>PostgreSQL's lease: a session advisory lock held on a dedicated connection. The server
/// releases it when the connection dies, so another replica can take over.</summary>
internal sealed class PostgresLease : ILeaderLease
{
    private readonly NpgsqlConnection _connection;
    private readonly CancellationTokenSource _lost = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ITimer _timer;
    private bool _disposed;

    public PostgresLease(NpgsqlConnection connection, string holder, ControlPlaneStoreOptions options)
    {
        _connection = connection;
        Holder = holder;
        _timer = options.Time.CreateTimer(_ => _ = CheckAsync(CancellationToken.None).AsTask(), null, options.LeaseCheckInterval, options.LeaseCheckInterval);
    }

    public string Holder { get; }
    public CancellationToken Lost => _lost.Token;

    /// <summary>The backend process id of the lease's connection (tests kill it).</summary>
    internal int ProcessId => _connection.ProcessID;

    public async ValueTask<bool> CheckAsync(CancellationToken ct)
    {
        if (_lost.IsCancellationRequested) return false;
        await _gate.WaitAsync(ct);
        try
        {
            if (_disposed) return false;
            // The session still answering means it still holds its session lock; confirm anyway.
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objid::bigint = @lo", _connection);
            cmd.Parameters.AddWithValue("lo", (long)(uint)(PostgresDialect.LeaseLockKey & 0xFFFF_FFFF));
            var held = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) > 0;
            if (!held) MarkLost();
            return held;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            MarkLost();
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void MarkLost()
    {
        try { _lost.Cancel(); } catch (ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        await _gate.WaitAsync();
        try
        {
            _disposed = true;
            MarkLost();
            await _connection.DisposeAsync(); // closing the session releases the lock
        }
        finally
        {
            _gate.Release();
        }
    }
}
