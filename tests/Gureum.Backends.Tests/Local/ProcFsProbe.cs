using Gureum.Backends.Local;

namespace Gureum.Backends.Tests.Local;

internal static class ProcFsProbe
{
    public static string? Which(string name) => ProcFs.Which(name);

    public static bool CgroupsUsable() => Cgroups.Probe("/sys/fs/cgroup", "/proc/self/cgroup").Version != CgroupVersion.None;
}
