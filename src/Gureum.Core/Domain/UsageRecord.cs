using Gureum.Core.Cloud;

namespace Gureum.Core.Domain;

/// <summary>
/// Metered use of one node by one run of a job: the slice it held (<see cref="MilliGpus"/>,
/// <see cref="Cpus"/>, <see cref="MemoryGiB"/>) from <see cref="Start"/> to <see cref="End"/>, the
/// resource-seconds that makes, and the node's market and price when the run started. One record
/// per (job run, node); a gang run on three nodes makes three. Built from the runs the control
/// loop records (<see cref="JobRun"/>) and the placement, which equals the job's per-node request.
/// </summary>
public sealed record UsageRecord
{
    public required string JobId { get; init; }
    /// <summary>0-based index of the run among the job's runs (restarts after preemption count).</summary>
    public required int RunIndex { get; init; }
    public required string NodeId { get; init; }
    public required string Lab { get; init; }
    public required string Project { get; init; }
    public required string User { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    /// <summary>Milli-GPUs held on this node (1000 per whole GPU; a share of one GPU below 1000).</summary>
    public required int MilliGpus { get; init; }
    public required double Cpus { get; init; }
    public required double MemoryGiB { get; init; }
    public string? GpuModel { get; init; }
    public required string OfferId { get; init; }
    public required Market Market { get; init; }
    /// <summary>The node's USD per hour (whole node) when the run started.</summary>
    public required decimal PricePerHourAtStart { get; init; }
    /// <summary>How the run ended; null while it still runs.</summary>
    public RunOutcome? Outcome { get; init; }

    public double Seconds => Math.Max(0, (End - Start).TotalSeconds);
    public double GpuSeconds => MilliGpus / 1000.0 * Seconds;
    public double CpuSeconds => Cpus * Seconds;
    public double MemoryGiBSeconds => MemoryGiB * Seconds;
}
