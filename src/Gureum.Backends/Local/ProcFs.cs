using System.Globalization;
using System.Runtime.InteropServices;

namespace Gureum.Backends.Local;

/// <summary>What /proc and the kernel say about processes: identity (pid + start time), liveness, signals.</summary>
internal static class ProcFs
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    private const int Esrch = 3;

    // DllImport rather than LibraryImport: the latter needs unsafe code for nothing an int pair needs.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    /// <summary>Sends <paramref name="signal"/> to the process group <paramref name="pgid"/>.
    /// Returns false when the group has no process left.</summary>
    public static bool SignalGroup(int pgid, int signal)
    {
        if (pgid <= 1) throw new ArgumentOutOfRangeException(nameof(pgid), pgid, "Refusing to signal process group ≤ 1.");
        return SysKill(-pgid, signal) == 0 || Marshal.GetLastPInvokeError() != Esrch;
    }

    /// <summary>Whether any process is left in group <paramref name="pgid"/> (signal 0 probes).</summary>
    public static bool GroupExists(int pgid) => pgid > 1 && (SysKill(-pgid, 0) == 0 || Marshal.GetLastPInvokeError() != Esrch);

    /// <summary>
    /// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat) and whether it
    /// is a zombie; null when there is no such process. Pid reuse gives a different start time.
    /// </summary>
    public static (ulong StartTime, bool Zombie)? Stat(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // comm (field 2) is in parentheses and may contain spaces or ')': parse after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0) return null;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state); field 22 is fields[19].
        if (fields.Length < 20) return null;
        return (ulong.Parse(fields[19], CultureInfo.InvariantCulture), fields[0] == "Z");
    }

    /// <summary>Whether the process <paramref name="pid"/> with start time <paramref name="startTime"/>
    /// is alive (not a zombie). A start time of 0 matches any.</summary>
    public static bool IsAlive(int pid, ulong startTime) =>
        pid > 0 && Stat(pid) is { } s && !s.Zombie && (startTime == 0 || s.StartTime == startTime);

    /// <summary>The command line of a process (arguments joined by spaces), or null.</summary>
    public static string? CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>First executable named <paramref name="name"/> on PATH, or null.</summary>
    public static string? Which(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
