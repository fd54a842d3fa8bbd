using System.Diagnostics;
using System.Globalization;

namespace Gureum.Server.Tests.Fixtures;

/// <summary>
/// A throw-away PostgreSQL 15 server: <c>initdb</c> into a temp directory and <c>pg_ctl start</c>
/// on a free loopback port, run as the <c>postgres</c> user when the tests run as root (PostgreSQL
/// refuses root). Stopped and deleted on dispose. <see cref="CreateDatabaseAsync"/> gives each test
/// a fresh database. Binaries: <c>GUREUM_PG_BIN</c>, else the newest /usr/lib/postgresql/N/bin.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private string? _dir;
    private int _dbs;

    /// <summary>Directory of initdb/pg_ctl/psql.</summary>
    public static string BinDir { get; } = Environment.GetEnvironmentVariable("GUREUM_PG_BIN") ?? FindBinDir();

    private static string FindBinDir()
    {
        var root = "/usr/lib/postgresql";
        var found = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return found ?? "/usr/lib/postgresql/15/bin";
    }

    /// <summary>Whether PostgreSQL binaries are installed here.</summary>
    public static bool Available => File.Exists(Path.Combine(BinDir, "pg_ctl"));

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    private static bool IsRoot => Environment.UserName == "root";

    public async Task InitializeAsync()
    {
        if (!Available) return;
        _dir = Directory.CreateTempSubdirectory("gureum-pg-").FullName;
        var data = Path.Combine(_dir, "data");
        if (IsRoot) await RunAsync("chown", ["-R", "postgres:postgres", _dir]);
        Port = ServerProcess.FreePort();
        await PgAsync("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await PgAsync("pg_ctl", ["-D", data, "-l", Path.Combine(_dir, "log"), "-w", "-o",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200", "start"]);
    }

    /// <summary>A new empty database; returns its <c>postgres://</c> URL.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"gureum_{Interlocked.Increment(ref _dbs)}";
        await PgAsync("createdb", ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", name]);
        return $"postgres://postgres@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{name}";
    }

    public async Task DisposeAsync()
    {
        if (_dir is null) return;
        try { await PgAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"]); }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static Task PgAsync(string tool, string[] args) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDir, tool), .. args]) : RunAsync(Path.Combine(BinDir, tool), args);

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stdout}{await stderr}");
    }
}

/// <summary>A test that needs PostgreSQL: skipped when its binaries are absent, except under CI=true where it runs (and fails).</summary>
public sealed class RequiresPostgresFactAttribute : FactAttribute
{
    public RequiresPostgresFactAttribute()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!PostgresFixture.Available && !ci)
            Skip = $"PostgreSQL not found in {PostgresFixture.BinDir}. To fix: apt-get install postgresql-15 (or set GUREUM_PG_BIN).";
    }
}
