using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gureum.Persistence.Sql;

/// <summary>What differs between SQLite and PostgreSQL. Everything else is shared SQL.</summary>
internal abstract class Dialect
{
    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public abstract string Provider { get; }

    /// <summary>Where the database is, for messages (no password).</summary>
    public abstract string Describe { get; }

    /// <summary>Auto-increment primary key column type.</summary>
    public abstract string IdColumn { get; }

    public abstract string RealType { get; }

    /// <summary>A connection for reads (pooled).</summary>
    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>The group-commit writer's own connection.</summary>
    public virtual ValueTask<DbConnection> OpenWriterAsync(CancellationToken ct) => OpenAsync(ct);

    /// <summary>Begin a write transaction. Write transactions are serialized across every process
    /// using the database, so sequence numbers become visible in order (sync relies on it).</summary>
    public abstract ValueTask<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct);

    /// <summary>Begin a read transaction that sees one consistent snapshot.</summary>
    public abstract ValueTask<DbTransaction> BeginSnapshotAsync(DbConnection c, CancellationToken ct);

    /// <summary>Prepare an empty database (nothing for SQLite; nothing for PostgreSQL, whose database must exist).</summary>
    public virtual ValueTask InitializeAsync(CancellationToken ct) => ValueTask.CompletedTask;

    public abstract ValueTask<ILeaderLease?> TryAcquireLeaseAsync(string holder, ControlPlaneStoreOptions options, CancellationToken ct);

    /// <summary>A migration's SQL in this dialect.</summary>
    public string Render(string sql) => sql.Replace("{ID}", IdColumn, StringComparison.Ordinal).Replace("{REAL}", RealType, StringComparison.Ordinal);
}

internal sealed class SqliteDialect : Dialect
{
    private readonly string _path;
    private readonly string _cs;

    public SqliteDialect(string path)
    {
        _path = path;
        _cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public override string Provider => "sqlite";
    public override string Describe => _path;
    public override string IdColumn => "INTEGER PRIMARY KEY";
    public override string RealType => "REAL";
    public string LockPath => _path + ".lock";

    public override async ValueTask InitializeAsync(CancellationToken ct)
    {
        var dir = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_cs);
        try
        {
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();
            // Durable commits: in WAL mode FULL syncs the log on every commit (NORMAL would lose the
            // last commits on power loss). Foreign keys are per connection in SQLite.
            cmd.CommandText = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
            await cmd.ExecuteNonQueryAsync(ct);
            return c;
        }
        catch (SqliteException e)
        {
            await c.DisposeAsync();
            throw new StoreUnavailableException($"Cannot open SQLite database {_path}: {e.Message}", e);
        }
    }

    public override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct)
    {
        // BEGIN IMMEDIATE: take the write lock now, so two writers wait instead of failing on upgrade.
        return await ((SqliteConnection)c).BeginTransactionAsync(IsolationLevel.Serializable, ct);
    }

    public override async ValueTask<DbTransaction> BeginSnapshotAsync(DbConnection c, CancellationToken ct) =>
        await ((SqliteConnection)c).BeginTransactionAsync(IsolationLevel.Serializable, ct);

    public override ValueTask<ILeaderLease?> TryAcquireLeaseAsync(string holder, ControlPlaneStoreOptions options, CancellationToken ct) =>
        ValueTask.FromResult<ILeaderLease?>(FileLease.TryAcquire(LockPath, holder));
}

internal sealed class PostgresDialect : Dialect
{
    /// <summary>Advisory lock keys ("gureum" in ASCII, and +1).</summary>
    internal const long WriteLockKey = 0x67_75_72_65_75_6D;
    internal const long LeaseLockKey = WriteLockKey + 1;

    private readonly NpgsqlDataSource _source;
    private readonly NpgsqlConnectionStringBuilder _builder;

    public PostgresDialect(NpgsqlConnectionStringBuilder builder)
    {
        _builder = builder;
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public override string Provider => "postgres";
    public override string Describe => $"postgres://{_builder.Username}@{_builder.Host}:{_builder.Port}/{_builder.Database}";
    public override string IdColumn => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    public override string RealType => "DOUBLE PRECISION";

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        try { return await _source.OpenConnectionAsync(ct); }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StoreUnavailableException($"Cannot connect to {Describe}: {e.Message} To fix: check that PostgreSQL is running and the database exists (createdb).", e);
        }
    }

    public override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct)
    {
        var tx = await ((NpgsqlConnection)c).BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        await using var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k)", (NpgsqlConnection)c, (NpgsqlTransaction)tx);
        cmd.Parameters.AddWithValue("k", WriteLockKey);
        await cmd.ExecuteNonQueryAsync(ct);
        return tx;
    }

    public override async ValueTask<DbTransaction> BeginSnapshotAsync(DbConnection c, CancellationToken ct) =>
        await ((NpgsqlConnection)c).BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);

    public override async ValueTask<ILeaderLease?> TryAcquireLeaseAsync(string holder, ControlPlaneStoreOptions options, CancellationToken ct)
    {
        // A dedicated, unpooled connection: the session lock lives exactly as long as it does.
        var b = new NpgsqlConnectionStringBuilder(_builder.ConnectionString) { Pooling = false, ApplicationName = "gureum-lease:" + holder };
        var c = new NpgsqlConnection(b.ConnectionString);
        try
        {
            await c.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", c);
            cmd.Parameters.AddWithValue("k", LeaseLockKey);
            if (await cmd.ExecuteScalarAsync(ct) is true)
                return new PostgresLease(c, holder, options);
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
        {
            await c.DisposeAsync();
            throw new StoreUnavailableException($"Cannot connect to {Describe} for the leader lease: {e.Message}", e);
        }
        await c.DisposeAsync();
        return null;
    }
}
