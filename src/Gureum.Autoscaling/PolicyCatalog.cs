using Gureum.Autoscaling.Operator;
using Gureum.Scheduling;
using Gureum.Scheduling.Framework;

namespace Gureum.Autoscaling;

/// <summary>The named policies a replay or a server can run, each a scheduler profile plus an autoscaler.</summary>
public static class PolicyCatalog
{
    /// <summary>Policy names: the baselines and <c>gureum</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["static", "reactive", "spot-fallback", "gureum"];

    /// <summary>The baseline policies <c>gureum</c> is compared with.</summary>
    public static IReadOnlyList<string> Baselines { get; } = ["static", "reactive", "spot-fallback"];

    /// <summary>Builds a policy by name with a scheduler profile (default: <see cref="Profiles.Default"/>).
    /// <c>gureum</c> brings its own profile (<see cref="CreateGureum"/>) and ignores <paramref name="profile"/>.
    /// Throws <see cref="ArgumentException"/> listing the known names.
    /// <paramref name="sharedDurations"/>: for <c>gureum</c>, a duration predictor trained elsewhere
    /// (live: the server's model over the store's finished jobs) that the policy asks but does not
    /// feed; null = the policy's own learned predictor, trained from the runs it sees end (replay).</summary>
    public static PolicyDecisionCore Create(string name, ProfileConfig? profile = null, ElasticOptions? options = null, Prediction.IDurationPredictor? sharedDurations = null)
    {
        if (name.Equals("gureum", StringComparison.OrdinalIgnoreCase))
        {
            var o = options is null ? new GureumOptions() : new GureumOptions { Elastic = options };
            return CreateGureum(o, sharedDurations is null ? null : new OperatorModels(sharedDurations) { LearnsDurations = false, RestartOverhead = o.RestartOverhead });
        }
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

    /// <summary>
    /// The <c>gureum</c> policy: profile "gureum" = priority, then predicted-shortest-first with
    /// aging and lab fair share; filters gpu-model, market, zone and gureum-fit (speed and spot
    /// risk); bin-packing; no preemption (in a cloud, more capacity is bought instead of stopping
    /// work) — plus <see cref="GureumPolicy"/> for capacity.
    /// </summary>
    public static PolicyDecisionCore CreateGureum(GureumOptions? options = null, OperatorModels? models = null) =>
        CreateGureumWith(new GureumPolicy(options, models));

    /// <summary>The <c>gureum</c> decision core around a given policy instance (tests).</summary>
    internal static PolicyDecisionCore CreateGureumWith(GureumPolicy policy)
    {
        var config = Profiles.Default with { Name = "gureum", QueueSort = ["priority"], Preemption = null };
        var built = PluginRegistry.Default.Build(config);
        var profile = built with
        {
            QueueSort = [.. built.QueueSort, new PredictedShortestFirstQueueSort(policy)],
            Filters = [.. built.Filters, new GureumFitFilter(policy)],
        };
        return new PolicyDecisionCore(policy.Name, new Scheduler(profile), policy);
    }
}
