using System.Text.Json;
using Gureum.Cli.Commands;

namespace Gureum.Cli.Tests.Traces;

/// <summary><c>gureum replay</c>'s spot-record option: what the report says it did, and bad values refused first.</summary>
public sealed class ReplayCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gureum-replay-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("-1")]
    [InlineData("Infinity")]
    [InlineData("4000")]
    public void Replay_SpotHistoryDaysOutOfRange_FailsWithWhatAndHowToFix_BeforeReadingTheTrace(string days)
    {
        // The trace does not exist: the option is refused before anything is read.
        var e = Assert.Throws<CliException>(() => InProcessCli.Run("replay", "--trace", Path.Combine(_dir, "missing.csv"), "--format", "gureum", "--spot-history-days", days));
        Assert.Contains($"--spot-history-days {days} is not a number of days from 0 to 3650", e.Message);
        Assert.Contains("--spot-history-days 30", e.Fix);
    }

    [Theory]
    [InlineData("30", "over the 30 days before each decision")]
    [InlineData("0", "none published (--spot-history-days 0)")]
    public void Replay_ReportStatesWhatSpotRecordsThePolicySaw(string days, string statement)
    {
        var trace = Path.Combine(_dir, "jobs.csv");
        Assert.Equal(ExitCodes.Ok, InProcessCli.Run("trace", "generate", "--jobs", "50", "--out", trace, "--seed", "3"));
        var json = Path.Combine(_dir, "r.json");

        Assert.Equal(ExitCodes.Ok, InProcessCli.Run("replay", "--trace", trace, "--format", "gureum", "--policies", "gureum", "--spot-history-days", days, "--json", json));

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var model = doc.RootElement.GetProperty("model").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(model, m => m.StartsWith("Spot records:", StringComparison.Ordinal) && m.Contains(statement, StringComparison.Ordinal));
        Assert.Equal(50, doc.RootElement.GetProperty("policies")[0].GetProperty("jobs_completed").GetInt32());
    }
}
