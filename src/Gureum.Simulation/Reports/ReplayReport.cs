using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gureum.Core.Domain;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Reports;

/// <summary>What a replay report states besides the figures (DESIGN.md: placement model, time
/// step, boot delays, restart overheads, trimming, spot mapping).</summary>
public sealed record ReplayContext
{
    public required string Trace { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
    public string SpotModel { get; init; } = "";
    public int Seed { get; init; }
}

/// <summary>Writes replay results: the JSON report, per-policy schedule CSVs and the HTML report.</summary>
public static class ReplayReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Fixed statements about the replay model, printed in every report.</summary>
    public static IReadOnlyList<string> ModelStatements(ReplayOptions o) =>
    [
        "Placement model: per-node, per-GPU accounting (whole GPUs by index, fractional milli-GPU shares on one GPU); gangs all or nothing on distinct nodes; placement does not change speed except through the GPU model.",
        "Time step: none (discrete-event; one decision per distinct event time).",
        $"Boot delays: per offer from the catalog loader's defaults; billing per second from request to release, minimum {o.MinimumBilled.TotalSeconds:F0} s.",
        $"Restart overhead: {o.RestartOverhead.TotalSeconds:F0} s per restart; checkpointed jobs resume from their last checkpoint, services (kind service) where they were (only the downtime is lost), other jobs from zero.",
        $"Reference GPU: run times in the trace are on {GpuModels.DefaultReference} unless the trace names another; other GPUs scale by the speed table below.",
        o.SpotHistoryWindow > TimeSpan.Zero
            ? $"Spot records: the simulated cloud publishes each spot market's reclaims and hours up over the {o.SpotHistoryWindow.TotalDays:0.#} days before each decision (read off its trace, wrapping as the replay does; as AWS's Spot Advisor publishes the trailing month's interruption frequency); the gureum policy reads them, the baselines do not."
            : "Spot records: none published (--spot-history-days 0); the gureum policy learns spot hazards only from its own nodes.",
    ];

    public static void WriteJson(string path, ReplayContext ctx, IReadOnlyList<PolicyMetrics> metrics, ReplayOptions options)
    {
        var doc = new Dictionary<string, object?>
        {
            ["trace"] = ctx.Trace,
            ["seed"] = ctx.Seed,
            ["policies"] = metrics,
            ["reference_gpu"] = GpuModels.DefaultReference,
            ["gpu_speed"] = GpuModels.Speed.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value),
            ["notes"] = ctx.Notes,
            ["model"] = ModelStatements(options),
            ["spot_model"] = ctx.SpotModel,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(doc, Json));
    }

    /// <summary>Writes <c>DIR/&lt;policy&gt;.jobs.csv</c> and <c>DIR/&lt;policy&gt;.nodes.csv</c>, and
    /// <c>DIR/&lt;policy&gt;.events.csv</c> (every decision and what happened, with its reason) when the
    /// replay kept its events (<see cref="ReplayOptions.KeepEvents"/>).</summary>
    public static void WriteSchedule(string dir, ReplayOutcome o)
    {
        Directory.CreateDirectory(dir);
        var inv = CultureInfo.InvariantCulture;
        string S(DateTimeOffset t) => (t - o.Start).TotalSeconds.ToString("0.###", inv);
        using (var w = new StreamWriter(Path.Combine(dir, $"{o.Policy}.jobs.csv")))
        {
            w.WriteLine("job_id,lab,submit_s,runtime_s,reference_gpu,gpus,gpu_milli,nodes,status,run,start_s,end_s,node_id,gpu_model,outcome,cpus,mem_gib,kind,keeps_work,lb_spot_usd,lb_ondemand_usd");
            var lb = new LowerBounds(o.UsableOffers);
            foreach (var j in o.Jobs)
            {
                var r = j.Spec.Resources;
                var prefix = $"{Csv(j.Id)},{Csv(j.Spec.Lab)},{S(j.Spec.SubmitTime)},{(j.Spec.Duration ?? TimeSpan.Zero).TotalSeconds.ToString("0.###", inv)},{j.Spec.ReferenceGpu},{r.Gpus},{r.GpuMilli},{r.Nodes},{j.Status}";
                // The job's own figures, repeated on each of its rows: shape, whether a preemption
                // keeps its work, and its share of the report's cost lower bounds (0 when unschedulable).
                var bounded = j.Status != JobStatus.Unschedulable;
                var suffix = string.Create(inv, $"{r.Cpus},{r.MemoryGiB},{j.Spec.Kind},{(j.Spec.KeepsWorkOnPreemption ? "true" : "false")},{(bounded ? lb.Cost(j.Spec, allowSpot: true) ?? 0 : 0):0.######},{(bounded ? lb.Cost(j.Spec, allowSpot: false) ?? 0 : 0):0.######}");
                var runs = o.Runs[j.Id];
                if (runs.Count == 0) w.WriteLine($"{prefix},,,,,,,{suffix}");
                for (var i = 0; i < runs.Count; i++)
                    w.WriteLine($"{prefix},{i + 1},{S(runs[i].Start)},{S(runs[i].End)},{runs[i].NodeIds},{runs[i].GpuModel},{runs[i].Outcome},{suffix}");
            }
        }
        using (var w = new StreamWriter(Path.Combine(dir, $"{o.Policy}.nodes.csv")))
        {
            w.WriteLine("node_id,offer,instance_type,zone,market,gpus,gpu_model,start_s,end_s,billed_s,start_price_per_h,billed_usd,price_changes,vcpus,memory_gib");
            foreach (var b in o.Bills)
            {
                var changes = string.Join(';', b.PriceChanges.Select(c => $"{S(c.At)}@{c.Price.ToString(inv)}"));
                w.WriteLine($"{b.NodeId},{Csv(b.Offer.Id)},{Csv(b.Offer.InstanceType)},{Csv(b.Offer.Zone)},{b.Market},{b.Offer.GpuCount},{b.Offer.GpuModel},{S(b.Start)},{S(b.End ?? o.End)},{b.BilledSeconds},{b.StartPrice.ToString(inv)},{b.BilledUsd.ToString("0.######", inv)},{changes},{b.Offer.VCpus.ToString(inv)},{b.Offer.MemoryGiB.ToString(inv)}");
            }
        }
        if (o.Events.Count == 0) return;
        using (var w = new StreamWriter(Path.Combine(dir, $"{o.Policy}.events.csv")))
        {
            w.WriteLine("at_s,kind,job_id,node_id,message");
            foreach (var e in o.Events)
                w.WriteLine($"{S(e.At)},{e.Kind},{Csv(e.JobId ?? "")},{Csv(e.NodeId ?? "")},{Csv(e.Message.Replace('\n', ' '))}");
        }
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    /// <summary>Writes a self-contained HTML report with the table and plots (SVG inline).</summary>
    public static void WriteHtml(string path, ReplayContext ctx, IReadOnlyList<(ReplayOutcome Outcome, PolicyMetrics Metrics)> results, ReplayOptions options)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Gureum replay: ").Append(WebUtility.HtmlEncode(ctx.Trace)).Append("</title>");
        sb.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#eef}td:first-child{text-align:left}.plots img,.plots svg{max-width:100%}</style></head><body>");
        sb.Append("<h1>Gureum replay</h1><p>Trace: <code>").Append(WebUtility.HtmlEncode(ctx.Trace)).Append("</code>, seed ").Append(ctx.Seed).Append("</p>");
        sb.Append("<h2>Results</h2><table><tr><th>policy</th><th>cost $</th><th>cost LB $ (spot)</th><th>cost / LB</th><th>cost LB $ (on-demand)</th><th>mean JCT s</th><th>mean run time s (ref GPU)</th><th>JCT / run time</th><th>JCT LB s</th><th>p50 JCT</th><th>p99 JCT</th><th>mean wait s</th><th>GPU alloc util</th><th>preemptions</th><th>done / unsched / total</th></tr>");
        foreach (var (_, m) in results)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{m.Name}</td><td>{m.CostUsd:F2}</td><td>{m.CostLowerBoundUsd:F2}</td><td>{m.CostOverLb:F3}</td><td>{m.CostLowerBoundOnDemandUsd:F2}</td><td>{m.MeanJctS:F0}</td><td>{m.MeanRuntimeS:F0}</td><td>{m.JctOverRuntime:F3}</td><td>{m.MeanJctLowerBoundS:F0}</td><td>{m.P50JctS:F0}</td><td>{m.P99JctS:F0}</td><td>{m.MeanWaitS:F1}</td><td>{m.GpuAllocUtilization:F3}</td><td>{m.Preemptions}</td><td>{m.JobsCompleted} / {m.JobsUnschedulable} / {m.JobsTotal}</td></tr>");
        }
        sb.Append("</table>").Append(CostGapHtml(results.Select(r => r.Metrics).ToList()));
        sb.Append("<div class=\"plots\"><h2>Fleet size (GPUs) over time</h2>").Append(Plots.Series(results.Select(r => (r.Metrics.Name, r.Outcome.Samples.Select(s => ((s.At - r.Outcome.Start).TotalHours, (double)s.Gpus)).ToList())).ToList(), "hours", "GPUs"));
        sb.Append("<h2>Spend over time</h2>").Append(Plots.Series(results.Select(r => (r.Metrics.Name, r.Outcome.Samples.Select(s => ((s.At - r.Outcome.Start).TotalHours, (double)s.SpendUsd)).ToList())).ToList(), "hours", "USD"));
        sb.Append("<h2>Queue length over time</h2>").Append(Plots.Series(results.Select(r => (r.Metrics.Name, r.Outcome.Samples.Select(s => ((s.At - r.Outcome.Start).TotalHours, (double)s.Pending)).ToList())).ToList(), "hours", "pending jobs"));
        sb.Append("<h2>JCT distribution (CDF)</h2>").Append(Plots.Cdf(results.Select(r => (r.Metrics.Name, Jcts(r.Outcome))).ToList(), "JCT (s, log10)")).Append("</div>");
        sb.Append("<h2>Model and assumptions</h2><ul>");
        foreach (var s in ModelStatements(options).Concat(ctx.Notes).Append("Spot model: " + ctx.SpotModel)) sb.Append("<li>").Append(WebUtility.HtmlEncode(s)).Append("</li>");
        sb.Append("</ul><h2>GPU speed table (relative to V100)</h2><table><tr><th>model</th><th>speed</th></tr>");
        foreach (var (k, v) in GpuModels.Speed.OrderBy(kv => kv.Value)) sb.Append(inv, $"<tr><td>{k}</td><td>{v:F2}</td></tr>");
        sb.Append("</table><p>Sources: Gavel (OSDI'20) measured K80/P100/V100 throughputs; Lambda Labs GPU benchmarks; NVIDIA datasheets (see GpuModels.cs).</p></body></html>");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>An HTML table of where each policy's cost went beyond the spot cost bound
    /// (<see cref="CostGap"/>), each part as a multiple of the bound; empty without gaps.</summary>
    public static string CostGapHtml(IReadOnlyList<PolicyMetrics> policies)
    {
        var withGap = policies.Where(m => m.CostGap is { LowerBoundUsd: > 0 }).ToList();
        if (withGap.Count == 0) return "";
        var sb = new StringBuilder("<h3>Cost over the spot lower bound, by cause (× LB; 1 + parts = cost ÷ LB)</h3><table><tr><th>policy</th><th>cost ÷ LB</th>");
        foreach (var (name, _) in withGap[0].CostGap!.Parts) sb.Append("<th>").Append(WebUtility.HtmlEncode(name)).Append("</th>");
        sb.Append("</tr>");
        foreach (var m in withGap)
        {
            var g = m.CostGap!;
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(m.Name)}</td><td>{g.BilledUsd / g.LowerBoundUsd:F3}</td>");
            foreach (var (_, usd) in g.Parts) sb.Append(CultureInfo.InvariantCulture, $"<td title=\"${usd:F2}\">{Math.Round(usd / g.LowerBoundUsd, 3) + 0.0:F3}</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</table><p><small>Each part is billed dollars ÷ the bound. Single run: jobs that ran once, over their bound (dearer offers or zones, slower GPUs, bigger binding share). Reruns: jobs that ran more than once (lost runs, restarts, moves). Partial packing: the unheld share of busy nodes. Before first run (boot), idle between runs, idle after the last run, unused nodes: billed time with no job.</small></p>").ToString();
    }

    private static List<double> Jcts(ReplayOutcome o) =>
        o.Jobs.Where(j => j.Status == JobStatus.Completed).Select(j => (o.Runs[j.Id][^1].End - j.Spec.SubmitTime).TotalSeconds).ToList();
}
