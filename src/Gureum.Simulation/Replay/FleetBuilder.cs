using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Replay;

/// <summary>
/// Builds the static policy's fixed fleet: from a trace's node list (each node priced as the
/// cheapest on-demand cloud equivalent) or from an explicit <c>--fleet</c> list of catalog offers.
/// </summary>
public static class FleetBuilder
{
    /// <summary>
    /// Prices each trace node at the cheapest on-demand per-GPU price in the catalog for its GPU
    /// model × its GPU count (models missing from the catalog, such as openb's undisclosed G1–G3,
    /// are priced as V100), or, for CPU-only nodes, the cheapest per-vCPU on-demand price × vCPUs.
    /// </summary>
    public static (List<Node> Fleet, List<string> Notes) FromTrace(IReadOnlyList<TraceNode> nodes, IReadOnlyList<Offer> catalog, DateTimeOffset at)
    {
        var perGpu = catalog.Where(o => o.GpuCount > 0 && o.OnDemandPerHour is not null && o.GpuModel is not null)
            .GroupBy(o => o.GpuModel!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Min(o => o.OnDemandPerHour!.Value / o.GpuCount), StringComparer.OrdinalIgnoreCase);
        var cpuOffers = catalog.Where(o => o.GpuCount == 0 && o.OnDemandPerHour is not null && o.VCpus > 0).ToList();
        if (cpuOffers.Count == 0) cpuOffers = catalog.Where(o => o.OnDemandPerHour is not null && o.VCpus > 0).ToList();
        var perVcpu = cpuOffers.Count > 0 ? cpuOffers.Min(o => o.OnDemandPerHour!.Value / (decimal)o.VCpus) : 0.05m;
        var fallback = perGpu.TryGetValue(GpuModels.DefaultReference, out var v) ? v : perGpu.Values.DefaultIfEmpty(3m).Min();
        var notes = new List<string>();
        var substituted = new SortedSet<string>(StringComparer.Ordinal);
        var fleet = new List<Node>(nodes.Count);
        foreach (var n in nodes)
        {
            decimal price;
            if (n.Gpus > 0)
            {
                var model = n.GpuModel ?? GpuModels.DefaultReference;
                if (!perGpu.TryGetValue(model, out var p)) { p = fallback; substituted.Add(model); }
                price = p * n.Gpus;
            }
            else price = perVcpu * (decimal)n.Cpus;
            var offer = new Offer
            {
                Cloud = "fleet",
                Region = "fleet",
                Zone = "fleet",
                InstanceType = $"{n.RawModel ?? n.GpuModel ?? "cpu"}x{n.Gpus}-{n.Cpus:0}c-{n.MemoryGiB:0}g",
                GpuModel = n.Gpus > 0 ? n.GpuModel ?? GpuModels.DefaultReference : null,
                GpuCount = n.Gpus,
                VCpus = n.Cpus,
                MemoryGiB = n.MemoryGiB,
                OnDemandPerHour = Math.Round(price, 6),
                BootDelay = TimeSpan.Zero,
            };
            fleet.Add(Node.Create(n.Id, offer, Market.OnDemand, NodeState.Ready, at, isFixed: true));
        }
        notes.Add($"Fixed fleet from the trace's node list: {fleet.Count} nodes, {fleet.Sum(f => f.Offer.GpuCount)} GPUs, each priced as the cheapest on-demand per-GPU (or per-vCPU) price in the catalog; billed for the whole replay.");
        if (substituted.Count > 0) notes.Add($"GPU models without a catalog price, priced as {GpuModels.DefaultReference}: {string.Join(", ", substituted)}.");
        return (fleet, notes);
    }

    /// <summary>
    /// Parses <c>TYPE[@ZONE]=COUNT,…</c> against the catalog (the cheapest zone when none is given).
    /// Throws <see cref="FormatException"/> naming the bad entry and the offers that exist.
    /// </summary>
    public static List<Node> FromSpec(string spec, IReadOnlyList<Offer> catalog, DateTimeOffset at)
    {
        var fleet = new List<Node>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.LastIndexOf('=');
            if (eq <= 0 || !int.TryParse(part[(eq + 1)..], out var count) || count <= 0)
                throw new FormatException($"--fleet entry '{part}' is not TYPE[@ZONE]=COUNT with COUNT ≥ 1 (e.g. p3.16xlarge=4 or g4dn.xlarge@use1-az1=10).");
            var name = part[..eq];
            var at2 = name.IndexOf('@');
            var type = at2 < 0 ? name : name[..at2];
            var zone = at2 < 0 ? null : name[(at2 + 1)..];
            var offer = catalog.Where(o => string.Equals(o.InstanceType, type, StringComparison.OrdinalIgnoreCase)
                                           && (zone is null || string.Equals(o.Zone, zone, StringComparison.OrdinalIgnoreCase))
                                           && o.OnDemandPerHour is not null)
                .OrderBy(o => o.OnDemandPerHour).ThenBy(o => o.Id, StringComparer.Ordinal).FirstOrDefault()
                ?? throw new FormatException($"--fleet entry '{part}': no on-demand offer '{type}'{(zone is null ? "" : $" in zone {zone}")} in the catalog. Some types on offer: {string.Join(", ", catalog.Select(o => o.InstanceType).Distinct().Take(12))}.");
            for (var i = 0; i < count; i++)
                fleet.Add(Node.Create($"fleet-{fleet.Count:D5}", offer, Market.OnDemand, NodeState.Ready, at, isFixed: true));
        }
        return fleet;
    }
}
