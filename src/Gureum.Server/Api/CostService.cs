using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Budgets;
using Gureum.Cost.Metering;
using Gureum.Persistence;

namespace Gureum.Server.Api;

/// <summary>
/// Cost of the live cluster for the API: the store's runs and nodes metered by
/// <see cref="LiveMeter"/> and allocated by <see cref="CostAllocator"/> (the same code as
/// <c>gureum cost</c>), lab budgets (the store's <see cref="Lab.MonthlyBudgetUsd"/>) and the
/// forecast gate's job-cost prediction.
/// </summary>
public static class CostService
{
    /// <summary>Source name of live allocation lines.</summary>
    public const string Source = "live";

    /// <summary>Alert thresholds of a lab's budget as shares of it (0.5 = 50 %): the lab's own
    /// (<see cref="Lab.AlertThresholdsPercent"/>), else 50 %, 80 %, 100 %.</summary>
    public static IReadOnlyList<decimal> ThresholdsOf(Lab lab) =>
        lab.AlertThresholdsPercent is { Count: > 0 } p ? p.Select(v => v / 100m).ToList() : LabBudget.DefaultThresholds;

    /// <summary>The lab's budget as the cost engine's <see cref="LabBudget"/> (null without one).</summary>
    public static LabBudget? BudgetOf(Lab lab) => lab.MonthlyBudgetUsd is { } b && b > 0 ? new LabBudget(lab.Name, b, ThresholdsOf(lab)) : null;

    /// <summary>Allocation lines of [from, to): every billed node-second to a job's lab/project/user, or idle.</summary>
    public static async Task<IReadOnlyList<CostLine>> LinesAsync(IControlPlaneStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var (usage, bills) = await LiveMeter.LoadAsync(store, from, to, TimeSpan.Zero, ct);
        return CostAllocator.Allocate(Source, bills, usage);
    }

    /// <summary>
    /// Hourly series of <paramref name="metric"/> per key over [from, to) from the live store
    /// (<see cref="MetricAnomalies.Hourly"/>: spend from the allocation, usage from the metered runs,
    /// pool metrics from the metered nodes), starting no earlier than the first node's start.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, MetricPoint[]>> HourlyAsync(IControlPlaneStore store, AnomalyMetric metric, string grouping,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var (usage, bills) = await LiveMeter.LoadAsync(store, from, to, TimeSpan.Zero, ct);
        // Hours before the first node existed are not zero spend, they are no history: start there.
        if (bills.Count > 0 && bills.Min(b => b.Start) is var first && first > from) from = first;
        IReadOnlyList<CostLine> lines = metric == AnomalyMetric.Spend ? CostAllocator.Allocate(Source, bills, usage) : [];
        return MetricAnomalies.Hourly(metric, grouping, lines, usage, bills.Select(NodeSpan.Of).ToList(), from, to);
    }

    /// <summary>Key of a live spend anomaly in the event log: <c>anomaly|lab|yyyy-MM-ddTHH</c>.</summary>
    public static string AnomalyKey(string lab, DateTimeOffset hour) => $"anomaly|{lab}|{hour.UtcDateTime:yyyy-MM-ddTHH}";

    /// <summary>Key of a live anomaly of another metric in the event log: <c>metric|key|yyyy-MM-ddTHH</c>.</summary>
    public static string AnomalyKey(MetricAnomaly a) =>
        a.Metric == AnomalyMetric.Spend ? AnomalyKey(a.Key, a.Hour) : $"{MetricAnomalies.Name(a.Metric)}|{a.Key}|{a.Hour.UtcDateTime:yyyy-MM-ddTHH}";

    /// <summary>The event message of a live spend anomaly: a machine-readable prefix, then what happened.</summary>
    public static string AnomalyMessage(SpendAnomaly a) =>
        $"spend-anomaly {AnomalyKey(a.Key, a.Hour)}: lab {a.Key} spent ${a.Usd:F2} in the hour from {a.Hour.UtcDateTime:yyyy-MM-dd HH:mm} UTC (median of the 24 h before ${a.MedianUsd:F2}; detector score {a.Score:F3} ≥ {SpendAnomalies.DefaultThreshold})";

    /// <summary>The event message of a live anomaly of a non-spend metric: a machine-readable prefix, then what happened.</summary>
    public static string AnomalyMessage(MetricAnomaly a) => a.Metric == AnomalyMetric.Spend ? AnomalyMessage(SpendAnomalies.FromMetric(a)) :
        $"metric-anomaly {AnomalyKey(a)}: {(MetricAnomalies.SubjectOf(a.Metric) == AnomalySubject.Pool ? "pool" : "lab")} {a.Key} had {MetricAnomalies.Format(a.Metric, a.Value)} in the hour from {a.Hour.UtcDateTime:yyyy-MM-dd HH:mm} UTC (median of the 24 h before {MetricAnomalies.Format(a.Metric, a.Median)}; detector score {a.Score:F3} ≥ {SpendAnomalies.DefaultThreshold})";

    /// <summary>First instant of the UTC calendar month of <paramref name="now"/>.</summary>
    public static DateTimeOffset MonthStart(DateTimeOffset now) => new(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Month-to-date usage spend per lab (idle excluded: idle is the pool's, not a lab's).</summary>
    public static async Task<IReadOnlyDictionary<string, decimal>> SpentThisMonthAsync(IControlPlaneStore store, DateTimeOffset now, CancellationToken ct)
    {
        var lines = await LinesAsync(store, MonthStart(now), now, ct);
        return lines.Where(l => l.Kind == CostKind.Usage).GroupBy(l => l.Lab, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.AmountUsd), StringComparer.Ordinal);
    }

    /// <summary>
    /// Predicted cost of a job, the rule of the budget gate: its declared <c>duration</c>, else its
    /// <c>time_limit</c>, in hours × nodes × the cheapest price of its share on an offer it fits
    /// (its GPU models if it names any; spot price too unless <c>spot: never</c>). The share is the
    /// one allocation charges (<see cref="CostAllocator.Share"/>). Null when the job declares no
    /// duration and no time limit, or no offer fits it: the gate cannot predict and admits.
    /// </summary>
    public static decimal? PredictJobUsd(JobSpec spec, IReadOnlyList<Offer> offers) =>
        (spec.Duration ?? spec.TimeLimit) is { } run && run > TimeSpan.Zero ? PredictUsd(spec, offers, run) : null;

    /// <summary>
    /// Predicted remaining cost of an admitted job (the gate's "committed" cost): its declared
    /// <c>duration</c>, else <c>time_limit</c>, less the work it saved in earlier runs and, while it
    /// runs, the time of its current run; priced as <see cref="PredictJobUsd"/>. 0 when the job
    /// declares neither (nothing to predict from), is held, or has ended.
    /// </summary>
    public static decimal RemainingUsd(JobRecord job, IReadOnlyList<Offer> offers, DateTimeOffset now)
    {
        if (job.Status is not (JobStatus.Pending or JobStatus.Running) || (job.Status == JobStatus.Pending && job.Hold is not null)) return 0;
        if ((job.Spec.Duration ?? job.Spec.TimeLimit) is not { } run) return 0;
        var left = run - job.WorkSaved;
        if (job.Status == JobStatus.Running && job.RunStartedAt is { } started) left -= now - started;
        return left > TimeSpan.Zero ? PredictUsd(job.Spec, offers, left) ?? 0 : 0;
    }

    /// <summary>Predicted remaining cost of a lab's running and queued (not held) jobs: Σ <see cref="RemainingUsd"/>.</summary>
    public static async Task<decimal> CommittedUsdAsync(IControlPlaneStore store, IReadOnlyList<Offer> offers, string lab, DateTimeOffset now, CancellationToken ct)
    {
        decimal sum = 0;
        string? cursor = null;
        do
        {
            var page = await store.ListJobsAsync(new JobQuery { Lab = lab, Statuses = [JobStatus.Pending, JobStatus.Running], Limit = 1000, Cursor = cursor }, ct);
            foreach (var j in page.Items) sum += RemainingUsd(j, offers, now);
            cursor = page.NextCursor;
        } while (cursor is not null);
        return sum;
    }

    /// <summary>Cost of running <paramref name="spec"/> for <paramref name="run"/> at the cheapest price of its
    /// share on an offer it fits (see <see cref="PredictJobUsd"/>); null when no offer fits.</summary>
    public static decimal? PredictUsd(JobSpec spec, IReadOnlyList<Offer> offers, TimeSpan run)
    {
        var r = spec.Resources;
        decimal? best = null;
        foreach (var o in offers)
        {
            if (r.MilliGpusPerNode > 0 && (o.GpuCount * 1000 < r.MilliGpusPerNode || (spec.GpuModels.Count > 0 && (o.GpuModel is null || !spec.GpuModels.Contains(o.GpuModel)))))
                continue;
            if (o.VCpus < r.Cpus || o.MemoryGiB < r.MemoryGiB) continue;
            var price = o.OnDemandPerHour;
            if (spec.Spot != SpotPreference.Never && o.SpotPerHour is { } spot && spot < price) price = spot;
            var cost = price * (decimal)CostAllocator.Share(o, r.MilliGpusPerNode, r.Cpus, r.MemoryGiB);
            if (best is null || cost < best) best = cost;
        }
        return best is { } perHour ? Math.Round(perHour * (decimal)run.TotalHours * r.Nodes, 6) : null;
    }

    /// <summary>Budget alerts and spend and metric anomalies already in the event log, as keys (<see cref="AlertKey"/>, <see cref="AnomalyKey(MetricAnomaly)"/>).</summary>
    public static async Task<HashSet<string>> FiredAlertsAsync(IControlPlaneStore store, CancellationToken ct)
    {
        var fired = new HashSet<string>(StringComparer.Ordinal);
        long? after = null;
        while (true)
        {
            var page = await store.ListEventsAsync(new EventQuery { After = after, Limit = 1000 }, ct);
            foreach (var e in page.Items)
                if (e.Event.Kind is EventKind.BudgetAlert or EventKind.SpendAnomaly or EventKind.MetricAnomaly && AlertKeyOf(e.Event.Message) is { } key) fired.Add(key);
            if (page.Items.Count == 0 || page.NextCursor is null) break;
            after = page.Items[^1].Id;
        }
        return fired;
    }

    /// <summary>Key of an alert: <c>lab|yyyy-MM|threshold</c>.</summary>
    public static string AlertKey(string lab, DateOnly month, decimal threshold) =>
        $"{lab}|{month:yyyy-MM}|{threshold.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The event message of an alert: a machine-readable prefix, then <see cref="BudgetAlert.Message"/>.</summary>
    public static string AlertMessage(BudgetAlert a) => $"budget-alert {AlertKey(a.Lab, a.Month, a.Threshold)}: {a.Message}";

    private static string? AlertKeyOf(string message)
    {
        var prefix = message.StartsWith("budget-alert ", StringComparison.Ordinal) ? 13 : message.StartsWith("spend-anomaly ", StringComparison.Ordinal) ? 14
            : message.StartsWith("metric-anomaly ", StringComparison.Ordinal) ? 15 : 0;
        return prefix > 0 && message.IndexOf(": ", prefix, StringComparison.Ordinal) is var colon and > 0 ? message[prefix..colon] : null;
    }
}
