using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gureum.Simulation.Cloud;

/// <summary>A spot trace file that cannot be read. Names the file; retrying cannot help.</summary>
public sealed class SpotTraceFormatException(string file, string problem, Exception? inner = null)
    : FormatException($"{file}: {problem} To fix: a trace is JSON {{\"metadata\":{{\"gap_seconds\":N}},\"data\":[int,...],\"prices\":[number,...] (optional)}} or a CSV with header tick,time_utc,launch_failed.", inner)
{
    /// <summary>The file at fault.</summary>
    public string File { get; } = file;
}

/// <summary>
/// Reads spot availability/preemption traces: the Can't Be Late JSON release and SpotHedge's
/// (same shape: <c>{"metadata":{"gap_seconds":N},"data":[...],"prices":[...]}</c>), and the
/// raw_probe_aws_2022 CSV logs (<c>tick,time_utc,launch_failed</c>; available = 1 − launch_failed).
/// File names are <c>&lt;zone&gt;_&lt;gpu key&gt;.json|csv</c>.
/// </summary>
public static partial class SpotTraceLoader
{
    [GeneratedRegex(@"^(\d+)-node$")]
    private static partial Regex NodeDirectory();

    /// <summary>Loads every <c>.json</c> and <c>.csv</c> trace under <paramref name="directory"/>
    /// (recursively), ordered by name.</summary>
    /// <exception cref="SpotTraceFormatException">A file is not a valid trace.</exception>
    public static IReadOnlyList<SpotTrace> LoadDirectory(string directory)
    {
        var root = Path.GetFullPath(directory);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(f => LoadFile(f, Path.GetRelativePath(root, f)))
            .ToList();
    }

    /// <summary>Loads one trace file; <paramref name="name"/> defaults to the file name.</summary>
    /// <exception cref="SpotTraceFormatException">The file is not a valid trace.</exception>
    public static SpotTrace LoadFile(string path, string? name = null)
    {
        name ??= Path.GetFileName(path);
        name = Path.ChangeExtension(name, null).Replace('\\', '/');
        var stem = Path.GetFileNameWithoutExtension(path);
        var underscore = stem.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0 || underscore == stem.Length - 1)
        {
            throw new SpotTraceFormatException(path, $"the file name '{stem}' is not <zone>_<gpu key> (e.g. us-east-1a_v100_1).");
        }

        var zone = stem[..underscore];
        var key = stem[(underscore + 1)..];
        var nodes = Path.GetDirectoryName(name)?.Split('/', '\\')
            .Select(d => NodeDirectory().Match(d))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .LastOrDefault() ?? 0;

        var trace = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
            ? ReadProbeCsv(path, name, zone, key)
            : ReadJson(path, name, zone, key);
        return trace with { MaxValue = Math.Max(Math.Max(nodes, trace.Data.DefaultIfEmpty(0).Max()), 1) };
    }

    private static SpotTrace ReadJson(string path, string name, string zone, string key)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;
            if (!root.TryGetProperty("metadata", out var meta) || !meta.TryGetProperty("gap_seconds", out var gapEl) || !gapEl.TryGetDouble(out var gap) || gap <= 0)
            {
                throw new SpotTraceFormatException(path, "metadata.gap_seconds is missing or not a positive number.");
            }

            if (!root.TryGetProperty("data", out var dataEl) || dataEl.ValueKind != JsonValueKind.Array || dataEl.GetArrayLength() == 0)
            {
                throw new SpotTraceFormatException(path, "\"data\" is missing, not an array, or empty.");
            }

            var data = new int[dataEl.GetArrayLength()];
            var i = 0;
            foreach (var v in dataEl.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d < 0 || d != Math.Floor(d))
                {
                    throw new SpotTraceFormatException(path, $"data[{i}] = {v.GetRawText()} is not a non-negative whole number.");
                }

                data[i++] = (int)d;
            }

            decimal[]? prices = null;
            if (root.TryGetProperty("prices", out var pricesEl) && pricesEl.ValueKind == JsonValueKind.Array)
            {
                if (pricesEl.GetArrayLength() != data.Length)
                {
                    throw new SpotTraceFormatException(path, $"\"prices\" has {pricesEl.GetArrayLength()} entries but \"data\" has {data.Length}.");
                }

                prices = new decimal[data.Length];
                i = 0;
                foreach (var p in pricesEl.EnumerateArray())
                {
                    if (p.ValueKind != JsonValueKind.Number || !p.TryGetDecimal(out var price) || price <= 0)
                    {
                        throw new SpotTraceFormatException(path, $"prices[{i}] = {p.GetRawText()} is not a positive number.");
                    }

                    prices[i++] = price;
                }
            }

            return new SpotTrace(name, zone, key, TimeSpan.FromSeconds(gap), data, 1, prices);
        }
        catch (JsonException e)
        {
            throw new SpotTraceFormatException(path, $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
    }

    private static SpotTrace ReadProbeCsv(string path, string name, string zone, string key)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Trim() != "tick,time_utc,launch_failed")
        {
            throw new SpotTraceFormatException(path, "line 1 must be the header tick,time_utc,launch_failed.");
        }

        var data = new List<int>(lines.Length);
        var times = new List<DateTimeOffset>(lines.Length);
        for (var n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0)
            {
                continue;
            }

            var f = lines[n].Split(',');
            if (f.Length != 3
                || !DateTimeOffset.TryParse(f[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
                || f[2].Trim() is not ("0" or "1"))
            {
                throw new SpotTraceFormatException(path, $"line {n + 1} '{lines[n]}' is not tick,ISO-8601 time,0|1.");
            }

            times.Add(at);
            data.Add(1 - (f[2].Trim() == "1" ? 1 : 0));
        }

        if (data.Count == 0)
        {
            throw new SpotTraceFormatException(path, "the file has no probe rows.");
        }

        // Probes run every ~600 s; take the median spacing so one late round does not skew the grid.
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).Where(s => s > 0).Order().ToList();
        var gap = gaps.Count == 0 ? 600 : Math.Round(gaps[(gaps.Count - 1) / 2]);
        return new SpotTrace(name, zone, key, TimeSpan.FromSeconds(gap), [.. data], 1, null) { StartUtc = times[0] };
    }
}
