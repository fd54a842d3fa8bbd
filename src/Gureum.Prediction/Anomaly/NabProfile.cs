using System.Text.Json;

namespace Gureum.Prediction.Anomaly;

/// <summary>A NAB scoring profile: the weights of its cost matrix (NAB <c>config/profiles.json</c>).</summary>
/// <param name="Name">Profile name as NAB spells it, e.g. <c>standard</c>.</param>
/// <param name="TpWeight">Reward of a window detected at its very start.</param>
/// <param name="FpWeight">Cost of a detection far from any window.</param>
/// <param name="FnWeight">Cost of a window with no detection.</param>
public sealed record NabProfile(string Name, double TpWeight, double FpWeight, double FnWeight)
{
    /// <summary>NAB <c>standard</c>: TP 1, FP 0.11, FN 1.</summary>
    public static NabProfile Standard { get; } = new("standard", 1.0, 0.11, 1.0);

    /// <summary>NAB <c>reward_low_FP_rate</c>: TP 1, FP 0.22, FN 1.</summary>
    public static NabProfile RewardLowFpRate { get; } = new("reward_low_FP_rate", 1.0, 0.22, 1.0);

    /// <summary>NAB <c>reward_low_FN_rate</c>: TP 1, FP 0.11, FN 2.</summary>
    public static NabProfile RewardLowFnRate { get; } = new("reward_low_FN_rate", 1.0, 0.11, 2.0);

    /// <summary>The three NAB profiles, in NAB's order.</summary>
    public static IReadOnlyList<NabProfile> All { get; } = [Standard, RewardLowFpRate, RewardLowFnRate];

    /// <summary>Reads NAB's <c>profiles.json</c> (<c>{name: {"CostMatrix": {"tpWeight", "fpWeight", "fnWeight"}}}</c>).</summary>
    /// <exception cref="InvalidDataException">The file is not of that form; the message says where.</exception>
    public static IReadOnlyList<NabProfile> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"profiles file not found: {path}", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var list = new List<NabProfile>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (!p.Value.TryGetProperty("CostMatrix", out var m))
                    throw new InvalidDataException($"{path}: profile \"{p.Name}\" has no \"CostMatrix\"");
                list.Add(new NabProfile(p.Name, Weight(m, "tpWeight"), Weight(m, "fpWeight"), Weight(m, "fnWeight")));

                double Weight(JsonElement matrix, string name) =>
                    matrix.TryGetProperty(name, out var w) && w.ValueKind == JsonValueKind.Number
                        ? w.GetDouble()
                        : throw new InvalidDataException($"{path}: profile \"{p.Name}\" has no numeric \"{name}\"");
            }
            if (list.Count == 0) throw new InvalidDataException($"{path}: no profiles");
            return list;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}", e);
        }
    }
}
