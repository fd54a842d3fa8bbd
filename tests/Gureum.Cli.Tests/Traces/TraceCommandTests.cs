using Gureum.Cli.Commands;
using Gureum.Simulation.Traces;

namespace Gureum.Cli.Tests.Traces;

public sealed class TraceCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gureum-trace-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Generate_WritesLoadableGureumCsv()
    {
        var path = Path.Combine(_dir, "jobs.csv");

        var rc = InProcessCli.Run("trace", "generate", "--jobs", "300", "--out", path, "--seed", "5", "--arrival", "diurnal",
            "--duration-dist", "pareto", "--gpu-mix", "0:0.5,1:0.5", "--labs", "2", "--users-per-lab", "3", "--time-limit-factor", "2");

        Assert.Equal(ExitCodes.Ok, rc);
        var t = TraceLoader.Load(path, TraceFormat.Gureum);
        Assert.Equal(300, t.Jobs.Count);
        Assert.Equal(2, t.Jobs.Select(j => j.Lab).Distinct().Count());
        Assert.All(t.Jobs, j => Assert.True(j.Resources.Gpus <= 1 && j.TimeLimit >= j.Duration));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Generate_SameSeed_SameFile()
    {
        var a = Path.Combine(_dir, "a.csv");
        var b = Path.Combine(_dir, "b.csv");

        InProcessCli.Run("trace", "generate", "--jobs", "100", "--out", a, "--seed", "9");
        InProcessCli.Run("trace", "generate", "--jobs", "100", "--out", b, "--seed", "9");

        Assert.Equal(File.ReadAllText(a), File.ReadAllText(b));
    }

    [Theory]
    [InlineData("--arrival", "bursty", "--arrival poisson")]
    [InlineData("--duration-dist", "normal", "lognormal")]
    [InlineData("--gpu-mix", "1:0.5", "sum to 0.5")]
    [InlineData("--rate-per-hour", "0", "greater than 0")]
    [InlineData("--labs", "0", "at least 1")]
    [InlineData("--checkpoint-share", "1.5", "not a share")]
    public void Generate_BadOption_CliExceptionWithFix(string option, string value, string expected)
    {
        var e = Assert.Throws<CliException>(() => InProcessCli.Run("trace", "generate", "--jobs", "10", "--out", Path.Combine(_dir, "x.csv"), option, value));

        Assert.Contains(expected, e.Message + " " + e.Fix);
        Assert.NotNull(e.Fix);
    }

    [Fact]
    public void Info_MalformedTrace_CliExceptionNamesLocation()
    {
        var path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, "job_id,submit_time,duration_s,gpus,cpus,mem_gib,user,lab\nj,0,-1,1,1,1,u,l\n");

        var e = Assert.Throws<CliException>(() => InProcessCli.Run("trace", "info", "--trace", path, "--format", "gureum"));

        Assert.Contains($"{path}:2, column 'duration_s'", e.Message);
        Assert.Contains("--skip-bad-rows", e.Fix);
    }

    [Fact]
    public void Info_UnknownFormat_ListsFormats()
    {
        var e = Assert.Throws<CliException>(() => InProcessCli.Run("trace", "info", "--trace", _dir, "--format", "philly"));

        Assert.Contains("openb, dlrm, helios or gureum", e.Fix);
    }

    [Fact]
    public void Describe_PrintsCountsMixFleetNotesAndBadRows()
    {
        var path = Path.Combine(_dir, "some.csv");
        File.WriteAllText(path, "job_id,submit_time,duration_s,gpus,gpu_milli,cpus,mem_gib,user,lab\na,0,60,0,500,1,1,u,l\nb,3600,60,8,,1,1,u,l\nc,x,1,1,,1,1,u,l\n");
        var t = TraceLoader.Load(path, TraceFormat.Gureum, new TraceLoadOptions { SkipBadRows = true });

        var text = TraceCommand.Describe(t);

        Assert.Contains("jobs    2", text);
        Assert.Contains("<1: 1 (50%)", text);
        Assert.Contains("8: 1 (50%)", text);
        Assert.Contains("bad rows skipped: 1", text);
        Assert.Contains(":4, column 'submit_time'", text);
    }
}
