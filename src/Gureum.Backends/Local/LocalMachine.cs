using System.Diagnostics;
using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Backends.Local;

/// <summary>One GPU as <c>nvidia-smi</c> reports it.</summary>
/// <param name="Index">Device index (what <c>CUDA_VISIBLE_DEVICES</c> takes).</param>
/// <param name="Name">Marketing name, e.g. <c>NVIDIA A100-SXM4-40GB</c>.</param>
/// <param name="MemoryMiB">Total memory.</param>
/// <param name="Model">Canonical model (<see cref="GpuModels"/>).</param>
public sealed record LocalGpu(int Index, string Name, int MemoryMiB, string Model);

/// <summary>What this machine offers to jobs.</summary>
/// <param name="HostName">Host name (the node's instance type).</param>
/// <param name="Cpus">Usable CPUs: online CPUs, capped by the process's affinity and its cgroup CPU quota.</param>
/// <param name="MemoryGiB">Usable memory: MemTotal, capped by the process's cgroup memory limit.</param>
/// <param name="Gpus">GPUs found by <c>nvidia-smi</c>; empty when it is absent or fails.</param>
/// <param name="Notes">How each figure was found (for logs and <c>gureum nodes</c>).</param>
public sealed record LocalMachine(string HostName, double Cpus, double MemoryGiB, IReadOnlyList<LocalGpu> Gpus, IReadOnlyList<string> Notes)
{
    /// <summary>Offer id cloud name of the local backend.</summary>
    public const string CloudName = "local";

    /// <summary>
    /// Reads the machine: CPUs from <see cref="Environment.ProcessorCount"/> (online CPUs within the
    /// affinity mask) capped by the cgroup quota, memory from <c>/proc/meminfo</c> capped by the cgroup
    /// limit, GPUs from <c>nvidia-smi --query-gpu</c> when it is on PATH.
    /// </summary>
    public static LocalMachine Detect(string procRoot = "/proc", string cgroupRoot = "/sys/fs/cgroup", string? nvidiaSmi = null)
    {
        var notes = new List<string>();
        var selfCgroup = Path.Combine(procRoot, "self", "cgroup");
        double cpus = Environment.ProcessorCount;
        notes.Add($"cpus: {cpus} online within the affinity mask");
        if (Cgroups.OwnCpuLimit(cgroupRoot, selfCgroup) is { } q && q < cpus)
        {
            cpus = q;
            notes.Add($"cpus: capped to {q:0.##} by the cgroup CPU quota");
        }

        var memBytes = MemTotalBytes(Path.Combine(procRoot, "meminfo"));
        notes.Add($"memory: MemTotal {memBytes / 1073741824.0:0.#} GiB");
        if (Cgroups.OwnMemoryLimit(cgroupRoot, selfCgroup) is { } lim && lim < memBytes)
        {
            memBytes = lim;
            notes.Add($"memory: capped to {lim / 1073741824.0:0.#} GiB by the cgroup memory limit");
        }

        var smi = nvidiaSmi ?? ProcFs.Which("nvidia-smi");
        IReadOnlyList<LocalGpu> gpus = [];
        if (smi is null) notes.Add("gpus: none (nvidia-smi not found)");
        else
        {
            try
            {
                gpus = ParseNvidiaSmi(RunNvidiaSmi(smi));
                notes.Add($"gpus: {gpus.Count} from {smi}");
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or FormatException or IOException)
            {
                notes.Add($"gpus: none ({smi} failed: {e.Message})");
            }
        }
        return new LocalMachine(Environment.MachineName, cpus, Math.Round(memBytes / 1073741824.0, 2), gpus, notes);
    }

    private static long MemTotalBytes(string meminfo)
    {
        foreach (var line in File.ReadLines(meminfo))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
            var kb = long.Parse(line["MemTotal:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            return kb * 1024;
        }
        throw new InvalidOperationException($"{meminfo} has no MemTotal line.");
    }

    private static string RunNvidiaSmi(string path)
    {
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--query-gpu=index,name,memory.total");
        psi.ArgumentList.Add("--format=csv,noheader,nounits");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start");
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(10_000)) { p.Kill(); throw new InvalidOperationException("timed out after 10 s"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"exit {p.ExitCode}: {error.Trim()}");
        return output;
    }

    /// <summary>Parses <c>nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits</c>.</summary>
    public static IReadOnlyList<LocalGpu> ParseNvidiaSmi(string csv)
    {
        var gpus = new List<LocalGpu>();
        foreach (var raw in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = raw.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 3) throw new FormatException($"nvidia-smi line '{raw}' has {f.Length} fields, expected index, name, memory.total.");
            var index = int.Parse(f[0], CultureInfo.InvariantCulture);
            var mem = int.Parse(f[2], CultureInfo.InvariantCulture);
            gpus.Add(new LocalGpu(index, f[1], mem, ModelOf(f[1], mem)));
        }
        return gpus;
    }

    /// <summary>
    /// Canonical model of an nvidia-smi name: vendor words dropped, then the longest known model
    /// name contained in it (so "NVIDIA H100 80GB HBM3" is H100, "Tesla V100-SXM2-16GB" V100);
    /// A100s with more than 60 GiB are A100-80GB. Unknown names are kept as they are.
    /// </summary>
    public static string ModelOf(string name, int memoryMiB)
    {
        var n = name.ToUpperInvariant().Replace("NVIDIA", "", StringComparison.Ordinal).Replace("TESLA", "", StringComparison.Ordinal)
            .Replace("GEFORCE", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        var best = GpuModels.Speed.Keys
            .Where(k => !k.Contains('-', StringComparison.Ordinal) && n.Contains(k.ToUpperInvariant(), StringComparison.Ordinal))
            .OrderByDescending(k => k.Length).FirstOrDefault();
        if (best is null) return name.Trim();
        if (best == "A100" && memoryMiB > 60 * 1024) return "A100-80GB";
        if (best == "V100" && memoryMiB > 24 * 1024) return "V100-32GB";
        return best;
    }

    /// <summary>
    /// This machine as an offer: price 0 (it is already paid for), no boot delay, at most one node,
    /// so the decision core places on it as a fixed fleet. GPUs are assumed to be of one model (the
    /// first one's); a mixed machine is listed under its first GPU's model.
    /// </summary>
    public Offer ToOffer(double reservedCpus = 0, double reservedMemoryGiB = 0) => new()
    {
        Cloud = CloudName,
        Region = CloudName,
        Zone = CloudName,
        InstanceType = HostName,
        GpuModel = Gpus.Count > 0 ? Gpus[0].Model : null,
        GpuCount = Gpus.Count,
        GpuMemoryGiB = Gpus.Count > 0 ? Gpus[0].MemoryMiB / 1024.0 : 0,
        VCpus = Math.Max(0, Cpus - reservedCpus),
        MemoryGiB = Math.Max(0, MemoryGiB - reservedMemoryGiB),
        OnDemandPerHour = 0m,
        SpotPerHour = null,
        BootDelay = TimeSpan.Zero,
        CapacityLimit = 1,
    };

    /// <summary>The machine as a ready, fixed node (add it to the store at start-up).</summary>
    public Node ToNode(Offer offer, DateTimeOffset now) =>
        Node.Create($"local-{HostName}", offer, Market.OnDemand, NodeState.Ready, now, isFixed: true);
}
