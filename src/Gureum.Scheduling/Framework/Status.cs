namespace Gureum.Scheduling.Framework;

/// <summary>
/// Outcome of a plugin call, as in the Kubernetes scheduling framework. What each code means for
/// retries: <see cref="Success"/> go on; <see cref="Unschedulable"/> not on this node now, may fit
/// later (retried next decision); <see cref="UnschedulableAndUnresolvable"/> not on this node
/// whatever changes (preemption will not help); <see cref="Error"/> a bug or bad input, the job
/// is skipped this decision; <see cref="Skip"/> the plugin does not apply to this job.
/// </summary>
public enum Code
{
    Success,
    Unschedulable,
    UnschedulableAndUnresolvable,
    Error,
    Skip,
}

/// <summary>A code with a reason people can read.</summary>
public readonly record struct Status(Code Code, string? Reason = null)
{
    public static Status Ok { get; } = new(Code.Success);
    public bool IsSuccess => Code is Code.Success or Code.Skip;
    public static Status No(string reason) => new(Code.Unschedulable, reason);
    public static Status Never(string reason) => new(Code.UnschedulableAndUnresolvable, reason);
}
