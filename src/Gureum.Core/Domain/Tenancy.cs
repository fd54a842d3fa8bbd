namespace Gureum.Core.Domain;

/// <summary>A lab's standing in fair share: its weight, its decayed usage and its quota.</summary>
/// <param name="Name">Lab name.</param>
/// <param name="Weight">Fair-share weight (share of the cluster it is entitled to, relative).</param>
/// <param name="DecayedGpuSeconds">GPU-seconds used, decayed with the fair-share half-life.</param>
/// <param name="RunningMilliGpus">Milli-GPUs its jobs hold right now.</param>
/// <param name="MaxConcurrentGpus">Quota on concurrent GPUs; null = none.</param>
public sealed record LabShare(string Name, double Weight, double DecayedGpuSeconds, long RunningMilliGpus, double? MaxConcurrentGpus = null)
{
    /// <summary>Usage per unit of weight: lower goes first.</summary>
    public double NormalizedUsage => DecayedGpuSeconds / Math.Max(Weight, 1e-9);
}
