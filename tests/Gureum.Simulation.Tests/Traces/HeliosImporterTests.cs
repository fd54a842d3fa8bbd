using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class HeliosImporterTests
{
    private const string Header = "time,total_gpu_num,running_gpu_num,pending_gpu_num\n";

    // Demand (running + pending) per minute: 2, 3, 1, 2, 0. Worked by hand, LIFO:
    //   00:00 +2 → A, B open          00:01 +1 → C open
    //   00:02 −2 → C ends (1 min), B ends (2 min)
    //   00:03 +1 → D open             00:04 −2 → D ends (1 min), A ends (4 min)
    private const string Series = Header + """
        2020-05-01 00:00:00,8,2,0
        2020-05-01 00:01:00,8,2,1
        2020-05-01 00:02:00,8,1,0
        2020-05-01 00:03:00,8,1,1
        2020-05-01 00:04:00,8,0,0
        """;

    [Fact]
    public void Load_DemandSeries_LifoSlicesWorkedByHand()
    {
        using var dir = new TempTrace();
        var t = TraceLoader.Load(dir.Write("vcT_cluster_sequence_vc.csv", Series), TraceFormat.Helios);
        var epoch = TraceLoadOptions.DefaultEpoch;

        var got = t.Jobs.Select(j => (j.Id, (j.SubmitTime - epoch).TotalSeconds, j.Duration!.Value.TotalSeconds)).ToList();
        Assert.Equal(
        [
            ("vcT-0000000", 0, 240), // A
            ("vcT-0000001", 0, 120), // B
            ("vcT-0000002", 60, 60), // C
            ("vcT-0000003", 180, 60), // D
        ], got);
        Assert.All(t.Jobs, j => Assert.Equal(("vcT", "vcT", 1), (j.Lab, j.User, j.Resources.Gpus)));
        Assert.Contains(t.Notes, n => n.Contains("LIFO", StringComparison.Ordinal));
        Assert.Contains(t.Notes, n => n.Contains("vcT 8 GPUs", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DemandOpenAtEnd_RunsOneMinutePastLastRow()
    {
        using var dir = new TempTrace();
        var t = TraceLoader.Load(dir.Write("vcE_cluster_sequence_vc.csv", Header + "2020-05-01 00:00:00,8,1,0\n2020-05-01 00:01:00,8,1,0\n"), TraceFormat.Helios);

        Assert.Equal(TimeSpan.FromMinutes(2), Assert.Single(t.Jobs).Duration);
    }

    [Fact]
    public void Load_Directory_AlignsVcsOnEarliestFirstRow()
    {
        using var dir = new TempTrace();
        dir.Write("vcA_cluster_sequence_vc.csv", Header + "2020-05-01 00:00:00,8,1,0\n2020-05-01 00:01:00,8,0,0\n");
        dir.Write("vcB_cluster_sequence_vc.csv", Header + "2020-05-01 00:01:00,8,1,0\n2020-05-01 00:02:00,8,0,0\n");
        dir.Write("other.csv", "not,a,sequence\n");

        var t = TraceLoader.Load(dir.Dir, TraceFormat.Helios);

        Assert.Equal([("vcA", 0.0), ("vcB", 60.0)], t.Jobs.Select(j => (j.Lab, (j.SubmitTime - t.Epoch).TotalSeconds)));
    }

    [Fact]
    public void Load_TimeGoingBack_ThrowsOrSkips()
    {
        using var dir = new TempTrace();
        var path = dir.Write("vcX_cluster_sequence_vc.csv", Header + "2020-05-01 00:01:00,8,1,0\n2020-05-01 00:00:00,8,3,0\n2020-05-01 00:02:00,8,0,0\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Helios));
        Assert.Equal((3, "time"), (e.Line, e.Column));

        var t = TraceLoader.Load(path, TraceFormat.Helios, new TraceLoadOptions { SkipBadRows = true });
        Assert.Equal(1, t.BadRowsSkipped);
        Assert.Equal(TimeSpan.FromMinutes(1), Assert.Single(t.Jobs).Duration);
    }

    [Fact]
    public void Load_EmptyDirectory_Throws()
    {
        using var dir = new TempTrace();

        Assert.Throws<TraceFormatException>(() => TraceLoader.Load(dir.Dir, TraceFormat.Helios));
    }
}
