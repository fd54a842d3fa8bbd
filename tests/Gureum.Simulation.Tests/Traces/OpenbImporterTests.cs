using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class OpenbImporterTests
{
    private const string Pods = """
        name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
        p0,12000,16384,1,1000,,LS,Running,0,1000,10
        p1,6000,12288,1,460,,BE,Succeeded,100,400,100
        p2,4000,8192,0,0,,Burstable,Pending,50,60,
        p3,8000,32768,8,1000,V100M16|V100M32,Guaranteed,Failed,20,120,30
        """;

    private const string Nodes = """
        sn,cpu_milli,memory_mib,gpu,model
        n0,32000,262144,0,
        n1,96000,786432,8,G2
        n2,64000,262144,2,T4
        """;

    [Fact]
    public void Load_SmallPodList_OneJobPerScheduledPodSortedBySubmit()
    {
        using var dir = new TempTrace();
        var path = dir.Write("openb_pod_list_default.csv", Pods);

        var t = TraceLoader.Load(path, TraceFormat.Openb, new TraceLoadOptions());

        Assert.Equal(["p0", "p3", "p1"], t.Jobs.Select(j => j.Id));
        var p0 = t.Jobs[0];
        Assert.Equal(TraceLoadOptions.DefaultEpoch, p0.SubmitTime);
        Assert.Equal(TimeSpan.FromSeconds(990), p0.Duration);
        Assert.Equal(new ResourceRequest(1, 0, 12, 16), p0.Resources);
        Assert.Equal(2, p0.Priority);
        Assert.Equal("openb-LS", p0.Lab);
        Assert.Equal("LS", p0.QosClass);
        Assert.Equal(JobKind.Service, p0.Kind); // latency-sensitive pods are taken as inference servers
        Assert.Equal(GpuModels.DefaultReference, p0.ReferenceGpu);

        var p3 = t.Jobs[1];
        Assert.Equal(TraceLoadOptions.DefaultEpoch.AddSeconds(20), p3.SubmitTime);
        Assert.Equal(TimeSpan.FromSeconds(90), p3.Duration);
        Assert.Equal(8, p3.Resources.Gpus);
        Assert.Equal(["V100", "V100-32GB"], p3.GpuModels);
        Assert.Equal(1, p3.Priority);

        var p1 = t.Jobs[2];
        Assert.True(p1.Resources.IsFractional);
        Assert.Equal(460, p1.Resources.GpuMilli);
        Assert.Equal(0, p1.Priority);
        Assert.Equal(JobKind.Batch, p1.Kind);
        Assert.Equal(12, p1.Resources.MemoryGiB);

        Assert.Contains(t.Notes, n => n.StartsWith("1 pods never scheduled", StringComparison.Ordinal));
        Assert.Empty(t.Fleet);
    }

    [Fact]
    public void Load_NodeListBeside_BuildsFleetWithCanonicalModels()
    {
        using var dir = new TempTrace();
        var path = dir.Write("openb_pod_list_default.csv", Pods);
        dir.Write(OpenbImporter.NodeListFileName, Nodes);

        var t = TraceLoader.Load(path, TraceFormat.Openb, new TraceLoadOptions());

        Assert.Equal(3, t.Fleet.Count);
        Assert.Equal(new TraceNode("n0", null, null, 0, 32, 256), t.Fleet[0]);
        Assert.Equal(new TraceNode("n1", "V100", "G2", 8, 96, 768), t.Fleet[1]);
        Assert.Equal("T4", t.Fleet[2].GpuModel);
        Assert.Contains(t.Notes, n => n.Contains("G1/G2/G3", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ExplicitMissingNodeList_Throws()
    {
        using var dir = new TempTrace();
        var path = dir.Write("pods.csv", Pods);

        Assert.Throws<FileNotFoundException>(() =>
            TraceLoader.Load(path, TraceFormat.Openb, new TraceLoadOptions { NodeListPath = Path.Combine(dir.Dir, "nope.csv") }));
    }

    [Fact]
    public void Load_BadNumber_ThrowsNamingFileLineAndColumn()
    {
        using var dir = new TempTrace();
        var path = dir.Write("pods.csv", Pods.Replace("p1,6000", "p1,6k", StringComparison.Ordinal));

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Openb));

        Assert.Equal(path, e.File);
        Assert.Equal(3, e.Line);
        Assert.Equal("cpu_milli", e.Column);
        Assert.Contains($"{path}:3, column 'cpu_milli'", e.Message);
        Assert.Contains("To fix:", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void Load_SkipBadRows_CountsAndKeepsMessages()
    {
        using var dir = new TempTrace();
        var bad = Pods.Replace("p1,6000", "p1,6k", StringComparison.Ordinal).Replace("p0,12000,16384,1,1000", "p0,12000,16384,1,2000", StringComparison.Ordinal);
        var path = dir.Write("pods.csv", bad);

        var t = TraceLoader.Load(path, TraceFormat.Openb, new TraceLoadOptions { SkipBadRows = true });

        Assert.Equal(["p3"], t.Jobs.Select(j => j.Id));
        Assert.Equal(2, t.BadRowsSkipped);
        Assert.Collection(t.BadRowMessages,
            m => Assert.Contains(":2, column 'gpu_milli'", m),
            m => Assert.Contains(":3, column 'cpu_milli'", m));
    }

    [Fact]
    public void Load_DeletionBeforeScheduled_IsBadRow()
    {
        using var dir = new TempTrace();
        var path = dir.Write("pods.csv", Pods.Replace("100,400,100", "100,50,100", StringComparison.Ordinal));

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Openb));

        Assert.Equal("deletion_time", e.Column);
    }

    [Fact]
    public void Load_MissingColumn_ListsIt()
    {
        using var dir = new TempTrace();
        var path = dir.Write("pods.csv", "name,cpu_milli\np0,1\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Openb, new TraceLoadOptions { SkipBadRows = true }));

        Assert.Equal(1, e.Line);
        Assert.Contains("memory_mib", e.Problem);
        Assert.Contains("scheduled_time", e.Problem);
    }
}
