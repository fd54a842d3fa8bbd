using System.Collections.Frozen;

namespace Gureum.Core.Domain;

/// <summary>
/// Canonical GPU model names and their relative training throughput. A job's run time on model M
/// is its run time on its reference GPU × speed(reference) / speed(M).
/// </summary>
/// <remarks>
/// Factors are relative to V100 = 1.0 and are rounded figures for mixed-precision training of
/// common models (ResNet-50, BERT, transformer LMs), taken from: Gavel (Narayanan et al., OSDI 2020,
/// measured K80/P100/V100 throughputs, Table 2 / Fig. 1: K80 ≈ 0.2–0.3×, P100 ≈ 0.5–0.7× of V100);
/// Lambda Labs "Deep Learning GPU Benchmarks" (lambdalabs.com/gpu-benchmarks: A100 ≈ 2.2×,
/// H100 SXM ≈ 4×, A10/A10G ≈ 0.7–0.9×, T4 ≈ 0.4×, A6000 ≈ 1.4× of V100 in PyTorch FP16 training);
/// NVIDIA L4 datasheet (≈ 1.2× T4-generation successor, ≈ 0.6× V100 for training); NVIDIA H200/B200
/// launch material (H200 ≈ 1.2× H100 memory-bound, B200 ≈ 2× H100). These are approximate and are
/// printed in every report so a reader can substitute their own.
/// </remarks>
public static class GpuModels
{
    /// <summary>Reference GPU when a trace names none (openb, DLRM): V100, the model of the
    /// clusters those traces describe most often (FGD's openb cluster is V100/P100/T4-era).</summary>
    public const string DefaultReference = "V100";

    /// <summary>Relative training throughput per canonical model, V100 = 1.0.</summary>
    public static IReadOnlyDictionary<string, double> Speed { get; } = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase)
    {
        ["K80"] = 0.25,
        ["P4"] = 0.3,
        ["M60"] = 0.3,
        ["P100"] = 0.6,
        ["T4"] = 0.4,
        ["V100"] = 1.0,
        ["V100-32GB"] = 1.0,
        ["L4"] = 0.6,
        ["A10"] = 0.8,
        ["A10G"] = 0.75,
        ["A6000"] = 1.4,
        ["RTX6000"] = 1.3,
        ["L40S"] = 1.8,
        ["A100"] = 2.2,
        ["A100-80GB"] = 2.4,
        ["H100"] = 4.0,
        ["H100-MEGA"] = 4.0,
        ["GH200"] = 4.4,
        ["H200"] = 4.6,
        ["B200"] = 8.0,
        ["MI25"] = 0.5,
        ["MI300X"] = 4.0,
        ["RTX3060"] = 0.45,
        ["RTX3090"] = 1.1,
        ["RTX4090"] = 1.6,
        ["RTX5090"] = 2.0,
    };

    /// <summary>
    /// Maps trace and catalog spellings to canonical names: <c>V100M16</c>/<c>V100M32</c> (openb),
    /// <c>A100-40GB</c>, lower case, and openb's undisclosed G1/G2/G3, which are treated as V100
    /// (stated in every report that uses them).
    /// </summary>
    public static string Canonical(string model)
    {
        var m = model.Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return m switch
        {
            "V100M16" or "V100-16GB" or "V100" => "V100",
            "V100M32" or "V100-32GB" => "V100-32GB",
            "A100-40GB" or "A100" => "A100",
            "A100-80GB" or "A10080GB" => "A100-80GB",
            "G1" or "G2" or "G3" => "V100",
            _ => Speed.Keys.FirstOrDefault(k => string.Equals(k.Replace("-", "", StringComparison.Ordinal), m.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)) ?? m,
        };
    }

    // The same table for lookups only (SpeedOf runs in the cost model's inner loop); Speed keeps its
    // enumeration order for reports.
    private static readonly FrozenDictionary<string, double> SpeedLookup = Speed.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Relative speed of a model; unknown models count as the reference (1.0 × V100).</summary>
    public static double SpeedOf(string? model) =>
        model is not null && SpeedLookup.TryGetValue(model, out var s) ? s : 1.0;

    /// <summary>Run time of a job measured on <paramref name="reference"/> when run on <paramref name="model"/>.</summary>
    public static TimeSpan Scale(TimeSpan onReference, string reference, string? model) =>
        model is null ? onReference : TimeSpan.FromTicks((long)Math.Ceiling(onReference.Ticks * SpeedOf(reference) / SpeedOf(model)));
}
