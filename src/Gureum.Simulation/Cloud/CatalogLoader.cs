using System.Reflection;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Cloud;

/// <summary>The SkyPilot-format catalogs the loader understands, told apart by their header row.</summary>
public enum CatalogFormat
{
    /// <summary>AWS: one row per instance type and availability zone (AZ id such as use1-az1).</summary>
    Aws,
    /// <summary>GCP: host VM rows priced without GPUs, plus accelerator rows per zone and count.</summary>
    Gcp,
    /// <summary>Azure: per region; the unquoted "V1,V2" Generation quirk is accepted.</summary>
    Azure,
    /// <summary>Lambda Cloud: on-demand only, per region.</summary>
    Lambda,
    /// <summary>Vast.ai marketplace snapshot; SpotPrice 0.00 means no spot offer.</summary>
    Vast,
}

/// <summary>What loading one catalog produced, with the rows it could not use.</summary>
public sealed record CatalogLoadResult
{
    /// <summary>The file (or source name) read.</summary>
    public required string Source { get; init; }

    /// <summary>The format recognised from the header row.</summary>
    public required CatalogFormat Format { get; init; }

    /// <summary>The offers, in file order, one per <see cref="Offer.Id"/>.</summary>
    public required IReadOnlyList<Offer> Offers { get; init; }

    /// <summary>Data rows read (header and blank lines excluded).</summary>
    public int RowsRead { get; init; }

    /// <summary>Rows (GCP: host + accelerator combinations) with neither an on-demand nor a spot price.</summary>
    public int SkippedNoPrice { get; init; }

    /// <summary>Rows repeating an earlier offer id (AWS p4de appears twice per AZ); their missing
    /// prices were filled from the repeat, first value winning.</summary>
    public int DuplicatesMerged { get; init; }

    /// <summary>Rows selling a fraction of a GPU (Azure NVadsA10_v5: 1/6, 1/3, 1/2 of an A10),
    /// skipped because an <see cref="Offer"/> holds whole GPUs.</summary>
    public int SkippedFractionalGpu { get; init; }

    /// <summary>GCP: GPU host rows (a2/a3/a4/g2) with no accelerator row for their zone and count.</summary>
    public int HostRowsWithoutAccelerator { get; init; }

    /// <summary>GCP: accelerator rows no host row in their zone could carry (they price nothing alone).</summary>
    public int AcceleratorRowsUnjoined { get; init; }
}

/// <summary>
/// Reads SkyPilot-format instance catalogs (AWS, GCP, Azure, Lambda, Vast) into <see cref="Offer"/>s,
/// detecting the format by the header row. GPU names go through <see cref="GpuModels.Canonical"/>.
/// Rows without any usable price are skipped and counted (<see cref="CatalogLoadResult"/>); malformed
/// rows throw <see cref="CatalogFormatException"/> naming file, line and column.
/// </summary>
/// <remarks>
/// Zones: AWS offers are per availability-zone id; GCP per zone; Azure, Lambda and Vast price per
/// region, so <see cref="Offer.Zone"/> is the region there. GCP GPU offers are joined from a host
/// row and the accelerator row of the same zone and GPU count (see the folder README). Thread-safe:
/// every method is a pure function of its inputs.
/// </remarks>
public static class CatalogLoader
{
    /// <summary>Manifest name of the embedded default catalog (AWS format).</summary>
    public const string DefaultCatalogResource = "Gureum.Simulation.Cloud.DefaultCatalog.csv";

    private static readonly Dictionary<string, CatalogFormat> Headers = new(StringComparer.Ordinal)
    {
        ["InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone"] = CatalogFormat.Aws,
        ["InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice"] = CatalogFormat.Gcp,
        ["InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation"] = CatalogFormat.Azure,
        ["InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice"] = CatalogFormat.Lambda,
        ["InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region"] = CatalogFormat.Vast,
    };

    /// <summary>Loads the offers of one catalog file.</summary>
    /// <exception cref="CatalogFormatException">Unknown header or a malformed row.</exception>
    public static IReadOnlyList<Offer> Load(string path, CatalogOptions? options = null) =>
        LoadWithReport(path, options).Offers;

    /// <summary>Loads one catalog file and reports what was skipped.</summary>
    /// <exception cref="CatalogFormatException">Unknown header or a malformed row.</exception>
    public static CatalogLoadResult LoadWithReport(string path, CatalogOptions? options = null)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path, options);
    }

    /// <summary>Loads several catalogs, concatenated in the order given; an offer id seen in an
    /// earlier file wins (its missing prices filled from later ones).</summary>
    public static IReadOnlyList<Offer> LoadMany(IEnumerable<string> paths, CatalogOptions? options = null)
    {
        var all = new List<Offer>();
        foreach (var path in paths)
        {
            all.AddRange(Load(path, options));
        }

        return Deduplicate(all, out _);
    }

    /// <summary>
    /// The small catalog shipped inside this assembly (AWS format, 12 offers in us-east-1 and
    /// us-west-2: V100, A100, T4, H100 and CPU), so simulations run without <c>shared/data</c>.
    /// Prices were transcribed from the SkyPilot AWS catalog snapshot described in the folder README.
    /// </summary>
    public static IReadOnlyList<Offer> LoadDefault(CatalogOptions? options = null)
    {
        using var stream = typeof(CatalogLoader).Assembly.GetManifestResourceStream(DefaultCatalogResource)
            ?? throw new InvalidOperationException($"Embedded resource {DefaultCatalogResource} is missing from {typeof(CatalogLoader).Assembly.GetName().Name}; the build is broken. To fix: check the EmbeddedResource item in Gureum.Simulation.csproj.");
        using var reader = new StreamReader(stream);
        return Parse(reader, "embedded:" + DefaultCatalogResource, options).Offers;
    }

    /// <summary>Parses a catalog from a reader; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CatalogFormatException">Unknown header or a malformed row.</exception>
    public static CatalogLoadResult Parse(TextReader reader, string source, CatalogOptions? options = null)
    {
        options ??= CatalogOptions.Default;
        using var lines = CatalogCsv.Read(reader, source).GetEnumerator();
        if (!lines.MoveNext())
        {
            throw new CatalogFormatException(source, 1, 0, "the file is empty.", "start the file with a SkyPilot catalog header row.");
        }

        var (headerLine, header) = lines.Current;
        var headerText = string.Join(',', header.Select(h => h.Trim().TrimStart('\uFEFF')));
        if (!Headers.TryGetValue(headerText, out var format))
        {
            throw new CatalogFormatException(source, headerLine, 0,
                $"the header '{headerText}' is not a known catalog format.",
                "use one of the SkyPilot catalog headers (AWS, GCP, Azure, Lambda, Vast): " + string.Join(" | ", Headers.Keys));
        }

        var rows = new List<CatalogRow>();
        while (lines.MoveNext())
        {
            var (line, fields) = lines.Current;
            if (format == CatalogFormat.Azure && fields.Length == header.Length + 1)
            {
                // Upstream writes Generation "V1,V2" unquoted: rejoin the last two fields.
                fields = [.. fields[..^2], fields[^2] + "," + fields[^1]];
            }

            if (fields.Length != header.Length)
            {
                throw new CatalogFormatException(source, line, Math.Min(fields.Length, header.Length) + 1,
                    $"expected {header.Length} fields ({headerText}) but found {fields.Length}.",
                    "quote any field that contains a comma, and give every row exactly one value per header column (empty is allowed).");
            }

            rows.Add(new CatalogRow(source, line, header, fields));
        }

        var cols = header.Select((h, i) => (h, i)).ToDictionary(p => p.h.Trim().TrimStart('\uFEFF'), p => p.i, StringComparer.Ordinal);
        var builder = new Builder(options, cols);
        if (format == CatalogFormat.Gcp)
        {
            builder.AddGcp(rows);
        }
        else
        {
            foreach (var row in rows)
            {
                builder.AddSimple(format, row);
            }
        }

        var offers = Deduplicate(builder.Offers, out var merged);
        return new CatalogLoadResult
        {
            Source = source,
            Format = format,
            Offers = offers,
            RowsRead = rows.Count,
            SkippedNoPrice = builder.SkippedNoPrice,
            DuplicatesMerged = merged,
            HostRowsWithoutAccelerator = builder.HostRowsWithoutAccelerator,
            AcceleratorRowsUnjoined = builder.AcceleratorRowsUnjoined,
            SkippedFractionalGpu = builder.SkippedFractionalGpu,
        };
    }

    /// <summary>Cloud name of a format, as written in <see cref="Offer.Cloud"/>.</summary>
    public static string CloudName(CatalogFormat format) => format switch
    {
        CatalogFormat.Aws => "aws",
        CatalogFormat.Gcp => "gcp",
        CatalogFormat.Azure => "azure",
        CatalogFormat.Lambda => "lambda",
        CatalogFormat.Vast => "vast",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Canonical GPU name, or null for an empty name (CPU-only row).</summary>
    internal static string? CanonicalGpu(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        // Vast writes the Ampere workstation card "RTX A6000"; Lambda and the speed table call it A6000.
        var squeezed = name.Replace(" ", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return string.Equals(squeezed, "RTXA6000", StringComparison.OrdinalIgnoreCase) ? "A6000" : GpuModels.Canonical(name);
    }

    private static List<Offer> Deduplicate(List<Offer> offers, out int merged)
    {
        merged = 0;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<Offer>(offers.Count);
        foreach (var offer in offers)
        {
            if (index.TryGetValue(offer.Id, out var at))
            {
                var first = result[at];
                result[at] = first with
                {
                    OnDemandPerHour = first.OnDemandPerHour ?? offer.OnDemandPerHour,
                    SpotPerHour = first.SpotPerHour ?? offer.SpotPerHour,
                };
                merged++;
            }
            else
            {
                index[offer.Id] = result.Count;
                result.Add(offer);
            }
        }

        return result;
    }

    private sealed class Builder(CatalogOptions options, Dictionary<string, int> cols)
    {
        public List<Offer> Offers { get; } = [];
        public int SkippedNoPrice { get; private set; }
        public int HostRowsWithoutAccelerator { get; private set; }
        public int AcceleratorRowsUnjoined { get; private set; }
        public int SkippedFractionalGpu { get; private set; }

        private int Col(string name) => cols[name];

        public void AddSimple(CatalogFormat format, CatalogRow row)
        {
            var cloud = CloudName(format);
            var type = Required(row, "InstanceType");
            var region = Required(row, "Region");
            var zone = format == CatalogFormat.Aws ? row.OptionalText(Col("AvailabilityZone")) ?? region : region;
            var model = CanonicalGpu(row.OptionalText(Col("AcceleratorName")));
            if (model is not null && row.OptionalDouble(Col("AcceleratorCount")) is > 0 and < 1)
            {
                // Azure NVadsA10_v5 sells 1/6, 1/3 and 1/2 of an A10; an Offer holds whole GPUs.
                SkippedFractionalGpu++;
                return;
            }

            var count = model is null ? 0 : row.Count(Col("AcceleratorCount"));
            var onDemand = row.OptionalDecimal(Col("Price"));
            var spot = row.OptionalDecimal(Col("SpotPrice"));
            if (format == CatalogFormat.Vast && spot == 0m)
            {
                spot = null; // Vast writes 0.00 for "no interruptible offer".
            }

            Add(cloud, region, zone, type, model, count,
                GpuMemory.PerGpuGiB(row.OptionalText(Col("GpuInfo")), count, model, sizeIsTotal: format == CatalogFormat.Vast),
                row.Double(Col("vCPUs")), row.Double(Col("MemoryGiB")), onDemand, spot, type);
        }

        public void AddGcp(List<CatalogRow> rows)
        {
            // Accelerator rows: key (zone, model, count).
            var accelerators = new Dictionary<(string Zone, string Model, int Count), CatalogRow>();
            var hosts = new List<CatalogRow>();
            foreach (var row in rows)
            {
                if (row.OptionalText(Col("InstanceType")) is null)
                {
                    var model = CanonicalGpu(row.OptionalText(Col("AcceleratorName")))
                        ?? throw row.Bad(Col("AcceleratorName"), "a row with no InstanceType must name an accelerator.", "fill InstanceType (host VM row) or AcceleratorName and AcceleratorCount (accelerator row).");
                    accelerators.TryAdd((Required(row, "AvailabilityZone"), model, row.Count(Col("AcceleratorCount"))), row);
                }
                else
                {
                    hosts.Add(row);
                }
            }

            var used = new HashSet<(string, string, int)>();
            foreach (var host in hosts)
            {
                var type = Required(host, "InstanceType");
                var zone = Required(host, "AvailabilityZone");
                var fixedGpu = GcpHosts.BuiltInAccelerator(type);
                if (fixedGpu is { } g)
                {
                    if (accelerators.TryGetValue((zone, g.Model, g.Count), out var acc))
                    {
                        used.Add((zone, g.Model, g.Count));
                        AddGcpCombo(host, acc, type, g.Model, g.Count);
                    }
                    else
                    {
                        HostRowsWithoutAccelerator++;
                    }

                    continue;
                }

                // A CPU VM; n1 hosts can also carry attachable GPUs (T4, V100, P100, P4).
                AddGcpCombo(host, null, type, null, 0);
                if (GcpHosts.AcceptsAttachedGpus(type))
                {
                    foreach (var ((accZone, model, count), acc) in accelerators.OrderBy(a => a.Key.Model, StringComparer.Ordinal).ThenBy(a => a.Key.Count))
                    {
                        if (accZone == zone && GcpHosts.IsAttachable(model))
                        {
                            used.Add((accZone, model, count));
                            AddGcpCombo(host, acc, $"{type}+{model}:{count}", model, count);
                        }
                    }
                }
            }

            AcceleratorRowsUnjoined = accelerators.Keys.Count(k => !used.Contains(k));
        }

        private void AddGcpCombo(CatalogRow host, CatalogRow? acc, string type, string? model, int count)
        {
            var onDemand = Sum(host.OptionalDecimal(Col("Price")), acc is null ? 0m : acc.OptionalDecimal(Col("Price")));
            var spot = Sum(host.OptionalDecimal(Col("SpotPrice")), acc is null ? 0m : acc.OptionalDecimal(Col("SpotPrice")));
            var memory = acc is null ? 0 : GpuMemory.PerGpuGiB(acc.OptionalText(Col("GpuInfo")), 0, model);
            Add("gcp", Required(host, "Region"), Required(host, "AvailabilityZone"), type, model, count, memory,
                host.Double(Col("vCPUs")), host.Double(Col("MemoryGiB")), onDemand, spot, Required(host, "InstanceType"));
        }

        private static decimal? Sum(decimal? a, decimal? b) => a is { } x && b is { } y ? x + y : null;

        private void Add(string cloud, string region, string zone, string type, string? model, int count,
            double gpuMemory, double vcpus, double memory, decimal? onDemand, decimal? spot, string hostType)
        {
            if (onDemand is null && spot is null)
            {
                SkippedNoPrice++;
                return;
            }

            var offer = new Offer
            {
                Cloud = cloud,
                Region = region,
                Zone = zone,
                InstanceType = type,
                GpuModel = model,
                GpuCount = count,
                GpuMemoryGiB = model is null ? 0 : gpuMemory,
                VCpus = vcpus,
                MemoryGiB = memory,
                OnDemandPerHour = onDemand,
                SpotPerHour = spot,
                CapacityLimit = options.CapacityLimit,
            };
            // Instance-type override (for GCP n1+GPU combos, the combo, then its host), else the cloud default.
            var boot = options.BootDelayOverrides.TryGetValue(type, out var own) ? own
                : options.BootDelayOverrides.TryGetValue(hostType, out var host) ? host
                : options.BootDelays.TryGetValue(cloud, out var byCloud) ? byCloud
                : (TimeSpan?)null;
            Offers.Add(boot is { } b ? offer with { BootDelay = b } : offer);
        }

        private string Required(CatalogRow row, string column) =>
            row.OptionalText(Col(column)) ?? throw row.Bad(Col(column), "the value is empty.", $"fill in {column}.");
    }
}
