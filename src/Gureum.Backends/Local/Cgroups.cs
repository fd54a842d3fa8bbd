using System.Globalization;

namespace Gureum.Backends.Local;

/// <summary>Which cgroup hierarchy the machine has.</summary>
public enum CgroupVersion
{
    /// <summary>No usable cgroups (not mounted, not writable, or controllers not delegated).</summary>
    None,
    /// <summary>Legacy per-controller hierarchies (<c>/sys/fs/cgroup/memory</c>, <c>/sys/fs/cgroup/cpu</c>).</summary>
    V1,
    /// <summary>Unified hierarchy (<c>/sys/fs/cgroup/cgroup.controllers</c>).</summary>
    V2,
}

/// <summary>One job's cgroup: the <c>cgroup.procs</c> files the job's process joins, and the directories to remove.</summary>
internal sealed record JobCgroup(IReadOnlyList<string> ProcsFiles, IReadOnlyList<string> Directories);

/// <summary>
/// Per-job cgroups under the server's own cgroup (<c>&lt;own&gt;/gureum/&lt;job&gt;</c> in each
/// controller), so jobs stay inside whatever limits the server itself runs under. v1: memory
/// (<c>memory.limit_in_bytes</c>, and <c>memory.memsw.limit_in_bytes</c> when present so swap
/// does not dodge the limit) and cpu (<c>cpu.cfs_quota_us</c> over a 100 ms period). v2: the
/// <c>gureum</c> cgroup gets <c>+memory +cpu</c> in its <c>cgroup.subtree_control</c>, which needs
/// the server's cgroup to delegate them (it fails when the server's own cgroup holds processes
/// and is not the root: the kernel's no-internal-process rule); the job gets <c>memory.max</c>,
/// <c>memory.swap.max</c> = 0 and <c>cpu.max</c>. Probed once; when anything fails the reason is
/// kept in <see cref="Unavailable"/> and jobs run without limits.
/// </summary>
internal sealed class Cgroups
{
    private const long CpuPeriodUs = 100_000;
    private readonly string _root;
    private readonly Dictionary<string, string> _parents = new(StringComparer.Ordinal); // controller (v1) or "" (v2) → gureum dir

    public CgroupVersion Version { get; }
    public string? Unavailable { get; }

    private Cgroups(string root, CgroupVersion version, string? unavailable)
    {
        _root = root;
        Version = version;
        Unavailable = unavailable;
    }

    /// <summary>Probes the machine: which version, whether we can create the <c>gureum</c> parent cgroup.</summary>
    /// <param name="root">cgroup mount point, normally <c>/sys/fs/cgroup</c>.</param>
    /// <param name="selfCgroupFile">normally <c>/proc/self/cgroup</c>.</param>
    public static Cgroups Probe(string root, string selfCgroupFile)
    {
        var own = ReadOwnPaths(selfCgroupFile);
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
        {
            var c = new Cgroups(root, CgroupVersion.V2, null);
            var why = c.PrepareV2(own.GetValueOrDefault("") ?? "/");
            return why is null ? c : new Cgroups(root, CgroupVersion.None, $"cgroup v2: {why}");
        }
        if (Directory.Exists(Path.Combine(root, "memory")) || Directory.Exists(Path.Combine(root, "cpu")))
        {
            var c = new Cgroups(root, CgroupVersion.V1, null);
            var why = c.PrepareV1(own);
            return why is null ? c : new Cgroups(root, CgroupVersion.None, $"cgroup v1: {why}");
        }
        return new Cgroups(root, CgroupVersion.None, $"no cgroup hierarchy under {root}");
    }

    /// <summary>Controller → own cgroup path from /proc/self/cgroup (v2's entry has key "").</summary>
    internal static Dictionary<string, string> ReadOwnPaths(string selfCgroupFile)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(selfCgroupFile)) return map;
        foreach (var line in File.ReadAllLines(selfCgroupFile))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            foreach (var ctl in parts[1].Split(',')) map[ctl] = parts[2];
        }
        return map;
    }

    private string? PrepareV1(Dictionary<string, string> own)
    {
        foreach (var ctl in new[] { "memory", "cpu" })
        {
            var mount = Path.Combine(_root, ctl);
            if (!Directory.Exists(mount)) return $"controller {ctl} is not mounted at {mount}";
            var parent = Path.Combine(mount, own.GetValueOrDefault(ctl, "/").TrimStart('/'), "gureum");
            try { Directory.CreateDirectory(parent); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"cannot create {parent}: {e.Message}"; }
            _parents[ctl] = parent;
        }
        return null;
    }

    private string? PrepareV2(string own)
    {
        var parent = Path.Combine(_root, own.TrimStart('/'), "gureum");
        try
        {
            var available = File.ReadAllText(Path.Combine(Path.GetDirectoryName(parent)!, "cgroup.controllers"));
            if (!available.Contains("memory", StringComparison.Ordinal) || !available.Contains("cpu", StringComparison.Ordinal))
                return $"memory and cpu controllers are not delegated to {Path.GetDirectoryName(parent)} (cgroup.controllers: '{available.Trim()}')";
            Directory.CreateDirectory(parent);
            File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+memory +cpu");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot prepare {parent}: {e.Message}";
        }
        _parents[""] = parent;
        return null;
    }

    /// <summary>Creates a job's cgroup with its limits. A limit ≤ 0 is not set. Null when cgroups are unavailable.</summary>
    public JobCgroup? Create(string name, double cpus, double memoryGiB)
    {
        if (Version == CgroupVersion.None) return null;
        var memBytes = memoryGiB > 0 ? (long)Math.Ceiling(memoryGiB * 1024 * 1024 * 1024) : 0;
        var quota = cpus > 0 ? (long)Math.Ceiling(cpus * CpuPeriodUs) : 0;
        var procs = new List<string>();
        var dirs = new List<string>();
        if (Version == CgroupVersion.V1)
        {
            var mem = Path.Combine(_parents["memory"], name);
            var cpu = Path.Combine(_parents["cpu"], name);
            Directory.CreateDirectory(mem);
            Directory.CreateDirectory(cpu);
            dirs.Add(mem);
            dirs.Add(cpu);
            if (memBytes > 0)
            {
                Write(mem, "memory.limit_in_bytes", memBytes);
                if (File.Exists(Path.Combine(mem, "memory.memsw.limit_in_bytes"))) Write(mem, "memory.memsw.limit_in_bytes", memBytes);
            }
            if (quota > 0)
            {
                Write(cpu, "cpu.cfs_period_us", CpuPeriodUs);
                Write(cpu, "cpu.cfs_quota_us", quota);
            }
            procs.Add(Path.Combine(mem, "cgroup.procs"));
            procs.Add(Path.Combine(cpu, "cgroup.procs"));
        }
        else
        {
            var dir = Path.Combine(_parents[""], name);
            Directory.CreateDirectory(dir);
            dirs.Add(dir);
            if (memBytes > 0)
            {
                Write(dir, "memory.max", memBytes);
                if (File.Exists(Path.Combine(dir, "memory.swap.max"))) Write(dir, "memory.swap.max", 0);
            }
            if (quota > 0) File.WriteAllText(Path.Combine(dir, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"{quota} {CpuPeriodUs}"));
            procs.Add(Path.Combine(dir, "cgroup.procs"));
        }
        return new JobCgroup(procs, dirs);
    }

    private static void Write(string dir, string file, long value) =>
        File.WriteAllText(Path.Combine(dir, file), value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Kills what is left in a job's cgroup and removes it. Best effort; idempotent.</summary>
    public static void Remove(IReadOnlyList<string> directories)
    {
        foreach (var dir in directories)
        {
            if (!Directory.Exists(dir)) continue;
            try
            {
                foreach (var line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                    if (int.TryParse(line, out var pid) && pid > 1) KillOne(pid);
                Directory.Delete(dir); // rmdir: cgroupfs refuses it while processes remain
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* still busy: the kernel frees it when empty */ }
        }
    }

    private static void KillOne(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); p.Kill(); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>The memory limit of the server's own cgroup in bytes, or null when unlimited or unknown.</summary>
    public static long? OwnMemoryLimit(string root, string selfCgroupFile)
    {
        var own = ReadOwnPaths(selfCgroupFile);
        string file;
        if (File.Exists(Path.Combine(root, "cgroup.controllers"))) file = Path.Combine(root, own.GetValueOrDefault("", "/").TrimStart('/'), "memory.max");
        else if (own.TryGetValue("memory", out var p)) file = Path.Combine(root, "memory", p.TrimStart('/'), "memory.limit_in_bytes");
        else return null;
        try
        {
            var text = File.ReadAllText(file).Trim();
            // v1 "unlimited" is a huge page-aligned number; anything above 2^60 counts as no limit.
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < (1L << 60) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>CPUs allowed by the server's own cgroup CPU quota, or null when unlimited or unknown.</summary>
    public static double? OwnCpuLimit(string root, string selfCgroupFile)
    {
        var own = ReadOwnPaths(selfCgroupFile);
        try
        {
            if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            {
                var f = Path.Combine(root, own.GetValueOrDefault("", "/").TrimStart('/'), "cpu.max");
                if (!File.Exists(f)) return null;
                var parts = File.ReadAllText(f).Trim().Split(' ');
                return parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var q) && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var per) && per > 0 ? (double)q / per : null;
            }
            if (!own.TryGetValue("cpu", out var p)) return null;
            var dir = Path.Combine(root, "cpu", p.TrimStart('/'));
            var quota = long.Parse(File.ReadAllText(Path.Combine(dir, "cpu.cfs_quota_us")).Trim(), CultureInfo.InvariantCulture);
            var period = long.Parse(File.ReadAllText(Path.Combine(dir, "cpu.cfs_period_us")).Trim(), CultureInfo.InvariantCulture);
            return quota > 0 && period > 0 ? (double)quota / period : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }
}
