using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// Reads a trace file in one of the <see cref="TraceFormat"/>s into a <see cref="Trace"/>. Loading is
/// all or nothing: a malformed row throws <see cref="TraceFormatException"/> (unless
/// <see cref="TraceLoadOptions.SkipBadRows"/>) and nothing is returned. Thread-safe: no shared state.
/// </summary>
public static class TraceLoader
{
    /// <summary>How many skipped-row messages a <see cref="Trace"/> keeps.</summary>
    public const int MaxBadRowMessages = 20;

    /// <summary>Loads <paramref name="path"/> (a file; for <see cref="TraceFormat.Helios"/> also a directory).</summary>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="TraceFormatException">A header or (without SkipBadRows) a row is malformed.</exception>
    public static Trace Load(string path, TraceFormat format, TraceLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new TraceLoadOptions();
        var isDirectory = Directory.Exists(path);
        if (!isDirectory && !File.Exists(path)) throw new FileNotFoundException($"Trace not found: {path}", path);
        if (isDirectory && format != TraceFormat.Helios)
        {
            throw new TraceFormatException(path, 0, null, $"{path} is a directory; the {format} format reads one file.",
                "Give the path of the CSV file itself (only the helios format accepts a directory).");
        }

        var log = new BadRowLog(options.SkipBadRows);
        var result = format switch
        {
            TraceFormat.Openb => OpenbImporter.Load(path, options, log),
            TraceFormat.Dlrm => DlrmImporter.Load(path, options, log),
            TraceFormat.Helios => HeliosImporter.Load(path, options, log),
            TraceFormat.Gureum => GureumCsv.Load(path, options, log),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown trace format."),
        };

        SortJobs(result.Jobs);
        var notes = result.Notes;
        if (log.Count > 0) notes.Add($"{log.Count} malformed row(s) skipped (--skip-bad-rows).");
        return new Trace
        {
            Name = Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path)),
            Format = format,
            Jobs = result.Jobs,
            Fleet = result.Fleet,
            Notes = notes,
            BadRowsSkipped = log.Count,
            BadRowMessages = [.. log.Messages],
            Epoch = options.Epoch,
            CensoredJobIds = result.Censored ?? new HashSet<string>(StringComparer.Ordinal),
        };
    }

    /// <summary>Parses a format name (openb, dlrm, helios, gureum; any case).</summary>
    public static bool TryParseFormat(string? name, out TraceFormat format) =>
        Enum.TryParse(name, ignoreCase: true, out format) && Enum.IsDefined(format) && !int.TryParse(name, out _);

    /// <summary>Sorts by submit time, then id (ordinal); skips the sort when already in order.</summary>
    internal static void SortJobs(List<JobSpec> jobs)
    {
        for (var i = 1; i < jobs.Count; i++)
        {
            if (Compare(jobs[i - 1], jobs[i]) > 0)
            {
                jobs.Sort(Compare);
                return;
            }
        }
    }

    private static int Compare(JobSpec a, JobSpec b)
    {
        var c = a.SubmitTime.UtcTicks.CompareTo(b.SubmitTime.UtcTicks);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }
}

/// <summary>What an importer hands back to <see cref="TraceLoader"/>.</summary>
internal sealed record ImportResult(List<JobSpec> Jobs, List<string> Notes, IReadOnlyList<TraceNode> Fleet, IReadOnlySet<string>? Censored = null);
