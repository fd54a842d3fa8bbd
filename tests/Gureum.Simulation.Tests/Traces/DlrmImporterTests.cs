using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class DlrmImporterTests
{
    private const string Header =
        "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    private const string Rows = Header + """
        i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,
        i1,CN,app_1,64,64,0,0,0,0,256.0,256.0,0,0,-1,,,85.0
        i2,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,475.00000000000006,480.0,1000.0
        i3,CN,app_1,64,64,0,0,0,0,256.0,256.0,0,0,-1,600.0,610.0,NaN
        """;

    [Fact]
    public void Load_CensoredRows_SubmitAtZeroAndRunToLastTimestamp()
    {
        using var dir = new TempTrace();
        var t = TraceLoader.Load(dir.Write("dlrm.csv", Rows), TraceFormat.Dlrm);
        var epoch = TraceLoadOptions.DefaultEpoch;

        Assert.Equal(["i0", "i1", "i2", "i3"], t.Jobs.Select(j => j.Id));
        var byId = t.Jobs.ToDictionary(j => j.Id);
        Assert.Equal(epoch, byId["i0"].SubmitTime);
        Assert.Equal(TimeSpan.FromSeconds(1000), byId["i0"].Duration); // 0 → last timestamp (1000)
        Assert.Equal(TimeSpan.FromSeconds(85), byId["i1"].Duration);
        Assert.Equal(epoch.AddSeconds(475), byId["i2"].SubmitTime);
        Assert.Equal(TimeSpan.FromSeconds(520), byId["i2"].Duration); // deletion − scheduled
        Assert.Equal(TimeSpan.FromSeconds(390), byId["i3"].Duration); // 1000 − 610
        Assert.Equal("app_0", byId["i0"].Lab);
        Assert.Equal("HN", byId["i0"].QosClass);
        Assert.All(t.Jobs, j => Assert.Equal(JobKind.Service, j.Kind)); // serving instances
        Assert.Equal(1, byId["i0"].Resources.Gpus);
        Assert.Equal(120, byId["i0"].Resources.MemoryGiB);
        Assert.Equal(64, byId["i1"].Resources.Cpus);
        Assert.Contains(t.Notes, n => n.StartsWith("2 instances created before", StringComparison.Ordinal));
        Assert.Contains(t.Notes, n => n.StartsWith("2 instances still alive", StringComparison.Ordinal));
        // i3 queued 10 s, so its cut run ends before the last timestamp: only the trace's own record marks it.
        Assert.Equal(["i0", "i1", "i3"], t.CensoredJobIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_ScheduledNaNWithCreation_RunsFromCreation()
    {
        using var dir = new TempTrace();
        var t = TraceLoader.Load(dir.Write("dlrm.csv", Header + "i9,CN,a,1,1,0,0,0,0,1,1,0,0,-1,100,,400\n"), TraceFormat.Dlrm);

        Assert.Equal(TimeSpan.FromSeconds(300), t.Jobs[0].Duration);
    }

    [Fact]
    public void Load_ShortRow_ThrowsWithLine()
    {
        using var dir = new TempTrace();
        var path = dir.Write("dlrm.csv", Rows + "\ni4,CN,app_1,64\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Dlrm));

        Assert.Equal(6, e.Line);
        Assert.Contains("4 field(s)", e.Problem);
    }
}
