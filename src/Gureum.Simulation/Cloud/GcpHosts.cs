namespace Gureum.Simulation.Cloud;

/// <summary>
/// Which GPUs a GCP host VM carries. Accelerator-optimized families have them built in (the host row
/// is priced without them); n1 VMs take attachable GPUs. From the GCP machine-family documentation
/// (cloud.google.com/compute/docs/gpus and /accelerator-optimized-machines), as SkyPilot's GCP
/// catalog does it.
/// </summary>
internal static class GcpHosts
{
    private static readonly Dictionary<string, (string Model, int Count)> Fixed = new(StringComparer.Ordinal)
    {
        ["a2-highgpu-1g"] = ("A100", 1), ["a2-highgpu-2g"] = ("A100", 2), ["a2-highgpu-4g"] = ("A100", 4),
        ["a2-highgpu-8g"] = ("A100", 8), ["a2-megagpu-16g"] = ("A100", 16),
        ["a2-ultragpu-1g"] = ("A100-80GB", 1), ["a2-ultragpu-2g"] = ("A100-80GB", 2),
        ["a2-ultragpu-4g"] = ("A100-80GB", 4), ["a2-ultragpu-8g"] = ("A100-80GB", 8),
        ["a3-highgpu-1g"] = ("H100", 1), ["a3-highgpu-2g"] = ("H100", 2), ["a3-highgpu-4g"] = ("H100", 4),
        ["a3-highgpu-8g"] = ("H100", 8), ["a3-edgegpu-8g"] = ("H100", 8), ["a3-edgegpu-8g-nolssd"] = ("H100", 8),
        ["a3-megagpu-8g"] = ("H100-MEGA", 8),
        ["a3-ultragpu-8g"] = ("H200", 8), ["a3-ultragpu-8g-nolssd"] = ("H200", 8),
        ["a4-highgpu-8g"] = ("B200", 8),
        ["g2-standard-4"] = ("L4", 1), ["g2-standard-8"] = ("L4", 1), ["g2-standard-12"] = ("L4", 1),
        ["g2-standard-16"] = ("L4", 1), ["g2-standard-32"] = ("L4", 1), ["g2-standard-24"] = ("L4", 2),
        ["g2-standard-48"] = ("L4", 4), ["g2-standard-96"] = ("L4", 8),
    };

    /// <summary>The built-in GPUs of an accelerator-optimized type, or null for any other type.</summary>
    public static (string Model, int Count)? BuiltInAccelerator(string instanceType) =>
        Fixed.TryGetValue(instanceType, out var g) ? g : null;

    /// <summary>n1 VMs are the only family that takes attachable GPUs. The catalog's only n1 type,
    /// n1-standard-8, is within GCP's vCPU limit for every count of every attachable model
    /// (the tightest, 1 × V100, allows 12 vCPUs), so no per-count check is made.</summary>
    public static bool AcceptsAttachedGpus(string instanceType) =>
        instanceType.StartsWith("n1-", StringComparison.Ordinal);

    /// <summary>GPUs that attach to n1 VMs.</summary>
    public static bool IsAttachable(string canonicalModel) =>
        canonicalModel is "T4" or "V100" or "P100" or "P4";
}
