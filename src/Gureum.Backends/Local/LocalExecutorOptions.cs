namespace Gureum.Backends.Local;

/// <summary>How the local backend isolates a job that names no image.</summary>
public enum LocalIsolation
{
    /// <summary>Bubblewrap when <c>bwrap</c> is on PATH, else a plain process. The default.</summary>
    Auto,
    /// <summary>A plain process (own session, cgroup limits when possible, nothing else).</summary>
    None,
    /// <summary>Bubblewrap, and refuse to start when <c>bwrap</c> is missing.</summary>
    Bubblewrap,
}

/// <summary>Options of <see cref="LocalExecutor"/>. Validated by <see cref="Validate"/> at construction.</summary>
public sealed record LocalExecutorOptions
{
    /// <summary>Directory holding one folder per job (<c>ROOT/JOB/work</c>, shared by its attempts, and
    /// <c>ROOT/JOB/attempt-N</c> with the logs and exit code of each run). Default:
    /// <c>$XDG_DATA_HOME/gureum/jobs</c> (<c>~/.local/share/gureum/jobs</c>).</summary>
    public string Root { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "gureum", "jobs");

    /// <summary>Most bytes kept of each of stdout and stderr per run. Default 64 MiB. Past the cap the
    /// first bytes are kept, one marker line is appended and the rest is read and discarded (the job
    /// never blocks on its output).</summary>
    public long LogCapBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Time between SIGTERM and SIGKILL when a job is stopped. Default 10 s.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a re-adopted process (not a child of this server) is checked for its exit,
    /// and how often a log follower looks for new output. Default 250 ms.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Isolation of jobs without an image. Default <see cref="LocalIsolation.Auto"/>.</summary>
    public LocalIsolation Isolation { get; init; } = LocalIsolation.Auto;

    /// <summary>Put jobs in cgroups with the memory and CPU of their request. Default true; when the
    /// machine does not allow it the executor logs why once and runs jobs without limits.</summary>
    public bool UseCgroups { get; init; } = true;

    /// <summary>cgroup mount point. Default <c>/sys/fs/cgroup</c>.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>Run jobs that name an image with Podman when it is installed. Default true. A job
    /// naming an image fails with a message when Podman is missing or disabled.</summary>
    public bool UsePodman { get; init; } = true;

    /// <summary>Extra <c>podman run</c> arguments. Default: <c>--ulimit nofile=4096:4096 --ulimit
    /// nproc=4096:4096</c>, because runc's default raises these limits and sandboxes without
    /// CAP_SYS_RESOURCE refuse that ("error setting rlimit").</summary>
    public IReadOnlyList<string> PodmanArgs { get; init; } = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

    /// <summary>Path of <c>bwrap</c>; null = look it up on PATH.</summary>
    public string? BwrapPath { get; init; }

    /// <summary>Path of <c>podman</c>; null = look it up on PATH.</summary>
    public string? PodmanPath { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Root)) throw new ArgumentException("LocalExecutorOptions.Root must name a directory.", nameof(Root));
        if (LogCapBytes < 1) throw new ArgumentException($"LocalExecutorOptions.LogCapBytes must be ≥ 1 (got {LogCapBytes}).", nameof(LogCapBytes));
        if (StopGracePeriod < TimeSpan.Zero) throw new ArgumentException("LocalExecutorOptions.StopGracePeriod cannot be negative.", nameof(StopGracePeriod));
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentException("LocalExecutorOptions.PollInterval must be positive.", nameof(PollInterval));
    }
}
