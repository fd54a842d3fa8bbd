using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;

namespace Gureum.Cost.Savings;

/// <summary>One container's GPU samples: time (s), duty cycle (%), and memory used (bytes) when known.</summary>
public sealed record ContainerSeries(string Container, double[] Times, double[] DutyPercent, double PeakMemoryBytes);

/// <summary>
/// Reads per-container GPU utilization series in the Alibaba GenAI 2026 layout
/// (<c>pod_gpu_duty_cycle_anon.tar.gz</c>: value, timestamp_anon, container_ip; and
/// <c>pod_gpu_memory_used_bytes_anon.tar.gz</c>: timestamp_anon, value, container_ip — the column
/// order differs, so columns are found by name). Plain .csv files are read as well.
/// </summary>
public static class GpuUtilization
{
    public const string DutyFile = "pod_gpu_duty_cycle_anon.tar.gz";
    public const string MemoryFile = "pod_gpu_memory_used_bytes_anon.tar.gz";

    /// <summary>Loads a folder holding the duty-cycle file (required) and the memory file (optional).</summary>
    public static IReadOnlyList<ContainerSeries> LoadDirectory(string dir)
    {
        var duty = Rows(Path.Combine(dir, DutyFile));
        var memPath = Path.Combine(dir, MemoryFile);
        var peak = new Dictionary<string, double>(StringComparer.Ordinal);
        if (File.Exists(memPath))
            foreach (var (c, _, v) in Rows(memPath)) peak[c] = Math.Max(peak.GetValueOrDefault(c), v);
        return duty.GroupBy(r => r.Container, StringComparer.Ordinal)
            .Select(g =>
            {
                var s = g.OrderBy(x => x.Time).ToArray();
                return new ContainerSeries(g.Key, s.Select(x => x.Time).ToArray(), s.Select(x => x.Value).ToArray(), peak.GetValueOrDefault(g.Key));
            })
            .OrderBy(s => s.Container, StringComparer.Ordinal).ToList();
    }

    /// <summary>(container, time, value) rows of a CSV or a .tar.gz holding one CSV.</summary>
    public static List<(string Container, double Time, double Value)> Rows(string path)
    {
        using var file = File.OpenRead(path);
        if (path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
        {
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } e)
            {
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || e.DataStream is null) continue;
                if (!e.Name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(e.Name).StartsWith("._", StringComparison.Ordinal)) continue;
                return Parse(new StreamReader(e.DataStream), $"{path}:{e.Name}");
            }
            throw new FormatException($"{path}: no .csv file inside the archive.");
        }
        return Parse(new StreamReader(file), path);
    }

    private static List<(string, double, double)> Parse(TextReader r, string name)
    {
        var header = (r.ReadLine() ?? throw new FormatException($"{name}: empty file.")).Split(',');
        int vi = Array.IndexOf(header, "value"), ti = Array.IndexOf(header, "timestamp_anon"), ci = Array.IndexOf(header, "container_ip");
        if (vi < 0 || ti < 0 || ci < 0) throw new FormatException($"{name}: needs columns value, timestamp_anon, container_ip (has {string.Join(", ", header)}).");
        var list = new List<(string, double, double)>();
        var line = 1;
        while (r.ReadLine() is { } l)
        {
            line++;
            if (l.Length == 0) continue;
            var f = l.Split(',');
            if (f.Length <= Math.Max(vi, Math.Max(ti, ci))) throw new FormatException($"{name} line {line}: {f.Length} fields, expected {header.Length}.");
            if (!double.TryParse(f[vi], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.TryParse(f[ti], NumberStyles.Float, CultureInfo.InvariantCulture, out var t))
                throw new FormatException($"{name} line {line}: value or timestamp_anon is not a number.");
            list.Add((f[ci], t, v));
        }
        return list;
    }
}
