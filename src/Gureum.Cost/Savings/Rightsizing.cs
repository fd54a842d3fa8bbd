using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Cost.Savings;

/// <summary>A cheaper GPU for one container, and what it saves per month.</summary>
public sealed record RightsizeFinding(string Container, string FromModel, string ToModel, string ToOffer, double P95DutyPercent, double PeakMemoryGiB,
    decimal FromPerGpuHour, decimal ToPerGpuHour, decimal MonthlySavingUsd);

/// <summary>
/// Rightsizing rule: a container on <c>fromModel</c> can move to GPU model M when M's memory per GPU
/// ≥ its peak memory × (1 + <c>memoryHeadroom</c>) and its 95th-percentile duty cycle, scaled by
/// speed(from)/speed(M) (<see cref="GpuModels"/>), stays ≤ <c>maxDutyAfter</c>. The cheapest such
/// offer per GPU-hour (on-demand) that is cheaper than the cheapest offer of the current model wins.
/// Saving = price difference × 730 h per month, for one GPU running all month.
/// </summary>
public static class Rightsizing
{
    public const double HoursPerMonth = 730;

    public static IReadOnlyList<RightsizeFinding> Recommend(IEnumerable<ContainerSeries> series, string fromModel, IReadOnlyList<Offer> offers,
        double memoryHeadroom = 0.2, double maxDutyAfter = 80)
    {
        var gpuOffers = offers.Where(o => o.GpuModel is not null && o.GpuCount > 0 && o.OnDemandPerHour is not null).ToList();
        var current = gpuOffers.Where(o => string.Equals(o.GpuModel, fromModel, StringComparison.OrdinalIgnoreCase)).ToList();
        if (current.Count == 0) throw new ArgumentException($"No on-demand offer of GPU model {fromModel} in the catalog.", nameof(fromModel));
        var fromPrice = current.Min(PerGpu);
        var fromSpeed = GpuModels.SpeedOf(fromModel);
        var list = new List<RightsizeFinding>();
        foreach (var s in series)
        {
            if (s.DutyPercent.Length == 0) continue;
            var p95 = Percentile(s.DutyPercent, 0.95);
            var memGiB = s.PeakMemoryBytes / (1024.0 * 1024 * 1024);
            var best = gpuOffers
                .Where(o => o.GpuMemoryGiB >= memGiB * (1 + memoryHeadroom) && p95 * fromSpeed / GpuModels.SpeedOf(o.GpuModel) <= maxDutyAfter)
                .OrderBy(PerGpu).ThenBy(o => o.Id, StringComparer.Ordinal).FirstOrDefault();
            if (best is null || PerGpu(best) >= fromPrice) continue;
            list.Add(new RightsizeFinding(s.Container, fromModel, best.GpuModel!, best.Id, p95, memGiB, fromPrice, PerGpu(best),
                Math.Round((fromPrice - PerGpu(best)) * (decimal)HoursPerMonth, 2)));
        }
        return list;
    }

    /// <summary>On-demand USD per GPU-hour of an offer.</summary>
    public static decimal PerGpu(Offer o) => o.OnDemandPerHour!.Value / o.GpuCount;

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
