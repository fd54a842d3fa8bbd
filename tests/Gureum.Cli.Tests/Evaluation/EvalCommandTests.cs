using System.Globalization;
using System.Text.Json;
using Gureum.Cli.Commands;
using Gureum.Tests;

namespace Gureum.Cli.Tests.Evaluation;

/// <summary><c>gureum eval</c> on the real data, small: its figures re-computed from the schedule files it writes.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gureum-eval-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RealDataFact]
    public void Eval_SmallRun_CostBoundJctAndCostGapRecomputeFromTheScheduleFiles()
    {
        var rc = InProcessCli.Run("eval", "--data", TestData.Root!, "--out", _dir, "--limit", "200", "--dlrm-limit", "200", "--generated-jobs", "200", "--generated-traces", "2", "--predictors", "false", "--deadline-study", "false");
        Assert.Equal(ExitCodes.Ok, rc);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "eval.json")));
        var checkedPolicies = 0;
        foreach (var trace in doc.RootElement.GetProperty("traces").EnumerateArray())
        {
            var name = trace.GetProperty("name").GetString()!;
            foreach (var p in trace.GetProperty("policies").EnumerateArray())
            {
                var policy = p.GetProperty("name").GetString()!;
                var dir = Path.Combine(_dir, "schedules", name);
                var nodes = Rows(Path.Combine(dir, policy + ".nodes.csv"));
                var runs = Rows(Path.Combine(dir, policy + ".jobs.csv"));
                var what = $"{name}/{policy}";

                // Cost: the node bills (6 decimals each) add up to the report's cost.
                var billed = nodes.Sum(r => D(r["billed_usd"]));
                Assert.True(Math.Abs(billed - p.GetProperty("cost_usd").GetDouble()) < 0.001 * Math.Max(1, nodes.Count), $"{what}: bills {billed} vs cost {p.GetProperty("cost_usd")}");
                // Bound: each job's spot bound (on each of its rows) adds up to the report's.
                var jobs = runs.GroupBy(r => r["job_id"]).ToList();
                var bound = jobs.Sum(g => D(g.First()["lb_spot_usd"]));
                Assert.True(Math.Abs(bound - p.GetProperty("cost_lower_bound_usd").GetDouble()) < 1e-6 * jobs.Count + 1e-6, $"{what}: bound {bound}");
                // Mean JCT: last run's end minus submit, over completed jobs.
                var done = jobs.Where(g => g.First()["status"] == "Completed").ToList();
                var jct = done.Average(g => g.Max(r => D(r["end_s"])) - D(g.First()["submit_s"]));
                Assert.True(Math.Abs(jct - p.GetProperty("mean_jct_s").GetDouble()) < 0.01, $"{what}: JCT {jct} vs {p.GetProperty("mean_jct_s")}");
                // The cost gap's parts add up to the bill over the bound.
                var gap = p.GetProperty("cost_gap");
                var parts = gap.EnumerateObject().Where(x => x.Name is not ("billed_usd" or "lower_bound_usd")).Sum(x => x.Value.GetDouble());
                Assert.Equal(billed, gap.GetProperty("lower_bound_usd").GetDouble() + parts, 2);
                checkedPolicies++;
            }
        }
        Assert.True(checkedPolicies >= 12, $"only {checkedPolicies} policies checked"); // four traces × (reactive, spot-fallback, gureum) at least
        // Two generated traces, each its own draw, both replayed and written.
        var names = doc.RootElement.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Contains("generated", names);
        Assert.Contains("generated-2", names);
        Assert.Equal([101, 1101], doc.RootElement.GetProperty("generated_trace_seeds").EnumerateArray().Select(e => e.GetInt32()));
        Assert.NotEqual(File.ReadAllText(Path.Combine(_dir, "generated.csv")), File.ReadAllText(Path.Combine(_dir, "generated-2.csv")));
        Assert.True(File.Exists(Path.Combine(_dir, "eval.html")));
        Assert.Equal(30, doc.RootElement.GetProperty("spot_history_days").GetDouble()); // the published spot records' window
    }

    [Theory]
    [InlineData("--limit", "0", "--limit 0 replays no job")]
    [InlineData("--dlrm-limit", "-1", "--dlrm-limit -1 is negative")]
    [InlineData("--generated-jobs", "0", "--generated-jobs 0 generates no job")]
    [InlineData("--generated-traces", "0", "--generated-traces 0 generates no trace")]
    [InlineData("--spot-history-days", "-1", "--spot-history-days -1 is not a number of days")]
    [InlineData("--spot-history-days", "NaN", "--spot-history-days NaN is not a number of days")]
    public void Eval_CountOptionOutOfRange_FailsWithWhatAndHowToFix_BeforeReplayingAnything(string option, string value, string what)
    {
        var data = Directory.CreateDirectory(Path.Combine(_dir, "data")).FullName;
        var e = Assert.Throws<CliException>(() => InProcessCli.Run("eval", "--data", data, "--out", Path.Combine(_dir, "out"), option, value));
        Assert.Contains(what, e.Message);
        Assert.False(string.IsNullOrEmpty(e.Fix));
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>A schedule CSV as header → value rows (the writer quotes only offer ids and zones, never with commas here).</summary>
    private static List<Dictionary<string, string>> Rows(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => l.Split(',')).Select(f => header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => x.i < f.Length ? f[x.i] : "")).ToList();
    }
}
