using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Gureum.Persistence.Testing;

/// <summary>
/// A throw-away PostgreSQL server for tests and benchmarks: <c>initdb</c> on a temporary folder,
/// <c>pg_ctl start</c> on a free loopback port, stopped and deleted on dispose. Runs the binaries
/// as user <c>postgres</c> (through <c>runuser</c>) when this process is root, since PostgreSQL
/// refuses to run as root. Binaries: <c>GUREUM_PG_BIN</c>, else the newest
/// <c>/usr/lib/postgresql/*/bin</c>, else <c>pg_ctl</c> on the PATH.
/// </summary>
internal sealed class TempPostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _root;
    private readonly string _data;
    private int _dbCounter;

    private TempPostgresServer(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        _data = Path.Combine(root, "data");
        Port = port;
    }

    public int Port { get; }

    /// <summary>Connection string of the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>The folder holding initdb and pg_ctl, or null with the reason when there is none.</summary>
    public static string? FindBinaries(out string why)
    {
        var env = Environment.GetEnvironmentVariable("GUREUM_PG_BIN");
        if (!string.IsNullOrEmpty(env))
        {
            why = $"GUREUM_PG_BIN={env} has no initdb";
            return File.Exists(Path.Combine(env, "initdb")) ? env : null;
        }
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var best = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(x => File.Exists(Path.Combine(x.Dir, "initdb")))
                .OrderByDescending(x => x.Version).FirstOrDefault();
            if (best.Dir is not null) { why = ""; return best.Dir; }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))) { why = ""; return dir; }
        why = "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on the PATH. To fix: apt-get install postgresql, or set GUREUM_PG_BIN to the folder holding initdb.";
        return null;
    }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Start a server. <paramref name="fsync"/> false makes it faster and not crash-safe (tests); true for benchmarks.</summary>
    public static async Task<TempPostgresServer> StartAsync(bool fsync, CancellationToken ct)
    {
        var bin = FindBinaries(out var why) ?? throw new InvalidOperationException(why);
        var root = Path.Combine(Path.GetTempPath(), "gureum-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        if (IsRoot && !OperatingSystem.IsWindows()) File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        var server = new TempPostgresServer(bin, root, FreePort());
        try
        {
            await server.RunAsync("initdb", ["-D", server._data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"], ct);
            await server.RunAsync("pg_ctl", ["-D", server._data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", "start",
                "-o", $"-p {server.Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync={(fsync ? "on" : "off")} -c max_connections=200"], ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Create a new empty database and return its Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken ct)
    {
        var name = "gureum_" + Interlocked.Increment(ref _dbCounter);
        await using var c = new NpgsqlConnection(AdminConnectionString);
        await c.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
        await cmd.ExecuteNonQueryAsync(ct);
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name};Include Error Detail=true";
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task RunAsync(string tool, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (IsRoot)
        {
            psi.FileName = "runuser";
            foreach (var a in (string[])["-u", "postgres", "--", Path.Combine(_bin, tool)]) psi.ArgumentList.Add(a);
        }
        else
        {
            psi.FileName = Path.Combine(_bin, tool);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0)
        {
            var log = Path.Combine(_root, "server.log");
            var tail = File.Exists(log) ? File.ReadAllText(log) : "";
            throw new InvalidOperationException($"{tool} failed with exit code {p.ExitCode}: {await stderr} {await stdout} {tail}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Directory.Exists(Path.Combine(_data, "global")))
                await RunAsync("pg_ctl", ["-D", _data, "-m", "immediate", "-w", "stop"], CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // not running
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
