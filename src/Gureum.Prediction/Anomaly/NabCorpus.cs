using System.Globalization;
using System.Text.Json;

namespace Gureum.Prediction.Anomaly;

/// <summary>One labelled anomaly window of a series, as row indices (both ends included).</summary>
/// <param name="Start">Timestamp of the first row of the window.</param>
/// <param name="End">Timestamp of the last row of the window.</param>
/// <param name="StartIndex">Row index of <paramref name="Start"/>.</param>
/// <param name="EndIndex">Row index of <paramref name="End"/>.</param>
public readonly record struct NabWindow(DateTimeOffset Start, DateTimeOffset End, int StartIndex, int EndIndex)
{
    /// <summary>Number of rows in the window.</summary>
    public int Length => EndIndex - StartIndex + 1;
}

/// <summary>One NAB data file: its rows and its scoring windows.</summary>
public sealed record NabSeries
{
    /// <summary>Key as in NAB's label files: <c>family/file.csv</c>, e.g. <c>realAWSCloudwatch/grok_asg_anomaly.csv</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Row timestamps (UTC), non-decreasing (NAB files may repeat one).</summary>
    public required IReadOnlyList<DateTimeOffset> Timestamps { get; init; }

    /// <summary>Row values.</summary>
    public required IReadOnlyList<double> Values { get; init; }

    /// <summary>Scoring windows in time order; empty for a normal-only file.</summary>
    public required IReadOnlyList<NabWindow> Windows { get; init; }

    /// <summary>Family (folder) part of <see cref="Key"/>.</summary>
    public string Family => Key[..Key.IndexOf('/', StringComparison.Ordinal)];

    /// <summary>File name without extension, e.g. <c>grok_asg_anomaly</c>.</summary>
    public string Name => Path.GetFileNameWithoutExtension(Key);

    /// <summary>Number of rows.</summary>
    public int Count => Values.Count;

    /// <summary>True when row <paramref name="index"/> lies inside a window.</summary>
    public bool InWindow(int index)
    {
        foreach (var w in Windows)
            if (index >= w.StartIndex && index <= w.EndIndex) return true;
        return false;
    }
}

/// <summary>
/// Loads NAB data files (<c>timestamp,value</c> CSVs) and the windows file
/// (<c>{"family/file.csv": [["start", "end"], ...]}</c>).
/// </summary>
public static class NabCorpus
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.ffffff", "yyyy-MM-dd HH:mm:ss.fff",
        "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ",
    ];

    /// <summary>
    /// Loads every <c>*.csv</c> under <paramref name="dataDirectory"/>. The directory is either one
    /// family folder (its CSVs are keyed <c>&lt;folder name&gt;/&lt;file&gt;</c>) or NAB's
    /// <c>data</c> folder with one sub-folder per family. Every CSV must have an entry in the
    /// windows file; entries for files that are not present are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is malformed; the message names the file and line.</exception>
    public static IReadOnlyList<NabSeries> Load(string dataDirectory, string windowsFile)
    {
        if (!Directory.Exists(dataDirectory))
            throw new DirectoryNotFoundException($"data directory not found: {dataDirectory}");
        var windows = LoadWindows(windowsFile);
        var files = new List<(string Key, string Path)>();
        var root = Path.GetFullPath(dataDirectory).TrimEnd(Path.DirectorySeparatorChar);
        foreach (var csv in Directory.EnumerateFiles(root, "*.csv").Order(StringComparer.Ordinal))
            files.Add(($"{Path.GetFileName(root)}/{Path.GetFileName(csv)}", csv));
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            foreach (var csv in Directory.EnumerateFiles(dir, "*.csv").Order(StringComparer.Ordinal))
                files.Add(($"{Path.GetFileName(dir)}/{Path.GetFileName(csv)}", csv));
        if (files.Count == 0)
            throw new InvalidDataException($"{dataDirectory}: no .csv files here or in its sub-folders");

        var series = new List<NabSeries>(files.Count);
        foreach (var (key, path) in files)
        {
            if (!windows.TryGetValue(key, out var limits))
                throw new InvalidDataException($"{windowsFile}: no entry \"{key}\" for data file {path}");
            series.Add(LoadSeries(key, path, limits, windowsFile));
        }
        return series;
    }

    /// <summary>Reads one <c>timestamp,value</c> file and resolves its window limits to row indices.</summary>
    /// <exception cref="InvalidDataException">Malformed file or a window limit that is not a row timestamp.</exception>
    public static NabSeries LoadSeries(string key, string csvPath, IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> limits, string windowsFile = "windows file")
    {
        var timestamps = new List<DateTimeOffset>();
        var values = new List<double>();
        using (var reader = new StreamReader(csvPath))
        {
            var header = reader.ReadLine() ?? throw new InvalidDataException($"{csvPath}:1: empty file, expected header 'timestamp,value'");
            var cols = header.Split(',');
            if (cols.Length < 2 || !cols[0].Trim().Equals("timestamp", StringComparison.OrdinalIgnoreCase) || !cols[1].Trim().Equals("value", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{csvPath}:1: expected header 'timestamp,value', found '{header}'");
            var lineNo = 1;
            while (reader.ReadLine() is { } line)
            {
                lineNo++;
                if (line.Length == 0) continue;
                var parts = line.Split(',');
                if (parts.Length < 2)
                    throw new InvalidDataException($"{csvPath}:{lineNo}: expected 'timestamp,value', found '{line}'");
                if (!TryParseTimestamp(parts[0], out var t))
                    throw new InvalidDataException($"{csvPath}:{lineNo}: bad timestamp '{parts[0]}' (expected yyyy-MM-dd HH:mm:ss)");
                if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"{csvPath}:{lineNo}: bad value '{parts[1]}' (expected a number)");
                // Equal timestamps occur in NAB data (a daylight-saving change in two AWS files); NAB keeps them.
                if (timestamps.Count > 0 && t < timestamps[^1])
                    throw new InvalidDataException($"{csvPath}:{lineNo}: timestamp {parts[0]} is before the previous row");
                timestamps.Add(t);
                values.Add(v);
            }
        }

        var resolved = new List<NabWindow>(limits.Count);
        foreach (var (start, end) in limits.OrderBy(l => l.Start))
        {
            // NAB enters a window only on a row whose timestamp equals its start, and finds its end by
            // exact match; a limit that is not a row would silently drop windows there, so refuse it.
            var si = FirstIndexOf(timestamps, start);
            var ei = FirstIndexOf(timestamps, end);
            if (si < 0 || ei < 0 || ei < si)
                throw new InvalidDataException($"{windowsFile}: window [{Format(start)}, {Format(end)}] of \"{key}\" does not match rows of {csvPath}");
            if (resolved.Count > 0 && si <= resolved[^1].EndIndex)
                throw new InvalidDataException($"{windowsFile}: windows of \"{key}\" overlap at {Format(start)}");
            resolved.Add(new NabWindow(start, end, si, ei));
        }
        return new NabSeries { Key = key, Timestamps = timestamps, Values = values, Windows = resolved };
    }

    /// <summary>Reads a NAB windows file, keyed <c>family/file.csv</c>.</summary>
    /// <exception cref="InvalidDataException">Not of the NAB windows form; the message says where.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)>> LoadWindows(string windowsFile)
    {
        if (!File.Exists(windowsFile)) throw new FileNotFoundException($"labels file not found: {windowsFile}", windowsFile);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(windowsFile));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{windowsFile}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{windowsFile}: expected an object {{\"family/file.csv\": [[start, end], ...]}}");
            var result = new Dictionary<string, IReadOnlyList<(DateTimeOffset, DateTimeOffset)>>(StringComparer.Ordinal);
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Array)
                    throw new InvalidDataException($"{windowsFile}: \"{entry.Name}\" should be a list of [start, end] pairs");
                var list = new List<(DateTimeOffset, DateTimeOffset)>();
                foreach (var pair in entry.Value.EnumerateArray())
                {
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                        || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String
                        || !TryParseTimestamp(pair[0].GetString()!, out var s) || !TryParseTimestamp(pair[1].GetString()!, out var e))
                        throw new InvalidDataException($"{windowsFile}: \"{entry.Name}\" has a window that is not [\"yyyy-MM-dd HH:mm:ss\", \"yyyy-MM-dd HH:mm:ss\"]: {pair.GetRawText()}");
                    list.Add((s, e));
                }
                result[entry.Name] = list;
            }
            return result;
        }
    }

    /// <summary>Formats a timestamp the way NAB data files write it.</summary>
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    // First row with this timestamp (Python's list.index), or -1.
    private static int FirstIndexOf(List<DateTimeOffset> timestamps, DateTimeOffset t)
    {
        int lo = 0, hi = timestamps.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (timestamps[mid] < t) lo = mid + 1; else hi = mid;
        }
        return lo < timestamps.Count && timestamps[lo] == t ? lo : -1;
    }

    private static bool TryParseTimestamp(string s, out DateTimeOffset t)
    {
        if (DateTime.TryParseExact(s.Trim(), TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
        {
            t = new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc));
            return true;
        }
        t = default;
        return false;
    }
}
