using System.Globalization;
using System.Text.RegularExpressions;

namespace Gureum.Simulation.Cloud;

/// <summary>Memory per GPU: from a SkyPilot <c>GpuInfo</c> dict string when it carries sizes, else
/// from the model's datasheet figure.</summary>
internal static partial class GpuMemory
{
    /// <summary>Datasheet memory per GPU in GiB, for rows whose GpuInfo has no sizes (Azure writes
    /// only the model name there). Vendor datasheets; B200 as sold in 8-GPU cloud nodes (180 GB).</summary>
    private static readonly Dictionary<string, double> DatasheetGiB = new(StringComparer.OrdinalIgnoreCase)
    {
        ["K80"] = 12, ["P4"] = 8, ["M60"] = 8, ["P100"] = 16, ["T4"] = 16, ["V100"] = 16, ["V100-32GB"] = 32,
        ["L4"] = 24, ["A10"] = 24, ["A10G"] = 24, ["A6000"] = 48, ["RTX6000"] = 24, ["L40S"] = 48,
        ["A100"] = 40, ["A100-80GB"] = 80, ["H100"] = 80, ["H100-MEGA"] = 80, ["GH200"] = 96, ["H200"] = 141,
        ["B200"] = 180, ["MI25"] = 16, ["MI300X"] = 192, ["RTX3060"] = 12, ["RTX3090"] = 24, ["RTX4090"] = 24,
        ["RTX5090"] = 32,
    };

    [GeneratedRegex(@"'SizeInMiB':\s*([0-9.]+)")]
    private static partial Regex SizeRegex();

    /// <summary>
    /// GiB per GPU from <c>SizeInMiB</c>, which AWS, GCP and Lambda write per GPU (Lambda's
    /// <c>TotalGpuMemoryInMiB</c> wrongly repeats the per-GPU figure, so it is not used) and Vast
    /// writes for all GPUs of the offer (<paramref name="sizeIsTotal"/>: divided by the count).
    /// Without sizes: the datasheet figure, else 0.
    /// </summary>
    public static double PerGpuGiB(string? gpuInfo, int gpuCount, string? canonicalModel, bool sizeIsTotal = false)
    {
        if (gpuInfo is not null)
        {
            var size = SizeRegex().Match(gpuInfo);
            if (size.Success && double.TryParse(size.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0)
            {
                return Math.Round(s / (sizeIsTotal && gpuCount > 0 ? gpuCount : 1) / 1024.0, 2);
            }
        }

        return canonicalModel is not null && DatasheetGiB.TryGetValue(canonicalModel, out var g) ? g : 0;
    }
}
