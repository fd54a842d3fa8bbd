using Gureum.Scheduling;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling;

/// <summary>The named policies a replay or a server can run, each a scheduler profile plus an autoscaler.</summary>
public static class PolicyCatalog
{
    /// <summary>Baseline policy names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["static", "reactive", "spot-fallback"];

    /// <summary>Builds a policy by name with a scheduler profile (default: <see cref="Profiles.Default"/>).
    /// Throws <see cref="ArgumentException"/> listing the known names.</summary>
    public static PolicyDecisionCore Create(string name, ProfileConfig? profile = null, ElasticOptions? options = null)
    {
        profile ??= Profiles.Default;
        // spot-fallback moves a job to on-demand after repeated spot losses: the scheduler must agree.
        if (name.Equals("spot-fallback", StringComparison.OrdinalIgnoreCase) && !profile.Filters.Contains("spot-retry-limit"))
            profile = profile with { Filters = [.. profile.Filters, "spot-retry-limit"] };
        var scheduler = new Scheduler(PluginRegistry.Default.Build(profile));
        IAutoscalerPolicy autoscaler = name.ToLowerInvariant() switch
        {
            "static" => new StaticPolicy(),
            "reactive" => new ReactivePolicy(options),
            "spot-fallback" => new SpotFallbackPolicy(options),
            _ => throw new ArgumentException($"Unknown policy '{name}'. Known: {string.Join(", ", Names)}."),
        };
        return new PolicyDecisionCore(autoscaler.Name, scheduler, autoscaler);
    }
}
