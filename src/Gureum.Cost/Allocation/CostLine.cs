using Gureum.Core.Cloud;

namespace Gureum.Cost.Allocation;

/// <summary>Whether money paid for a node went to a job or to nobody.</summary>
public enum CostKind
{
    /// <summary>The share of a node a job held.</summary>
    Usage,
    /// <summary>Billed time no job used (boot, empty nodes, unused slices): the pool's idle cost.</summary>
    Idle,
}

/// <summary>
/// One allocated amount: the part of one node's bill, on one UTC day, that one job held (or that
/// nobody held: <see cref="CostKind.Idle"/>, with lab/project/user <see cref="IdleOwner"/>).
/// Amounts are whole micro-dollars (6 decimals); the lines of a node bill sum exactly to the bill
/// rounded to the micro-dollar.
/// </summary>
public sealed record CostLine
{
    /// <summary>Owner shown for idle lines.</summary>
    public const string IdleOwner = "(idle)";

    public required string Source { get; init; }
    public required DateOnly Day { get; init; }
    public required CostKind Kind { get; init; }
    public required string Lab { get; init; }
    public required string Project { get; init; }
    public required string User { get; init; }
    public string? JobId { get; init; }
    public required string NodeId { get; init; }
    public required string OfferId { get; init; }
    public required string Cloud { get; init; }
    public required string Region { get; init; }
    public required string Zone { get; init; }
    public required string InstanceType { get; init; }
    public string? GpuModel { get; init; }
    public required Market Market { get; init; }
    /// <summary>Allocated USD (6 decimals).</summary>
    public required decimal AmountUsd { get; init; }
    /// <summary>Node-seconds of this line weighted by the share held (for idle: the unheld share).</summary>
    public required double NodeSeconds { get; init; }
    /// <summary>GPU-seconds the job held on this node this day (0 for idle).</summary>
    public required double GpuSeconds { get; init; }
    /// <summary>What the same node-seconds cost at the on-demand list price (6 decimals).</summary>
    public required decimal ListUsd { get; init; }
}
