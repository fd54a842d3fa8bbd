using System.Text.Json.Serialization;
using Gureum.Simulation.Cloud;

namespace Gureum.Simulation.Operator;

/// <summary>One deadline setting: job length, deadline and restart (changeover) overhead.</summary>
public sealed record DeadlineSetting(double JobHours, double DeadlineHours, double OverheadHours)
{
    public override string ToString() => $"L={JobHours:0.#}h D={DeadlineHours:0.#}h d={OverheadHours * 60:0.#}min";
}

/// <summary>A deadline policy on the tick model of "Can't Be Late": each tick it holds spot
/// (only when available), on-demand or nothing.</summary>
public interface IDeadlinePolicy
{
    string Name { get; }

    /// <summary>Action for tick <paramref name="t"/>: 0 idle, 1 spot, 2 on-demand.</summary>
    int Act(DeadlineRun run, int t, int progress, int mode, int warmup, bool spotUp);
}

/// <summary>The problem one policy faces: ticks until the deadline, ticks of work, overhead ticks,
/// and the trace (only <see cref="History"/> and ticks up to now may be read by online policies).</summary>
public sealed record DeadlineRun(int DeadlineTicks, int WorkTicks, int OverheadTicks, bool[] Up, bool[] History)
{
    /// <summary>Ticks of slack left if the job had to finish on demand from here.</summary>
    public int Slack(int t, int progress, int mode, int warmup) =>
        DeadlineTicks - t - (WorkTicks - progress) - (mode == 2 ? warmup : OverheadTicks);
}

/// <summary>Safety net shared by every online policy: on demand when the slack is gone (on demand
/// is always available, so no deadline is missed); never leave on demand (for spot or to wait)
/// without room for two more changeovers, since coming back costs one.</summary>
internal static class Guard
{
    public static int? Forced(DeadlineRun r, int t, int p, int m, int w, bool up)
    {
        var slack = r.Slack(t, p, m, w);
        if (slack <= 1) return 2;
        if (m == 2 && slack < 2 * r.OverheadTicks + 2) return 2;
        return null;
    }
}

/// <summary>Uniform Progress (Wu et al., "Can't Be Late", NSDI 2024): spot whenever available;
/// when not, on demand only while progress is behind the uniform line work × t / deadline; with
/// the safety net.</summary>
public sealed class UniformProgressPolicy : IDeadlinePolicy
{
    public string Name => "uniform-progress";

    public int Act(DeadlineRun r, int t, int p, int m, int w, bool up)
    {
        if (Guard.Forced(r, t, p, m, w, up) is { } f) return f;
        if (up) return 1;
        return p < (double)r.WorkTicks * t / r.DeadlineTicks ? 2 : 0;
    }
}

/// <summary>Greedy: spot whenever available, otherwise wait until the safety net forces on demand.</summary>
public sealed class GreedyDeadlinePolicy : IDeadlinePolicy
{
    public string Name => "greedy";

    public int Act(DeadlineRun r, int t, int p, int m, int w, bool up) => Guard.Forced(r, t, p, m, w, up) ?? (up ? 1 : 0);
}

/// <summary>
/// Gureum's deadline policy: spot first, on demand when the slack runs out — decided by a learned
/// model instead of a fixed line. Spot availability is modelled as a two-state Markov chain (up/down,
/// transition probabilities counted from the zone's history before the job starts, add-one
/// smoothing); the policy is the cost-optimal one for that model, computed by dynamic programming over
/// (tick, progress, held instance, warm-up left, spot state) with a missed deadline costing infinity,
/// so it never plans a miss under any availability sequence. Then the same safety net as every policy.
/// One table per run (computed on the first tick; only past data goes into it).
/// </summary>
public sealed class GureumDeadlinePolicy : IDeadlinePolicy
{
    private DeadlineRun? _for;
    private byte[] _act = [];

    public string Name => "gureum";

    public int Act(DeadlineRun r, int t, int p, int m, int w, bool up)
    {
        if (Guard.Forced(r, t, p, m, w, up) is { } f) return f;
        if (!ReferenceEquals(_for, r)) { _act = Solve(r); _for = r; }
        var W = r.OverheadTicks + 1;
        return _act[Index(t, Math.Min(p, r.WorkTicks), m, Math.Min(w, W - 1), up ? 1 : 0, r.WorkTicks, W)];
    }

    private static int Index(int t, int p, int m, int w, int s, int P, int W) => ((((t * (P + 1)) + p) * 3 + m) * W + w) * 2 + s;

    /// <summary>P(up at t+1 | state at t) from the history, add-one smoothed.</summary>
    public static (double UpFromUp, double UpFromDown) Fit(bool[] history)
    {
        double uu = 1, ud = 1, du = 1, dd = 1;
        for (var i = 1; i < history.Length; i++)
        {
            if (history[i - 1]) { if (history[i]) uu++; else ud++; }
            else { if (history[i]) du++; else dd++; }
        }
        return (uu / (uu + ud), du / (du + dd));
    }

    private static byte[] Solve(DeadlineRun r)
    {
        int T = r.DeadlineTicks, P = r.WorkTicks, K = r.OverheadTicks, W = K + 1;
        var (pUU, pUD) = Fit(r.History);
        const double Inf = 1e18;
        var act = new byte[T * (P + 1) * 3 * W * 2];
        var next = new double[(P + 1) * 3 * W * 2];
        var cur = new double[next.Length];
        int L(int p, int m, int w, int s) => (((p * 3) + m) * W + w) * 2 + s;
        for (var p = 0; p <= P; p++) for (var m = 0; m < 3; m++) for (var w = 0; w < W; w++) for (var s = 0; s < 2; s++) next[L(p, m, w, s)] = p >= P ? 0 : Inf;
        for (var t = T - 1; t >= 0; t--)
        {
            for (var p = 0; p <= P; p++)
                for (var m = 0; m < 3; m++)
                    for (var w = 0; w < W; w++)
                        for (var s = 0; s < 2; s++)
                        {
                            if (p >= P) { cur[L(p, m, w, s)] = 0; continue; }
                            var up = s == 1;
                            var mm = m == 1 && !up ? 0 : m;
                            var ww = mm == m ? w : 0;
                            var pu = up ? pUU : pUD;
                            double best = double.PositiveInfinity;
                            byte bestA = 2;
                            for (var a = 0; a < 3; a++)
                            {
                                if (a == 1 && !up) continue;
                                int np, nm, nw;
                                if (a == 0) (np, nm, nw) = (p, 0, 0);
                                else if (a == mm) (np, nm, nw) = ww > 0 ? (p, mm, ww - 1) : (p + 1, mm, 0);
                                else (np, nm, nw) = K == 0 ? (p + 1, a, 0) : (p, a, K - 1);
                                np = Math.Min(np, P);
                                var c = (a == 1 ? DeadlineStudy.SpotPerHour : a == 2 ? DeadlineStudy.OnDemandPerHour : 0)
                                        + pu * next[L(np, nm, nw, 1)] + (1 - pu) * next[L(np, nm, nw, 0)];
                                if (c < best - 1e-12) { best = c; bestA = (byte)a; }
                            }
                            cur[L(p, m, w, s)] = Math.Min(best, Inf);
                            act[Index(t, p, m, w, s, P, W)] = bestA;
                        }
            (cur, next) = (next, cur);
        }
        return act;
    }
}

/// <summary>Outcome of one policy on one run.</summary>
public readonly record struct DeadlineOutcome(double CostUsd, bool Met, int FinishTick);

/// <summary>Per-setting figures of the deadline study.</summary>
public sealed record DeadlineSettingResult
{
    [JsonPropertyName("setting")] public required string Setting { get; init; }
    [JsonPropertyName("runs")] public required int Runs { get; init; }
    [JsonPropertyName("missed")] public required IReadOnlyDictionary<string, int> Missed { get; init; }
    [JsonPropertyName("mean_cost_usd")] public required IReadOnlyDictionary<string, double> MeanCostUsd { get; init; }
    [JsonPropertyName("optimum_mean_cost_usd")] public required double OptimumMeanCostUsd { get; init; }
    [JsonPropertyName("on_demand_only_cost_usd")] public required double OnDemandOnlyCostUsd { get; init; }
    /// <summary>Mean cost ÷ mean optimum − 1, per policy.</summary>
    [JsonPropertyName("gap_to_optimum")] public required IReadOnlyDictionary<string, double> GapToOptimum { get; init; }
}

/// <summary>
/// The deadline study on the Can't Be Late availability traces: each run is one job of a setting
/// started at one offset of one trace; every policy and the offline optimum (dynamic programming
/// over the known trace) face the same run. Tick model as in Can't Be Late: cost = Σ price × gap of
/// the ticks an instance is held, a (re)start spends the overhead ticks without progress, a spot
/// instance is lost on a tick the trace marks unavailable, the deadline is hard.
/// </summary>
public static class DeadlineStudy
{
    /// <summary>p3.2xlarge prices (the traces' instance): spot 0.918 USD/h (the flat price in the
    /// preemption traces), on demand 3.06 USD/h (AWS us-east-1 list price).</summary>
    public const double SpotPerHour = 0.918, OnDemandPerHour = 3.06;

    /// <summary>Default settings: a 24 h job with 25%, 50% and 100% slack, 6 min changeover; and a 12 h job with 50% slack.</summary>
    public static IReadOnlyList<DeadlineSetting> DefaultSettings { get; } =
    [
        new(24, 30, 0.1), new(24, 36, 0.1), new(24, 48, 0.1), new(12, 18, 0.1),
    ];

    /// <summary>Single-node availability traces of the Can't Be Late release under <paramref name="cantBeLateDir"/>.</summary>
    public static IReadOnlyList<SpotTrace> LoadTraces(string cantBeLateDir)
    {
        var dir = Path.Combine(cantBeLateDir, "availability", "1-node");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"No Can't Be Late availability traces at {dir}. To fix: pass the spot_traces/cant_be_late folder of the shared data.");
        return Directory.EnumerateFiles(dir, "*_v100_1.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => SpotTraceLoader.LoadFile(f, Path.GetRelativePath(cantBeLateDir, f))).ToList();
    }

    /// <summary>Runs every policy and the optimum on <paramref name="startsPerTrace"/> evenly spaced starts of every trace.</summary>
    public static IReadOnlyList<DeadlineSettingResult> Run(IReadOnlyList<SpotTrace> traces, IReadOnlyList<DeadlineSetting> settings, IReadOnlyList<IDeadlinePolicy> policies, int startsPerTrace = 6)
    {
        var results = new List<DeadlineSettingResult>();
        foreach (var s in settings)
        {
            var costs = policies.ToDictionary(p => p.Name, _ => new List<double>());
            var missed = policies.ToDictionary(p => p.Name, _ => 0);
            var optimum = new List<double>();
            double odOnly = 0;
            foreach (var tr in traces)
            {
                var gapH = tr.Gap.TotalHours;
                var T = (int)Math.Floor(s.DeadlineHours / gapH);
                var P = (int)Math.Ceiling(s.JobHours / gapH);
                var K = (int)Math.Ceiling(s.OverheadHours / gapH);
                var span = tr.Data.Length - T;
                if (span <= 0) continue;
                for (var k = 0; k < startsPerTrace; k++)
                {
                    // Starts in the later part of the trace, so the history before it is there to learn from.
                    var start = span / 4 + (int)((long)(span - span / 4 - 1) * k / Math.Max(1, startsPerTrace - 1));
                    var up = new bool[T];
                    for (var i = 0; i < T; i++) up[i] = tr.Data[start + i] > 0;
                    var history = new bool[start];
                    for (var i = 0; i < start; i++) history[i] = tr.Data[i] > 0;
                    var run = new DeadlineRun(T, P, K, up, history);
                    foreach (var p in policies)
                    {
                        var o = Simulate(run, p, gapH);
                        costs[p.Name].Add(o.CostUsd);
                        if (!o.Met) missed[p.Name]++;
                    }
                    optimum.Add(Optimum(run, gapH));
                    odOnly = (P + K) * gapH * OnDemandPerHour;
                }
            }
            var opt = optimum.Count > 0 ? optimum.Average() : double.NaN;
            results.Add(new DeadlineSettingResult
            {
                Setting = s.ToString(),
                Runs = optimum.Count,
                Missed = missed,
                MeanCostUsd = costs.ToDictionary(kv => kv.Key, kv => kv.Value.Count > 0 ? kv.Value.Average() : double.NaN),
                OptimumMeanCostUsd = opt,
                OnDemandOnlyCostUsd = odOnly,
                GapToOptimum = costs.ToDictionary(kv => kv.Key, kv => kv.Value.Count > 0 ? kv.Value.Average() / opt - 1 : double.NaN),
            });
        }
        return results;
    }

    /// <summary>Plays one policy over a run.</summary>
    public static DeadlineOutcome Simulate(DeadlineRun r, IDeadlinePolicy policy, double gapHours)
    {
        int p = 0, m = 0, w = 0;
        double cost = 0;
        for (var t = 0; t < r.DeadlineTicks; t++)
        {
            if (p >= r.WorkTicks) return new DeadlineOutcome(cost, true, t);
            if (m == 1 && !r.Up[t]) { m = 0; w = 0; } // reclaimed
            var a = policy.Act(r, t, p, m, w, r.Up[t]);
            if (a == 1 && !r.Up[t]) a = 0;
            (p, m, w) = Step(p, m, w, a, r.OverheadTicks);
            cost += a == 1 ? SpotPerHour * gapHours : a == 2 ? OnDemandPerHour * gapHours : 0;
        }
        return new DeadlineOutcome(cost, p >= r.WorkTicks, r.DeadlineTicks);
    }

    private static (int P, int M, int W) Step(int p, int m, int w, int a, int k)
    {
        if (a == 0) return (p, 0, 0);
        if (a == m) return w > 0 ? (p, m, w - 1) : (p + 1, m, 0);
        return k == 0 ? (p + 1, a, 0) : (p, a, k - 1);
    }

    /// <summary>
    /// Offline optimum: the least cost to finish by the deadline knowing the whole trace, by dynamic
    /// programming backwards over (tick, progress, held instance, warm-up ticks left). Same tick model
    /// as <see cref="Simulate"/>, so it bounds every policy from below.
    /// </summary>
    public static double Optimum(DeadlineRun r, double gapHours)
    {
        int T = r.DeadlineTicks, P = r.WorkTicks, K = Math.Max(0, r.OverheadTicks), W = K + 1;
        var spot = SpotPerHour * gapHours;
        var od = OnDemandPerHour * gapHours;
        int Idx(int p, int m, int w) => (p * 3 + m) * W + w;
        var size = (P + 1) * 3 * W;
        var next = new double[size];
        var cur = new double[size];
        for (var p = 0; p <= P; p++)
            for (var m = 0; m < 3; m++)
                for (var w = 0; w < W; w++) next[Idx(p, m, w)] = p >= P ? 0 : double.PositiveInfinity;
        for (var t = T - 1; t >= 0; t--)
        {
            var up = r.Up[t];
            for (var p = 0; p <= P; p++)
                for (var m = 0; m < 3; m++)
                    for (var w = 0; w < W; w++)
                    {
                        if (p >= P) { cur[Idx(p, m, w)] = 0; continue; }
                        var mm = m == 1 && !up ? 0 : m;
                        var ww = mm == m ? w : 0;
                        var best = double.PositiveInfinity;
                        for (var a = 0; a < 3; a++)
                        {
                            if (a == 1 && !up) continue;
                            var (np, nm, nw) = Step(p, mm, ww, a, K);
                            var c = (a == 1 ? spot : a == 2 ? od : 0) + next[Idx(Math.Min(np, P), nm, Math.Min(nw, W - 1))];
                            if (c < best) best = c;
                        }
                        cur[Idx(p, m, w)] = best;
                    }
            (cur, next) = (next, cur);
        }
        return next[Idx(0, 0, 0)];
    }
}
