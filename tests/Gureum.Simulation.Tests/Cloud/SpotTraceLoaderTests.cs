using Gureum.Simulation.Cloud;

namespace Gureum.Simulation.Tests.Cloud;

public sealed class SpotTraceLoaderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gureum-traces-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void LoadDirectory_JsonAndProbeCsv_ReadsAllRecursively()
    {
        Write("cbl/availability/1-node/aws-x/us-east-1a_v100_1.json", """{"metadata": {"gap_seconds": 195}, "data": [1, 0, 1, 1]}""");
        Write("cbl/preemption/4-node/aws-y/us-east-2a_v100_1.json", """{"metadata": {"gap_seconds": 300}, "data": [4, 3, 0, 2]}""");
        Write("cbl/preemption/1-node/aws-z/us-east-1b_intel_64.json", """{"metadata": {"gap_seconds": 34}, "data": [1, 1], "prices": [1.14, 1.2827]}""");
        Write("gcp/us-central1-a_a100_40gb_8.json", """{"metadata": {"gap_seconds": 150}, "data": [0, 2, 3]}""");
        Write("raw/2022/us-west-2a_k80_8.csv", "tick,time_utc,launch_failed\n0,2022-10-26T22:05:04.000Z,0\n1,2022-10-26T22:15:04.000Z,1\n2,2022-10-26T22:25:05.000Z,1\n");
        Write("notes.txt", "ignored");

        var traces = SpotTraceLoader.LoadDirectory(_dir.FullName).ToDictionary(t => t.Name);

        Assert.Equal(5, traces.Count);
        var a = traces["cbl/availability/1-node/aws-x/us-east-1a_v100_1"];
        Assert.Equal(("us-east-1a", "v100_1", 195.0, 1), (a.Zone, a.GpuKey, a.Gap.TotalSeconds, a.MaxValue));
        Assert.Equal([1, 0, 1, 1], a.Data);
        Assert.Null(a.Prices);
        Assert.Equal(("aws", "us-east-1", "V100"), (a.Cloud, a.Region, a.GpuModel));
        Assert.Equal(0.75, a.AvailabilityFraction);

        Assert.Equal(4, traces["cbl/preemption/4-node/aws-y/us-east-2a_v100_1"].MaxValue);
        var cpu = traces["cbl/preemption/1-node/aws-z/us-east-1b_intel_64"];
        Assert.Equal([1.14m, 1.2827m], cpu.Prices!);
        Assert.Null(cpu.GpuModel);

        var gcp = traces["gcp/us-central1-a_a100_40gb_8"];
        Assert.Equal(("gcp", "us-central1", "A100", 3), (gcp.Cloud, gcp.Region, gcp.GpuModel, gcp.MaxValue));

        var probe = traces["raw/2022/us-west-2a_k80_8"];
        Assert.Equal([1, 0, 0], probe.Data); // available = 1 - launch_failed
        Assert.Equal(TimeSpan.FromSeconds(600), probe.Gap);
        Assert.Equal(new DateTimeOffset(2022, 10, 26, 22, 5, 4, TimeSpan.Zero), probe.StartUtc);
    }

    [Fact]
    public void LoadFile_BadJson_ErrorNamesFile()
    {
        var path = Write("us-east-1a_v100_1.json", """{"metadata": {"gap_seconds": 195}, "data": [1, 0,""");

        var e = Assert.Throws<SpotTraceFormatException>(() => SpotTraceLoader.LoadFile(path));

        Assert.Equal(path, e.File);
        Assert.StartsWith(path, e.Message);
        Assert.Contains("invalid JSON", e.Message);
        Assert.Contains("To fix:", e.Message);
    }

    [Theory]
    [InlineData("""{"data": [1]}""", "gap_seconds")]
    [InlineData("""{"metadata": {"gap_seconds": 10}, "data": []}""", "\"data\"")]
    [InlineData("""{"metadata": {"gap_seconds": 10}, "data": [1, -1]}""", "data[1]")]
    [InlineData("""{"metadata": {"gap_seconds": 10}, "data": [1, 1], "prices": [1.0]}""", "\"prices\" has 1")]
    public void LoadFile_InvalidContent_ErrorSaysWhat(string json, string expected)
    {
        var path = Write("us-east-1a_v100_1.json", json);

        var e = Assert.Throws<SpotTraceFormatException>(() => SpotTraceLoader.LoadFile(path));

        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void LoadFile_BadProbeRow_ErrorNamesLine()
    {
        var path = Write("us-west-2a_v100_1.csv", "tick,time_utc,launch_failed\n0,2022-10-26T22:05:04.000Z,2\n");

        var e = Assert.Throws<SpotTraceFormatException>(() => SpotTraceLoader.LoadFile(path));

        Assert.Contains("line 2", e.Message);
    }
}
