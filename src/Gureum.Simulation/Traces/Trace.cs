using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>The trace formats <see cref="TraceLoader"/> reads. Each importer's assumptions are on its member.</summary>
public enum TraceFormat
{
    /// <summary>
    /// Alibaba GPU trace v2023 (FGD, ATC'23): <c>openb_pod_list_default.csv</c>, one job per pod, plus
    /// <c>openb_node_list_all_node.csv</c> as the fleet. See <see cref="OpenbImporter"/>.
    /// </summary>
    Openb,

    /// <summary>Alibaba GPU trace v2025 (Prism, NSDI'25) DLRM serving pods. See <see cref="DlrmImporter"/>.</summary>
    Dlrm,

    /// <summary>
    /// SenseTime Helios per-minute per-VC demand (<c>*_cluster_sequence_vc.csv</c>, a file or a directory
    /// of them), replayed as 1-GPU demand slices. See <see cref="HeliosImporter"/>.
    /// </summary>
    Helios,

    /// <summary>Gureum's own CSV. See <see cref="GureumCsv"/>.</summary>
    Gureum,
}

/// <summary>How <see cref="TraceLoader.Load"/> reads a trace.</summary>
public sealed record TraceLoadOptions
{
    /// <summary>The default epoch, 2020-01-01T00:00Z.</summary>
    public static readonly DateTimeOffset DefaultEpoch = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// When true, a malformed row is counted in <see cref="Trace.BadRowsSkipped"/>, its message kept
    /// (the first 20) and loading continues; when false (the default) the first bad row throws a
    /// <see cref="TraceFormatException"/>. Header errors (missing or unknown columns) always throw.
    /// </summary>
    public bool SkipBadRows { get; init; }

    /// <summary>
    /// Absolute time of trace second 0: every relative time in a trace is an offset from it.
    /// Default <see cref="DefaultEpoch"/> (2020-01-01T00:00Z).
    /// </summary>
    public DateTimeOffset Epoch { get; init; } = DefaultEpoch;

    /// <summary>
    /// openb only: the node list to use as the fleet. Default null: <c>openb_node_list_all_node.csv</c>
    /// beside the pod list when it exists, else no fleet.
    /// </summary>
    public string? NodeListPath { get; init; }
}

/// <summary>A node of the cluster a trace was recorded on.</summary>
/// <param name="Id">Node id as the trace names it.</param>
/// <param name="GpuModel">Canonical GPU model (<see cref="GpuModels.Canonical"/>); null for CPU-only nodes.</param>
/// <param name="RawModel">GPU model as the trace spells it (openb's G1/G2/G3 are kept here); null when empty.</param>
/// <param name="Gpus">Whole GPUs on the node.</param>
/// <param name="Cpus">vCPUs.</param>
/// <param name="MemoryGiB">Memory in GiB.</param>
public sealed record TraceNode(string Id, string? GpuModel, string? RawModel, int Gpus, double Cpus, double MemoryGiB);

/// <summary>
/// A loaded trace: jobs placed on <see cref="Epoch"/>, the fleet when the trace has one, and every
/// trimming or assumption the importer made (<see cref="Notes"/>) so reports can state them.
/// </summary>
public sealed record Trace
{
    /// <summary>Trace name (file or directory name without extension).</summary>
    public required string Name { get; init; }

    /// <summary>The format it was read as.</summary>
    public required TraceFormat Format { get; init; }

    /// <summary>Jobs sorted by <see cref="JobSpec.SubmitTime"/>, then by <see cref="JobSpec.Id"/> (ordinal).</summary>
    public required IReadOnlyList<JobSpec> Jobs { get; init; }

    /// <summary>Nodes of the recorded cluster; empty when the trace has no inventory.</summary>
    public IReadOnlyList<TraceNode> Fleet { get; init; } = [];

    /// <summary>Every trimming and assumption made while importing, one sentence each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Rows skipped as malformed (only with <see cref="TraceLoadOptions.SkipBadRows"/>).</summary>
    public int BadRowsSkipped { get; init; }

    /// <summary>Messages of the first <see cref="TraceLoader.MaxBadRowMessages"/> skipped rows.</summary>
    public IReadOnlyList<string> BadRowMessages { get; init; } = [];

    /// <summary>Absolute time of trace second 0.</summary>
    public required DateTimeOffset Epoch { get; init; }

    /// <summary>Jobs whose recorded run time is cut by the trace window (started before it or still
    /// running at its end): their <see cref="JobSpec.Duration"/> is a bound, not the run time. Empty
    /// when the format records none.</summary>
    public IReadOnlySet<string> CensoredJobIds { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>
/// A malformed trace file: names the file, the 1-based line, the column and how to fix it.
/// Nothing of the trace is returned when it is thrown.
/// </summary>
public sealed class TraceFormatException : FormatException
{
    /// <summary>Creates the exception; <see cref="Exception.Message"/> combines every part.</summary>
    public TraceFormatException(string file, int line, string? column, string problem, string fix)
        : base(Compose(file, line, column, problem, fix))
    {
        File = file;
        Line = line;
        Column = column;
        Problem = problem;
        Fix = fix;
    }

    /// <summary>The file (as given to the loader).</summary>
    public string File { get; }

    /// <summary>1-based line where the bad record starts (1 is the header); 0 for the file as a whole.</summary>
    public int Line { get; }

    /// <summary>Column name, or null when the whole row or header is at fault.</summary>
    public string? Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    /// <summary>How to fix it.</summary>
    public string Fix { get; }

    /// <summary>"file:line, column 'c': problem" without the fix (for CLI messages that print the fix apart).</summary>
    public string Location => Line > 0
        ? $"{File}:{Line}{(Column is null ? "" : $", column '{Column}'")}"
        : File;

    private static string Compose(string file, int line, string? column, string problem, string fix)
    {
        var where = line > 0 ? $"{file}:{line}{(column is null ? "" : $", column '{column}'")}" : file;
        return $"{where}: {problem} To fix: {fix}";
    }
}
