using Gureum.Core.Domain;

namespace Gureum.Core.Control;

/// <summary>How much of a job's work survives when its run is cut short.</summary>
public static class Progress
{
    /// <summary>
    /// Work (on the reference GPU) kept after the current run stops at <paramref name="now"/>: the
    /// run's productive time (after the restart overhead, scaled by the GPU's speed) added to what
    /// was saved before, then rounded down to the last checkpoint. A service keeps all of it (it has
    /// no checkpoints to round to: a replacement serves on). A batch job that does not checkpoint
    /// keeps nothing.
    /// </summary>
    public static TimeSpan WorkSavedAt(JobView job, DateTimeOffset now, string? gpuModel, TimeSpan restartOverhead)
    {
        if (!job.Spec.KeepsWorkOnPreemption || job.RunStartedAt is null) return TimeSpan.Zero;
        var total = WorkDoneAt(job, now, gpuModel, restartOverhead);
        var saved = job.Spec.Kind == JobKind.Service
            ? total
            : TimeSpan.FromTicks(total.Ticks / job.Spec.CheckpointInterval!.Value.Ticks * job.Spec.CheckpointInterval!.Value.Ticks);
        return job.Spec.Duration is { } d && saved > d ? d : saved;
    }

    /// <summary>Work (on the reference GPU) done by <paramref name="now"/>: what was saved before the
    /// current run plus the run's productive time (after the restart overhead, scaled by the GPU's
    /// speed), before any rounding to a checkpoint. <see cref="JobView.WorkSaved"/> when not running.</summary>
    public static TimeSpan WorkDoneAt(JobView job, DateTimeOffset now, string? gpuModel, TimeSpan restartOverhead)
    {
        if (job.RunStartedAt is not { } started) return job.WorkSaved;
        var overhead = job.Attempts > 1 ? restartOverhead : TimeSpan.Zero;
        var productive = now - started - overhead;
        if (productive < TimeSpan.Zero) productive = TimeSpan.Zero;
        var usesGpu = job.Spec.Resources.MilliGpusPerNode > 0;
        var factor = usesGpu ? GpuModels.SpeedOf(gpuModel) / GpuModels.SpeedOf(job.Spec.ReferenceGpu) : 1.0;
        return job.WorkSaved + TimeSpan.FromTicks((long)(productive.Ticks * factor));
    }

    /// <summary>Wall time the job still needs on <paramref name="gpuModel"/>, including the restart
    /// overhead when this is not its first run. Null when its duration is unknown (live jobs).</summary>
    public static TimeSpan? RemainingRunTime(JobView job, string? gpuModel, TimeSpan restartOverhead)
    {
        if (job.Spec.Duration is not { } d) return null;
        var remaining = d - job.WorkSaved;
        if (remaining < TimeSpan.Zero) remaining = TimeSpan.Zero;
        var usesGpu = job.Spec.Resources.MilliGpusPerNode > 0;
        var wall = usesGpu ? GpuModels.Scale(remaining, job.Spec.ReferenceGpu, gpuModel) : remaining;
        return job.Attempts > 1 ? wall + restartOverhead : wall;
    }

    /// <summary>The slowest GPU model among a job's nodes (a gang runs at the pace of its slowest member).</summary>
    public static string? SlowestModel(IEnumerable<Node> nodes)
    {
        string? slowest = null;
        foreach (var n in nodes)
            if (n.Offer.GpuModel is { } m && (slowest is null || GpuModels.SpeedOf(m) < GpuModels.SpeedOf(slowest))) slowest = m;
        return slowest;
    }
}
