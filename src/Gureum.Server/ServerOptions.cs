namespace Gureum.Server;

/// <summary>Configuration of <c>gureum serve</c>. Validated by <see cref="Validate"/> at start-up.</summary>
public sealed record ServerOptions
{
    /// <summary>Addresses Kestrel listens on. Default <c>http://127.0.0.1:8080</c> (loopback only).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Data directory: the SQLite database, job logs and work dirs. Default
    /// <see cref="DefaultDataDir"/> (<c>$XDG_DATA_HOME/gureum</c> or <c>~/.local/share/gureum</c>).</summary>
    public string DataDir { get; init; } = DefaultDataDir();

    /// <summary>Database: <c>sqlite:PATH</c> or <c>postgres://…</c> / an Npgsql connection string.
    /// Default null = <c>sqlite:DATA/gureum.db</c>.</summary>
    public string? Db { get; init; }

    /// <summary>Backend: <c>local</c> (this machine, real processes) or <c>sim</c> (the simulated
    /// cloud in live time). Default <c>local</c>.</summary>
    public string Backend { get; init; } = "local";

    /// <summary>Autoscaling policy name (see <c>PolicyCatalog.Names</c>). Default <c>static</c>
    /// for the local backend (its one node is all there is) and <c>reactive</c> for sim.</summary>
    public string? Policy { get; init; }

    /// <summary>Longest time between two decisions when nothing signals the loop. Default 1 s.
    /// Submissions, cancels, job exits and node changes wake the loop at once.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a replica that does not lead tries to take the leader lease. Default
    /// 250 ms: with PostgreSQL releasing a dead leader's advisory lock as soon as its connection
    /// drops, this is most of the takeover time.</summary>
    public TimeSpan LeaseRetry { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Largest request body accepted, in bytes. Default 1 MiB; a bigger body gets 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Accounting price of the local machine in USD per hour (local backend; default 0:
    /// already paid for). Set it to charge labs for the machine's time so budgets apply.</summary>
    public decimal LocalPricePerHour { get; init; }

    /// <summary>How often the leader evaluates lab budgets for threshold alerts.</summary>
    public TimeSpan BudgetCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The clock the server runs on (control loop, store, API). The system clock; a test
    /// that starts the server in process may give one it moves forward itself (hours of history in seconds).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The database connection string actually used.</summary>
    public string EffectiveDb => Db ?? $"sqlite:{Path.Combine(DataDir, "gureum.db")}";

    /// <summary>The effective policy name.</summary>
    public string EffectivePolicy => Policy ?? (Backend == "sim" ? "reactive" : "static");

    /// <summary>Where per-user data lives by default: <c>$XDG_DATA_HOME/gureum</c>, else the
    /// platform's local application data folder (<c>~/.local/share</c> on Linux) + <c>gureum</c>.</summary>
    public static string DefaultDataDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(root))
            root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "gureum");
    }

    /// <summary>Every problem with these options, each saying how to fix it; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Backend is not ("local" or "sim"))
            errors.Add($"--backend '{Backend}' is not known. To fix: use 'local' or 'sim'.");
        if (Tick <= TimeSpan.Zero || Tick > TimeSpan.FromMinutes(10))
            errors.Add($"--tick {Tick} is out of range. To fix: give a duration between 10ms and 10m, e.g. 1s.");
        if (LocalPricePerHour < 0)
            errors.Add($"--local-price {LocalPricePerHour} is negative. To fix: give USD per hour of 0 or more, e.g. --local-price 2.5.");
        if (MaxRequestBodyBytes < 1024)
            errors.Add("the request body limit must be at least 1 KiB.");
        foreach (var u in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                errors.Add($"--urls '{u}' is not an http(s) URL. To fix: e.g. http://127.0.0.1:8080.");
        return errors;
    }
}
