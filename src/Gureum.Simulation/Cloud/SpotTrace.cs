namespace Gureum.Simulation.Cloud;

/// <summary>
/// One measured spot-capacity series: <c>Data[i]</c> is the state at tick i (start + i × Gap).
/// For single-node traces 1 = capacity available / instance up and 0 = not; for multi-node traces
/// the count of instances up (0..<see cref="MaxValue"/>).
/// </summary>
/// <param name="Name">Path of the file under the loaded directory, without extension
/// (e.g. <c>cant_be_late/availability/1-node/aws-02-15-2023/us-east-1a_v100_1</c>).</param>
/// <param name="Zone">Zone as the file names it: an account-specific AWS alias such as
/// <c>us-east-1a</c>, or a GCP zone such as <c>us-central1-a</c>.</param>
/// <param name="GpuKey">The rest of the file name, e.g. <c>v100_1</c>, <c>intel_64</c>, <c>c3-88</c>.</param>
/// <param name="Gap">Time between ticks.</param>
/// <param name="Data">State per tick.</param>
/// <param name="MaxValue">Largest possible value: N for an <c>N-node</c> directory, else the
/// largest value seen, at least 1.</param>
/// <param name="Prices">Spot price per tick (USD per instance-hour) when the file has them.</param>
public sealed record SpotTrace(string Name, string Zone, string GpuKey, TimeSpan Gap, int[] Data, int MaxValue, decimal[]? Prices)
{
    /// <summary>Wall-clock start of tick 0 when the file records it (raw probe logs), else null.</summary>
    public DateTimeOffset? StartUtc { get; init; }

    /// <summary>Length of one cycle of the trace.</summary>
    public TimeSpan Duration => Gap * Data.Length;

    /// <summary>Cloud inferred from the zone spelling: <c>us-east-1a</c> → aws, <c>us-east1-b</c> → gcp.</summary>
    public string Cloud => TraceZones.Parse(Zone).Cloud;

    /// <summary>Region inferred from the zone spelling (<c>us-east-1a</c> → <c>us-east-1</c>).</summary>
    public string Region => TraceZones.Parse(Zone).Region;

    /// <summary>Canonical GPU model the trace measured, or null for CPU instances
    /// (<c>v100_1</c> → V100, <c>a100_40gb_8</c> → A100, <c>k80_8</c> → K80, <c>intel_64</c> → null).</summary>
    public string? GpuModel => TraceZones.ModelOf(GpuKey);

    /// <summary>Fraction of ticks with a value of at least 1.</summary>
    public double AvailabilityFraction => Data.Length == 0 ? 0 : Data.Count(v => v > 0) / (double)Data.Length;
}

/// <summary>Zone and model spellings in trace file names.</summary>
internal static class TraceZones
{
    public static (string Cloud, string Region) Parse(string zone)
    {
        // GCP: <region ending in a digit>-<letter> (us-central1-a). AWS alias: <region>-<digit><letter> (us-east-1a).
        if (zone.Length >= 3 && char.IsAsciiLetterLower(zone[^1]) && zone[^2] == '-' && char.IsAsciiDigit(zone[^3]))
        {
            return ("gcp", zone[..^2]);
        }

        if (zone.Length >= 2 && char.IsAsciiLetterLower(zone[^1]) && char.IsAsciiDigit(zone[^2]))
        {
            return ("aws", zone[..^1]);
        }

        return ("unknown", zone);
    }

    public static string? ModelOf(string gpuKey)
    {
        // CPU traces: intel_64 (r5.16xlarge) and c3-88 (GCP c3-highcpu-88).
        if (gpuKey.StartsWith("intel", StringComparison.Ordinal) || gpuKey.StartsWith("c3-", StringComparison.Ordinal))
        {
            return null;
        }

        return CatalogLoader.CanonicalGpu(gpuKey.Split('_')[0]);
    }
}
