using Gureum.Scheduling.Plugins;

namespace Gureum.Scheduling.Framework;

/// <summary>A scheduler profile as configuration names it: plugin names per phase.</summary>
public sealed record ProfileConfig
{
    public required string Name { get; init; }
    /// <summary>Queue-sort chain, most significant first. Ties end on arrival order.</summary>
    public IReadOnlyList<string> QueueSort { get; init; } = ["priority", "fifo"];
    /// <summary>Filters besides the built-in resource fit and node-state checks.</summary>
    public IReadOnlyList<string> Filters { get; init; } = ["gpu-model", "market", "zone"];
    /// <summary>Score plugins and their weights.</summary>
    public IReadOnlyDictionary<string, double> Scores { get; init; } = new Dictionary<string, double> { ["binpack"] = 1 };
    /// <summary>Backfill plugin name, or null for none.</summary>
    public string? Backfill { get; init; }
    /// <summary>Preemption plugin name, or null for none.</summary>
    public string? Preemption { get; init; }
    /// <summary>Without backfill: stop at the first job that cannot start (strict order, head-of-line
    /// blocking) when true; otherwise try every job in order (Kubernetes-style). Default false.</summary>
    public bool StrictOrder { get; init; }
}

/// <summary>A validated profile: plugin instances per phase.</summary>
public sealed record Profile(
    string Name,
    IReadOnlyList<IQueueSortPlugin> QueueSort,
    IReadOnlyList<IFilterPlugin> Filters,
    IReadOnlyList<(IScorePlugin Plugin, double Weight)> Scores,
    IBackfillPlugin? Backfill,
    IPreemptionPlugin? Preemption,
    bool StrictOrder);

/// <summary>
/// Plugin registry: name → factory. Profiles are built from configuration and validated here at
/// start-up, so an unknown plugin name fails before any decision is made.
/// </summary>
public sealed class PluginRegistry
{
    private readonly Dictionary<string, Func<IPlugin>> _factories = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The registry with every built-in plugin.</summary>
    public static PluginRegistry Default { get; } = CreateDefault();

    private static PluginRegistry CreateDefault()
    {
        var r = new PluginRegistry();
        r.Register(() => new PriorityQueueSort());
        r.Register(() => new FifoQueueSort());
        r.Register(() => new FairShareQueueSort());
        r.Register(() => new ShortestLimitQueueSort());
        r.Register(() => new GpuModelFilter());
        r.Register(() => new MarketFilter());
        r.Register(() => new ZoneFilter());
        r.Register(() => new GpuNodeReservedFilter());
        r.Register(() => new SpotRetryLimitFilter());
        r.Register(() => new BinPackScore());
        r.Register(() => new SpreadScore());
        r.Register(() => new FastGpuScore());
        r.Register(() => new EasyBackfill());
        r.Register(() => new PriorityPreemption());
        return r;
    }

    /// <summary>Registers a plugin factory under the plugin's own name.</summary>
    public void Register<T>(Func<T> factory) where T : IPlugin
    {
        var name = factory().Name;
        _factories[name] = () => factory();
    }

    /// <summary>Registered plugin names.</summary>
    public IEnumerable<string> Names => _factories.Keys.Order(StringComparer.Ordinal);

    /// <summary>Builds and validates a profile. Throws <see cref="ArgumentException"/> naming the
    /// bad plugin, its phase and the names that would work.</summary>
    public Profile Build(ProfileConfig c)
    {
        T Get<T>(string name, string phase) where T : class, IPlugin
        {
            if (!_factories.TryGetValue(name, out var f))
                throw new ArgumentException($"Profile '{c.Name}': unknown {phase} plugin '{name}'. Known: {string.Join(", ", Names.Where(n => _factories[n]() is T))}.");
            return f() as T ?? throw new ArgumentException($"Profile '{c.Name}': plugin '{name}' is not a {phase} plugin.");
        }
        return new Profile(
            c.Name,
            c.QueueSort.Select(n => Get<IQueueSortPlugin>(n, "queue-sort")).ToList(),
            c.Filters.Select(n => Get<IFilterPlugin>(n, "filter")).ToList(),
            c.Scores.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (Get<IScorePlugin>(kv.Key, "score"), kv.Value)).ToList(),
            c.Backfill is null ? null : Get<IBackfillPlugin>(c.Backfill, "backfill"),
            c.Preemption is null ? null : Get<IPreemptionPlugin>(c.Preemption, "preemption"),
            c.StrictOrder);
    }
}

/// <summary>Named profiles shipped with Gureum.</summary>
public static class Profiles
{
    /// <summary>Priority, then lab fair share, then FIFO; bin-packing; priority preemption; every
    /// job tried in order (no head-of-line blocking).</summary>
    public static ProfileConfig Default { get; } = new()
    {
        Name = "default",
        QueueSort = ["priority", "fair-share", "fifo"],
        Preemption = "priority-preemption",
    };

    /// <summary>Strict FIFO: the first job that cannot start blocks the rest.</summary>
    public static ProfileConfig FifoStrict { get; } = new() { Name = "fifo-strict", QueueSort = ["fifo"], StrictOrder = true };

    /// <summary>Priority and FIFO order with EASY backfill on declared time limits (Slurm-like).</summary>
    public static ProfileConfig Backfill { get; } = new() { Name = "backfill", QueueSort = ["priority", "fifo"], Backfill = "backfill" };

    /// <summary>Like default but spreading load over nodes.</summary>
    public static ProfileConfig Spread { get; } = Default with { Name = "spread", Scores = new Dictionary<string, double> { ["spread"] = 1 } };

    public static IReadOnlyList<ProfileConfig> All { get; } = [Default, FifoStrict, Backfill, Spread];

    /// <summary>A shipped profile by name, or an <see cref="ArgumentException"/> listing them.</summary>
    public static ProfileConfig Named(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown scheduler profile '{name}'. Known: {string.Join(", ", All.Select(p => p.Name))}.");
}
