namespace Gureum.Simulation.Cloud;

/// <summary>Options applied to every offer the <see cref="CatalogLoader"/> produces.</summary>
public sealed record CatalogOptions
{
    /// <summary>
    /// Default time from request to a node ready to run a job, per cloud (keys as in
    /// <see cref="Gureum.Core.Cloud.Offer.Cloud"/>: aws, gcp, azure, lambda, vast). Defaults:
    /// <list type="bullet">
    /// <item>aws 120 s, gcp 120 s: Ao et al., "An Empirical Analysis of VM Startup Times in Public
    /// IaaS Clouds" (arXiv 2107.03467, 2021; 300,000+ launches per provider) measure AWS and GCP VM
    /// startup in tens of seconds to about a minute for stock images; GPU instances add a larger
    /// image and NVIDIA driver initialisation, so we round up to two minutes.</item>
    /// <item>azure 180 s: Mao and Humphrey, "A Performance Study on the VM Startup Time in the
    /// Cloud" (IEEE CLOUD 2012) found Azure VM startup markedly slower than EC2's; we keep a
    /// minute's margin over AWS.</item>
    /// <item>lambda 300 s: Lambda Cloud single-GPU instances are typically ready in 3-5 minutes
    /// (operator guides; multi-GPU 8× instances can take longer); we take the upper end.</item>
    /// <item>vast 300 s: a marketplace host must pull the job's container image before it runs; no
    /// published measurement, so the same as Lambda.</item>
    /// </list>
    /// A cloud not listed gets <see cref="Gureum.Core.Cloud.Offer.BootDelay"/>'s own default (2 min).
    /// </summary>
    public IReadOnlyDictionary<string, TimeSpan> BootDelays { get; init; } = DefaultBootDelays;

    /// <summary>The defaults of <see cref="BootDelays"/>.</summary>
    public static IReadOnlyDictionary<string, TimeSpan> DefaultBootDelays { get; } =
        new Dictionary<string, TimeSpan>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws"] = TimeSpan.FromSeconds(120),
            ["gcp"] = TimeSpan.FromSeconds(120),
            ["azure"] = TimeSpan.FromSeconds(180),
            ["lambda"] = TimeSpan.FromSeconds(300),
            ["vast"] = TimeSpan.FromSeconds(300),
        };

    /// <summary>Boot delay per instance type (e.g. <c>p5.48xlarge</c>), overriding the cloud default.
    /// Empty by default.</summary>
    public IReadOnlyDictionary<string, TimeSpan> BootDelayOverrides { get; init; } =
        new Dictionary<string, TimeSpan>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Capacity limit stamped on every offer (most nodes held at once). Default null:
    /// unlimited, because the catalogs publish no quotas.</summary>
    public int? CapacityLimit { get; init; }

    /// <summary>Options with every default. Declared after <see cref="DefaultBootDelays"/> on
    /// purpose: static initializers run in text order.</summary>
    public static CatalogOptions Default { get; } = new();

    /// <summary>The boot delay of an instance type in a cloud under these options.</summary>
    public TimeSpan? BootDelayFor(string cloud, string instanceType) =>
        BootDelayOverrides.TryGetValue(instanceType, out var d) ? d
        : BootDelays.TryGetValue(cloud, out var c) ? c
        : null;
}
