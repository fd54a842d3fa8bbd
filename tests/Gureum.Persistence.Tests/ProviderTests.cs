using Gureum.Persistence.Testing;

namespace Gureum.Persistence.Tests;

/// <summary>The conformance suite on SQLite: a fresh database file per test.</summary>
public sealed class SqliteStoreTests : StoreConformanceTests, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gureum-sqlite-" + Guid.NewGuid().ToString("N")[..12]);

    protected override Task<string> CreateDatabaseAsync()
    {
        Directory.CreateDirectory(_dir);
        return Task.FromResult("sqlite:" + Path.Combine(_dir, "db", "gureum.db"));
    }

    protected override async Task KillLeaseConnectionAsync(ILeaderLease lease) => await lease.DisposeAsync(); // closing the file is what process death does

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_HolderProcessKilled_TakenOver()
    {
        // A real other process holds the lock (flock(1) takes the same flock(2) lock .NET takes).
        var path = Path.Combine(_dir, "db", "gureum.db.lock");
        var psi = new System.Diagnostics.ProcessStartInfo("flock", ["-x", path, "-c", "echo locked; exec sleep 60"]) { RedirectStandardOutput = true };
        using var holder = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync()); // it holds the lock now
        Assert.Null(await Store.TryAcquireLeaseAsync("b", Time.GetUtcNow(), default));
        holder.Kill(entireProcessTree: true); // flock and the sleep that inherited its descriptor
        await holder.WaitForExitAsync();
        // SIGKILL of the child that holds the descriptor lands asynchronously: poll as a replica does.
        ILeaderLease? lease = null;
        for (var tries = 0; lease is null && tries < 50; tries++)
        {
            lease = await Store.TryAcquireLeaseAsync("b", Time.GetUtcNow(), default);
            if (lease is null) await Task.Delay(100);
        }
        Assert.NotNull(lease);
        await lease.DisposeAsync();
    }
}

/// <summary>Starts one PostgreSQL server for the PostgreSQL test class.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    internal TempPostgresServer? Server { get; private set; }

    public async Task InitializeAsync()
    {
        if (RequiresPostgresAttribute.SkipReason is not null) return;
        Server = await TempPostgresServer.StartAsync(fsync: false, default);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>The conformance suite on PostgreSQL: one server (initdb + pg_ctl on a temp folder and a
/// free loopback port) for the class, a fresh database per test.</summary>
[RequiresPostgres]
public sealed class PostgresStoreTests(PostgresFixture fixture) : StoreConformanceTests, IClassFixture<PostgresFixture>
{
    protected override Task<string> CreateDatabaseAsync() =>
        (fixture.Server ?? throw new InvalidOperationException("PostgreSQL did not start.")).CreateDatabaseAsync(default);

    protected override async Task KillLeaseConnectionAsync(ILeaderLease lease)
    {
        var pid = ((Gureum.Persistence.Sql.PostgresLease)lease).ProcessId;
        await using var c = new Npgsql.NpgsqlConnection(fixture.Server!.AdminConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT pg_terminate_backend(@p)", c);
        cmd.Parameters.AddWithValue("p", pid);
        Assert.Equal(true, await cmd.ExecuteScalarAsync());
    }

    [StoreFact]
    public async Task OpenAsync_UrlConnectionString_Works()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        await using var s = await ControlPlaneStore.OpenAsync($"postgres://{b.Username}@{b.Host}:{b.Port}/{b.Database}", null, default);
        Assert.Equal("postgres", s.Provider);
        Assert.Equal(SchemaInfo.CurrentVersion, await s.GetSchemaVersionAsync(default));
    }
}
