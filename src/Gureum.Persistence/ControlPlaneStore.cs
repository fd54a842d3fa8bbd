using Gureum.Persistence.Sql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gureum.Persistence;

/// <summary>Options of a control-plane store.</summary>
public sealed record ControlPlaneStoreOptions
{
    /// <summary>Clock for lease checks and token creation times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Logging. Default: none.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Most writes committed in one transaction by the group-commit writer. Default 1,024.</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>How often a held leader lease verifies its connection (PostgreSQL). Default 2 s.</summary>
    public TimeSpan LeaseCheckInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>Opens the control-plane store named by a connection string.</summary>
public static class ControlPlaneStore
{
    /// <summary>
    /// Open (creating if needed) and migrate the database named by <paramref name="connectionString"/>:
    /// <c>sqlite:PATH</c> (the file and its folder are created), <c>postgres://user[:password]@host[:port]/database</c>,
    /// or an Npgsql connection string (<c>Host=…;Database=…;Username=…</c>). The PostgreSQL database must exist.
    /// Throws <see cref="ArgumentException"/> for a connection string it cannot read,
    /// <see cref="SchemaVersionException"/> for a database written by a newer Gureum and
    /// <see cref="StoreUnavailableException"/> when the database cannot be reached.
    /// </summary>
    public static async ValueTask<IControlPlaneStore> OpenAsync(string connectionString, ControlPlaneStoreOptions? options, CancellationToken ct)
    {
        options ??= new ControlPlaneStoreOptions();
        Dialect dialect = Parse(connectionString);
        var store = new SqlControlPlaneStore(dialect, options);
        try
        {
            await store.MigrateAsync(ct);
            await store.StartAsync(ct);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    internal static Dialect Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var cs = connectionString.Trim();
        if (cs.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = cs["sqlite:".Length..];
            if (path.Length == 0) throw new ArgumentException("The connection string 'sqlite:' names no file. To fix: give a path, e.g. sqlite:/var/lib/gureum/gureum.db.", nameof(connectionString));
            return new SqliteDialect(Path.GetFullPath(path));
        }
        if (cs.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || cs.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return new PostgresDialect(FromUri(cs));
        if (cs.Contains("Host=", StringComparison.OrdinalIgnoreCase) || cs.Contains("Server=", StringComparison.OrdinalIgnoreCase))
        {
            try { return new PostgresDialect(new NpgsqlConnectionStringBuilder(cs)); }
            catch (ArgumentException e) { throw new ArgumentException($"The PostgreSQL connection string is invalid: {e.Message} To fix: use Host=…;Port=…;Database=…;Username=….", nameof(connectionString), e); }
        }
        throw new ArgumentException(
            $"Unrecognized database '{Redact(cs)}'. To fix: use sqlite:PATH, postgres://user@host:port/database, or an Npgsql connection string (Host=…;Database=…;Username=…).",
            nameof(connectionString));
    }

    private static string Redact(string cs) => cs.Length > 40 ? cs[..40] + "…" : cs;

    private static NpgsqlConnectionStringBuilder FromUri(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || string.IsNullOrEmpty(u.Host))
            throw new ArgumentException("The postgres:// URL is invalid. To fix: use postgres://user[:password]@host[:port]/database.", nameof(uri));
        var b = new NpgsqlConnectionStringBuilder { Host = u.Host, Port = u.IsDefaultPort || u.Port < 0 ? 5432 : u.Port };
        var db = Uri.UnescapeDataString(u.AbsolutePath.Trim('/'));
        if (db.Length == 0) throw new ArgumentException("The postgres:// URL names no database. To fix: add it as the path, e.g. postgres://gureum@localhost:5432/gureum.", nameof(uri));
        b.Database = db;
        if (u.UserInfo.Length > 0)
        {
            var parts = u.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var kv in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = kv.Split('=', 2);
            var key = Uri.UnescapeDataString(p[0]);
            var value = p.Length == 2 ? Uri.UnescapeDataString(p[1]) : "";
            if (key.Equals("sslmode", StringComparison.OrdinalIgnoreCase)) key = "SSL Mode";
            try { b[key] = value; }
            catch (ArgumentException e) { throw new ArgumentException($"The postgres:// URL option '{key}' is not understood: {e.Message}", nameof(uri), e); }
        }
        return b;
    }
}
