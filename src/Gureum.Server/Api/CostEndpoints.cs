using Gureum.Contracts.Api;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Anomalies;
using Gureum.Cost.Budgets;
using Gureum.Cost.Reports;
using Gureum.Persistence;
using Gureum.Server.Auth;
using Gureum.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gureum.Server.Api;

/// <summary>One row of a cost report.</summary>
/// <param name="Key">Lab, lab/project, lab/user, offer id or market; <c>(idle)</c> for the idle row.</param>
/// <param name="CostUsd">USD in cents; the rows add up to <see cref="CostReportDto.TotalUsd"/>.</param>
/// <param name="ExactUsd">USD to the micro-dollar.</param>
/// <param name="GpuHours">GPU-hours held (0 for idle).</param>
public sealed record CostRowDto(string Key, decimal CostUsd, decimal ExactUsd, double GpuHours);

/// <summary>A cost report over [since, until): allocated rows, the idle row (admins only) and the total.</summary>
public sealed record CostReportDto(string By, DateTimeOffset Since, DateTimeOffset Until, IReadOnlyList<CostRowDto> Rows, decimal IdleUsd, decimal TotalUsd, bool Scoped);

/// <summary>An hour the detector flagged.</summary>
/// <param name="Key">Lab, lab/project or lab/user; for pool metrics the pool (offer/market).</param>
/// <param name="Hour">Start of the UTC hour.</param>
/// <param name="Value">The metric's value in that hour (in <see cref="CostAnomaliesDto.Unit"/>).</param>
/// <param name="Median">Median value of the 24 hours before.</param>
/// <param name="Score">Detector score in [0, 1].</param>
/// <param name="Usd">For spend: the allocated USD of the hour (= value); null for other metrics.</param>
/// <param name="MedianUsd">For spend: the median hourly USD of the 24 hours before; null for other metrics.</param>
public sealed record CostAnomalyDto(string Key, DateTimeOffset Hour, double Value, double Median, double Score, decimal? Usd, decimal? MedianUsd);

/// <summary><c>GET /api/v1/cost/anomalies</c>: the metric, the series scored and the hours flagged.</summary>
public sealed record CostAnomaliesDto(string Metric, string Unit, string By, DateTimeOffset Since, DateTimeOffset Until, string Detector, double Threshold,
    IReadOnlyList<string> Series, int Hours, IReadOnlyList<CostAnomalyDto> Anomalies);

/// <summary>Body of <c>PUT /api/v1/labs/{lab}/budget</c>.</summary>
/// <param name="MonthlyUsd">Budget per UTC calendar month in USD; null or 0 removes it.</param>
/// <param name="AlertThresholds">Alert thresholds in percent of the budget (1 to 1000, each once, any order; stored
/// ascending); null keeps the lab's current ones (50, 80, 100 unless set).</param>
public sealed record BudgetRequest(decimal? MonthlyUsd, IReadOnlyList<decimal>? AlertThresholds = null);

/// <summary>A lab's budget this month.</summary>
/// <param name="Lab">The lab.</param>
/// <param name="MonthlyUsd">Budget per UTC calendar month in USD; null = none.</param>
/// <param name="AlertThresholds">Alert thresholds in percent of the budget, ascending.</param>
/// <param name="Month">This UTC month, yyyy-MM.</param>
/// <param name="SpentUsd">The lab's allocated spend this month so far.</param>
/// <param name="RemainingUsd">Budget − spent; null without a budget.</param>
/// <param name="AlertsFired">Thresholds (percent) already alerted this month.</param>
public sealed record BudgetDto(string Lab, decimal? MonthlyUsd, IReadOnlyList<decimal> AlertThresholds, string Month, decimal SpentUsd,
    decimal? RemainingUsd, IReadOnlyList<string> AlertsFired);

/// <summary>
/// Cost and budget routes: <c>GET /cost</c>, <c>GET /cost/anomalies</c>, <c>GET|PUT /labs/{lab}/budget</c>, <c>POST /jobs/{id}/release</c>
/// (admins release a job held by the budget gate). Scoping: an admin
/// sees every row and the idle row; a lab lead or researcher sees only their lab's rows (no idle
/// row: idle is the pool's cost, not a lab's), so their total is their lab's allocated cost.
/// </summary>
internal static class CostEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/cost", CostAsync).Produces<CostReportDto>().ProducesValidationProblem().WithTags("cost");
        api.MapGet("/cost/anomalies", AnomaliesAsync).Produces<CostAnomaliesDto>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).WithTags("cost");
        api.MapGet("/labs/{lab}/budget", GetBudgetAsync).Produces<BudgetDto>().ProducesProblem(StatusCodes.Status404NotFound).WithTags("cost");
        api.MapPut("/labs/{lab}/budget", PutBudgetAsync).Produces<BudgetDto>().ProducesProblem(StatusCodes.Status403Forbidden).WithTags("cost");
        api.MapPost("/jobs/{id}/release", ReleaseAsync).Produces<JobDto>().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithTags("jobs");
    }

    private static async Task<IResult> CostAsync(HttpContext http, IControlPlaneStore store, TimeProvider time, string? by, DateTimeOffset? since, DateTimeOffset? until, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var now = time.GetUtcNow();
        var from = since ?? CostService.MonthStart(now);
        var to = until ?? now;
        var errors = new Dictionary<string, string[]>();
        CostGrouping grouping = CostGrouping.Lab;
        if (by is not null && !Enum.TryParse(by, ignoreCase: true, out grouping))
            errors["by"] = [$"'{by}' is not a grouping. To fix: use one of lab, project, user, offer, market."];
        if (to <= from) errors["until"] = [$"until ({to:O}) is not after since ({from:O}). To fix: give since < until (ISO 8601)."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var lines = await CostService.LinesAsync(store, from, to, ct);
        var visible = caller.IsAdmin ? lines : lines.Where(l => l.Kind == CostKind.Usage && l.Lab == caller.Lab).ToList();
        // Same keys as CostReport (the CLI's report); idle is its own row whatever the grouping.
        Func<CostLine, string> key = grouping switch
        {
            CostGrouping.Lab => l => l.Lab,
            CostGrouping.Project => l => $"{l.Lab}/{l.Project}",
            CostGrouping.User => l => $"{l.Lab}/{l.User}",
            CostGrouping.Offer => l => l.OfferId,
            _ => l => l.Market.ToString(),
        };
        var groups = visible.GroupBy(l => l.Kind == CostKind.Idle ? CostLine.IdleOwner : key(l), StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Usd: g.Sum(l => l.AmountUsd), GpuHours: g.Sum(l => l.GpuSeconds) / 3600))
            .OrderByDescending(g => g.Usd).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var total = groups.Sum(g => g.Usd);
        var totalCents = Math.Round(total, 2, MidpointRounding.AwayFromZero);
        var cents = CostReport.Apportion(groups.Select(g => g.Usd * 100).ToArray(), (long)(totalCents * 100));
        var rows = groups.Select((g, i) => new CostRowDto(g.Key, cents[i] / 100m, g.Usd, Math.Round(g.GpuHours, 6))).ToList();
        var idle = visible.Where(l => l.Kind == CostKind.Idle).Sum(l => l.AmountUsd);
        return Results.Ok(new CostReportDto(grouping.ToString().ToLowerInvariant(), from, to, rows, idle, totalCents, !caller.IsAdmin));
    }

    /// <summary>Default look-back of <c>GET /cost/anomalies</c>: 14 days of hours.</summary>
    public static readonly TimeSpan AnomalyLookback = TimeSpan.FromDays(14);

    private static async Task<IResult> AnomaliesAsync(HttpContext http, IControlPlaneStore store, TimeProvider time, string? metric, string? by, DateTimeOffset? since, DateTimeOffset? until,
        double? threshold, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var now = time.GetUtcNow();
        var to = until ?? now;
        var from = since ?? to - AnomalyLookback;
        var errors = new Dictionary<string, string[]>();
        var m = MetricAnomalies.Parse(metric ?? "spend");
        if (m is null) errors["metric"] = [$"'{metric}' is not a metric. To fix: use one of {MetricAnomalies.Names}."];
        var pool = m is { } mm && MetricAnomalies.SubjectOf(mm) == AnomalySubject.Pool;
        var grouping = (by ?? (pool ? "pool" : "lab")).ToLowerInvariant();
        if (m is not null && (pool ? grouping != "pool" : MetricAnomalies.TenantKeyOfUsage(grouping) is null))
            errors["by"] = [pool ? $"'{by}' is not a grouping of {metric}: its series are per pool. To fix: leave by out or give by=pool."
                : $"'{by}' is not a grouping of {metric ?? "spend"}. To fix: use lab, project or user."];
        if (to <= from) errors["until"] = [$"until ({to:O}) is not after since ({from:O}). To fix: give since < until (ISO 8601)."];
        else if (to - from > TimeSpan.FromDays(400)) errors["since"] = ["the window is over 400 days. To fix: give a shorter since/until window."];
        if (threshold is { } th && !(th > 0 && th <= 1)) errors["threshold"] = [$"{th} is out of range. To fix: give a score in (0, 1], e.g. 0.2."];
        if (errors.Count > 0) return Problems.Validation(errors);
        // Pools are the operator's (idle GPUs are nobody's lab's): admins only, as the idle row of GET /cost.
        if (pool && !caller.IsAdmin)
            return Problems.Forbidden($"Pool metrics ({MetricAnomalies.Name(m!.Value)}) are the operator's: only an admin sees them. To fix: ask an admin, or use metric=spend, gpu-hours or cpu-hours for your lab.");
        var all = await CostService.HourlyAsync(store, m!.Value, grouping, from, to, ct);
        // Scoping as GET /cost: an admin sees every lab's series; others only their lab's.
        var series = all.Where(kv => caller.IsAdmin || kv.Key == caller.Lab || kv.Key.StartsWith(caller.Lab + "/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var limit = threshold ?? SpendAnomalies.DefaultThreshold;
        var spend = m == AnomalyMetric.Spend;
        var found = MetricAnomalies.DetectAll(m.Value, series, limit)
            .Select(a => new CostAnomalyDto(a.Key, a.Hour, a.Value, a.Median, a.Score, spend ? SpendAnomalies.FromMetric(a).Usd : null, spend ? SpendAnomalies.FromMetric(a).MedianUsd : null)).ToList();
        return Results.Ok(new CostAnomaliesDto(MetricAnomalies.Name(m.Value), MetricAnomalies.Unit(m.Value), grouping, from, to, "gureumRobust (NAB settings)", limit,
            series.Keys.Order(StringComparer.Ordinal).ToList(), series.Values.FirstOrDefault()?.Length ?? 0, found));
    }

    private static async Task<IResult> GetBudgetAsync(HttpContext http, IControlPlaneStore store, TimeProvider time, string lab, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.CanSeeLab(lab) || await store.GetLabAsync(lab, ct) is not { } l) return Problems.NotFound($"Lab '{lab}'");
        return Results.Ok(await BudgetOfAsync(store, l, time.GetUtcNow(), ct));
    }

    private static async Task<IResult> PutBudgetAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, LoopSignal signal, TimeProvider time, string lab, BudgetRequest? body, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        if (!caller.CanSeeLab(lab) || await store.GetLabAsync(lab, ct) is not { } l) return Problems.NotFound($"Lab '{lab}'");
        if (!caller.IsAdmin) return Problems.Forbidden("Only an admin sets budgets. To fix: ask an admin.");
        if (body is null) return Problems.Field("$", "The body must be {\"monthlyUsd\": 5000, \"alertThresholds\": [50, 80, 100]}.");
        var errors = new Dictionary<string, string[]>();
        if (body.MonthlyUsd is < 0) errors["monthlyUsd"] = [$"{body.MonthlyUsd} is negative. To fix: give USD per month of 0 or more (0 or null removes the budget)."];
        var thresholds = l.AlertThresholdsPercent;
        if (body.AlertThresholds is { } given)
        {
            // The same rules as 'gureum cost budget set --thresholds'.
            thresholds = LabBudget.CheckPercents(given, out var problems);
            foreach (var (index, problem, fix) in problems)
                errors[index < 0 ? "alertThresholds" : $"alertThresholds[{index}]"] = [$"{problem}. To fix: {fix}."];
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        var saved = l with { MonthlyBudgetUsd = body.MonthlyUsd is > 0 ? body.MonthlyUsd : null, AlertThresholdsPercent = thresholds };
        if (!await store.UpdateLabAsync(saved, ct)) return Problems.NotFound($"Lab '{lab}'");
        if ((await ReevaluateHoldsAsync(store, rt.Offers, [saved], null, time.GetUtcNow(), ct)).Count > 0) signal.Set();
        return Results.Ok(await BudgetOfAsync(store, saved, time.GetUtcNow(), ct));
    }

    private static async Task<BudgetDto> BudgetOfAsync(IControlPlaneStore store, Lab lab, DateTimeOffset now, CancellationToken ct)
    {
        var spent = (await CostService.SpentThisMonthAsync(store, now, ct)).GetValueOrDefault(lab.Name);
        var month = DateOnly.FromDateTime(CostService.MonthStart(now).UtcDateTime);
        var prefix = $"{lab.Name}|{month:yyyy-MM}|";
        // Alert keys hold the threshold as a share (0.8); the API speaks percent (80).
        var fired = (await CostService.FiredAlertsAsync(store, ct)).Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => decimal.Parse(k[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture) * 100).Order()
            .Select(v => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new BudgetDto(lab.Name, lab.MonthlyBudgetUsd, CostService.ThresholdsOf(lab).Select(t => t * 100).ToList(), $"{month:yyyy-MM}", Math.Round(spent, 6),
            lab.MonthlyBudgetUsd is { } b ? Math.Round(b - spent, 6) : null, fired);
    }

    private static async Task<IResult> ReleaseAsync(HttpContext http, IControlPlaneStore store, ControlPlaneRuntime rt, LoopSignal signal, TimeProvider time, string id, CancellationToken ct)
    {
        var caller = BearerAuth.CallerOf(http);
        var job = await store.GetJobAsync(id, ct);
        if (job is null || !caller.CanSeeLab(job.Spec.Lab)) return Problems.NotFound($"Job '{id}'");
        if (!caller.IsAdmin)
            return Problems.Forbidden($"Only an admin releases a held job. To fix: ask an admin to run 'gureum release {id}', or ask for the lab's budget to be raised (held jobs are released automatically when it allows them).");
        if (job is not { Status: JobStatus.Pending, Hold: not null })
            return Problems.Create(StatusCodes.Status409Conflict, "Not held", $"Job '{id}' is {job.Status} and not held; there is nothing to release. To fix: check 'gureum show {id}'.");
        var released = await store.ReleaseHoldAsync(id, $"released by admin {caller.Name} (was {job.Hold})", time.GetUtcNow(), ct) ?? job;
        signal.Set();
        return Results.Ok(rt.Describe(released));
    }

    /// <summary>
    /// The forecast gate of the submit path: the hold reason (<c>held: budget — lab X would reach $Y
    /// of $Z …</c>) when the lab's month-to-date spend + the predicted remaining cost of its running
    /// and queued jobs (<see cref="CostService.CommittedUsdAsync"/>) + this job's predicted cost
    /// (<see cref="CostService.PredictJobUsd"/>) exceeds its monthly budget; null to admit (no budget,
    /// or a job that declares no duration/time limit, which the gate cannot predict). A held job is
    /// still accepted and stored; it waits until released. Note two submissions racing each other
    /// each see the other's cost only once it is stored.
    /// </summary>
    public static async Task<string?> HoldReasonAsync(IControlPlaneStore store, ControlPlaneRuntime rt, JobSpec spec, DateTimeOffset now, CancellationToken ct)
    {
        if (await store.GetLabAsync(spec.Lab, ct) is not { MonthlyBudgetUsd: > 0 } lab) return null;
        if (CostService.PredictJobUsd(spec, rt.Offers) is not { } predicted) return null;
        var spent = (await CostService.SpentThisMonthAsync(store, now, ct)).GetValueOrDefault(lab.Name);
        var committed = await CostService.CommittedUsdAsync(store, rt.Offers, lab.Name, now, ct);
        var decision = BudgetGate.Decide(new GateRequest(lab.Name, predicted, spent, committed), CostService.BudgetOf(lab));
        return decision.Verdict == GateVerdict.Hold ? HeldPrefix + decision.Reason : null;
    }

    /// <summary>Start of every budget hold reason; only such holds are re-evaluated automatically.</summary>
    public const string HeldPrefix = "held: ";

    private const string BudgetHoldPrefix = HeldPrefix + "budget";

    /// <summary>
    /// Re-evaluate the budget holds of <paramref name="labs"/> (after a budget change, and by the
    /// control loop on every budget check, so a new month or a raised budget releases them): a lab
    /// without a budget any more releases all its held jobs; otherwise held jobs are released in
    /// arrival order while spend + committed cost + the job's predicted cost stays within the budget,
    /// each released job's cost counting as committed for the next, and the first that does not fit
    /// stops the pass (no overtaking). Releases go through <see cref="IControlPlaneStore.ReleaseHoldAsync"/>
    /// (event <c>JobReleased</c> with the reason). Returns the released jobs.
    /// </summary>
    public static async Task<IReadOnlyList<JobRecord>> ReevaluateHoldsAsync(IControlPlaneStore store, IReadOnlyList<Offer> offers, IReadOnlyList<Lab> labs,
        IReadOnlyDictionary<string, decimal>? spentThisMonth, DateTimeOffset now, CancellationToken ct)
    {
        var released = new List<JobRecord>();
        foreach (var lab in labs)
        {
            var held = new List<JobRecord>();
            string? cursor = null;
            do
            {
                var page = await store.ListJobsAsync(new JobQuery { Lab = lab.Name, Statuses = [JobStatus.Pending], Held = true, Limit = 1000, Cursor = cursor }, ct);
                held.AddRange(page.Items.Where(j => j.Hold!.StartsWith(BudgetHoldPrefix, StringComparison.Ordinal)));
                cursor = page.NextCursor;
            } while (cursor is not null);
            if (held.Count == 0) continue;
            held.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            if (lab.MonthlyBudgetUsd is not > 0)
            {
                foreach (var j in held)
                    if (await store.ReleaseHoldAsync(j.Id, $"released: lab {lab.Name} has no budget any more", now, ct) is { } r) released.Add(r);
                continue;
            }
            spentThisMonth ??= await CostService.SpentThisMonthAsync(store, now, ct);
            var spent = spentThisMonth.GetValueOrDefault(lab.Name);
            var committed = await CostService.CommittedUsdAsync(store, offers, lab.Name, now, ct);
            var budget = lab.MonthlyBudgetUsd.Value;
            foreach (var j in held)
            {
                var predicted = CostService.PredictJobUsd(j.Spec, offers) ?? 0;
                var projected = spent + committed + predicted;
                if (projected > budget) break;
                if (await store.ReleaseHoldAsync(j.Id, $"released: budget — lab {lab.Name} now projects ${projected:F2} of ${budget:F2} with this job", now, ct) is { } r) released.Add(r);
                committed += predicted;
            }
        }
        return released;
    }
}
