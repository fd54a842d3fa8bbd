using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class GureumCsvTests
{
    private static readonly DateTimeOffset Epoch = TraceLoadOptions.DefaultEpoch;

    private static JobSpec Job(string id, double submitS, double durationS) => new()
    {
        Id = id,
        User = "alice",
        Lab = "vision",
        SubmitTime = Epoch.AddSeconds(submitS),
        Duration = TimeSpan.FromSeconds(durationS),
        Resources = new ResourceRequest(1, 0, 8, 64),
    };

    [Fact]
    public void Load_ColumnsInAnyOrderWithOptionalsEmpty_ParsesEveryField()
    {
        using var dir = new TempTrace();
        var path = dir.Write("jobs.csv", """"
            lab,user,job_id,submit_time,duration_s,gpus,gpu_milli,gpu_model,cpus,mem_gib,priority,checkpoint_interval_s,time_limit_s,spot,nodes,deadline_s,project,name
            nlp,bob,j2,2020-01-01T01:00:00Z,60.5,0,500,,2,8.5,,,,,,,,
            vision,alice,j1,10,3600,2,,a100|H100,16,128,5,600,7200,always,2,90000,"proj, with comma","say ""hi"""
            """");

        var t = TraceLoader.Load(path, TraceFormat.Gureum);

        Assert.Equal(["j1", "j2"], t.Jobs.Select(j => j.Id));
        var j1 = t.Jobs[0];
        Assert.Equal(Epoch.AddSeconds(10), j1.SubmitTime);
        Assert.Equal(new ResourceRequest(2, 0, 16, 128, 2), j1.Resources);
        Assert.Equal(["A100", "H100"], j1.GpuModels);
        Assert.Equal((5, TimeSpan.FromMinutes(10), TimeSpan.FromHours(2)), (j1.Priority, j1.CheckpointInterval, j1.TimeLimit));
        Assert.Equal(SpotPreference.Always, j1.Spot);
        Assert.Equal(Epoch.AddSeconds(90000), j1.Deadline);
        Assert.Equal("proj, with comma", j1.Project);
        Assert.Equal("say \"hi\"", j1.Name);
        var j2 = t.Jobs[1];
        Assert.Equal(Epoch.AddHours(1), j2.SubmitTime);
        Assert.Equal(TimeSpan.FromSeconds(60.5), j2.Duration);
        Assert.Equal(new ResourceRequest(0, 500, 2, 8.5), j2.Resources);
        Assert.Equal(("default", 0, SpotPreference.Auto), (j2.Project, j2.Priority, j2.Spot));
        Assert.Null(j2.CheckpointInterval);
        Assert.Equal(JobKind.Batch, j2.Kind);
    }

    [Fact]
    public void Write_ThenLoad_RoundTripsEveryField()
    {
        var jobs = new[]
        {
            Job("a", 0, 1) with { Resources = new ResourceRequest(0, 250, 1.5, 3.25), QosClass = "LS", ReferenceGpu = "A100", Kind = JobKind.Service },
            Job("b,quoted \"id\"", 12.3456789, 86400.0000001) with
            {
                Resources = new ResourceRequest(8, 0, 96, 1024, 4), GpuModels = ["H100", "A100"], Priority = -3,
                CheckpointInterval = TimeSpan.FromSeconds(900), TimeLimit = TimeSpan.FromHours(30), Project = "p",
                Spot = SpotPreference.Never, Deadline = Epoch.AddDays(3), Name = "line\nbreak", User = "u\u00e9",
            },
            Job("c", 12.3456789, 5) with { Resources = new ResourceRequest(0, 0, 4, 16), Spot = SpotPreference.Always },
        };
        using var dir = new TempTrace();
        var path = Path.Combine(dir.Dir, "rt.csv");
        using (var w = new StreamWriter(path)) Assert.Equal(3, GureumCsv.Write(w, jobs, Epoch));

        var t = TraceLoader.Load(path, TraceFormat.Gureum);

        Assert.Equal(jobs.Length, t.Jobs.Count);
        foreach (var (expected, actual) in jobs.Zip(t.Jobs))
        {
            Assert.Equal(expected with { GpuModels = [] }, actual with { GpuModels = [] });
            Assert.Equal(expected.GpuModels, actual.GpuModels);
        }
    }

    [Fact]
    public void Write_GeneratedTrace_RoundTrips()
    {
        var options = new TraceGeneratorOptions { Jobs = 2000, Seed = 3, CheckpointShare = 0.5, ServiceShare = 0.2, GpuModelConstraintShare = 0.5, TimeLimitFactor = 2 };
        var jobs = TraceGenerator.Generate(options).ToList();
        using var dir = new TempTrace();
        var path = Path.Combine(dir.Dir, "gen.csv");
        using (var w = new StreamWriter(path)) GureumCsv.Write(w, jobs, options.Epoch);

        var t = TraceLoader.Load(path, TraceFormat.Gureum, new TraceLoadOptions { Epoch = options.Epoch });

        Assert.Equal(jobs.Count, t.Jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            Assert.Equal(jobs[i] with { GpuModels = [] }, t.Jobs[i] with { GpuModels = [] });
            Assert.Equal(jobs[i].GpuModels, t.Jobs[i].GpuModels);
        }
    }

    [Fact]
    public void Load_SecondsOnOtherEpoch_PlacesOnIt()
    {
        using var dir = new TempTrace();
        var epoch = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var path = dir.Write("e.csv", "job_id,submit_time,duration_s,gpus,cpus,mem_gib,user,lab\nx,60,1,1,1,1,u,l\n");

        var t = TraceLoader.Load(path, TraceFormat.Gureum, new TraceLoadOptions { Epoch = epoch });

        Assert.Equal(epoch.AddMinutes(1), t.Jobs[0].SubmitTime);
        Assert.Equal(epoch, t.Epoch);
    }

    [Theory]
    [InlineData("duration_s", "-5", "negative")]
    [InlineData("gpus", "-1", "negative")]
    [InlineData("gpu_milli", "1001", "outside 0..1000")]
    [InlineData("gpu_model", "Z80", "Unknown GPU model 'Z80'")]
    [InlineData("submit_time", "yesterday", "not a number of seconds")]
    [InlineData("submit_time", "-1", "before the trace start")]
    [InlineData("spot", "sometimes", "not a spot preference")]
    [InlineData("kind", "daemon", "not a job kind")]
    [InlineData("cpus", "", "empty")]
    public void Load_BadValue_ThrowsNamingLineAndColumn(string column, string value, string problem)
    {
        var header = "job_id,submit_time,duration_s,gpus,gpu_milli,gpu_model,cpus,mem_gib,user,lab,spot,kind";
        var values = new Dictionary<string, string>
        {
            ["job_id"] = "j", ["submit_time"] = "0", ["duration_s"] = "1", ["gpus"] = "1", ["gpu_milli"] = "", ["gpu_model"] = "",
            ["cpus"] = "1", ["mem_gib"] = "1", ["user"] = "u", ["lab"] = "l", ["spot"] = "", ["kind"] = "",
        };
        values[column] = value;
        using var dir = new TempTrace();
        var path = dir.Write("bad.csv", $"{header}\nok,0,1,1,,,1,1,u,l,,service\n{string.Join(',', header.Split(',').Select(h => values[h]))}\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Gureum));

        Assert.Equal((path, 3, column), (e.File, e.Line, e.Column));
        Assert.Contains(problem, e.Problem);
        Assert.False(string.IsNullOrWhiteSpace(e.Fix));
    }

    [Fact]
    public void Load_UnknownModel_FixListsKnownModels()
    {
        using var dir = new TempTrace();
        var path = dir.Write("m.csv", "job_id,submit_time,duration_s,gpus,gpu_model,cpus,mem_gib,user,lab\nj,0,1,1,V100|TPU,1,1,u,l\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Gureum));

        Assert.Contains("'TPU'", e.Problem);
        Assert.All(GpuModels.Speed.Keys, k => Assert.Contains(k, e.Fix));
    }

    [Fact]
    public void Load_DuplicateId_NamesFirstLine()
    {
        using var dir = new TempTrace();
        var path = dir.Write("d.csv", "job_id,submit_time,duration_s,gpus,cpus,mem_gib,user,lab\nj,0,1,1,1,1,u,l\nk,0,1,1,1,1,u,l\nj,5,1,1,1,1,u,l\n");

        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(path, TraceFormat.Gureum));

        Assert.Equal((4, "job_id"), (e.Line, e.Column));
        Assert.Contains("first on line 2", e.Problem);
    }

    [Fact]
    public void Load_UnknownAndMissingColumns_AreHeaderErrorsEvenWhenSkipping()
    {
        using var dir = new TempTrace();
        var unknown = dir.Write("u.csv", "job_id,submit_time,duration_s,gpus,cpus,mem_gib,user,lab,colour\nj,0,1,1,1,1,u,l,red\n");
        var missing = dir.Write("m.csv", "job_id,submit_time,gpus,cpus,user\nj,0,1,1,u\n");
        var skip = new TraceLoadOptions { SkipBadRows = true };

        var e1 = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(unknown, TraceFormat.Gureum, skip));
        var e2 = Assert.Throws<TraceFormatException>(() => TraceLoader.Load(missing, TraceFormat.Gureum, skip));

        Assert.Contains("Unknown column(s): colour", e1.Problem);
        Assert.Contains("duration_s, mem_gib, lab", e2.Problem);
    }

    [Fact]
    public void Load_SkipBadRows_CountsAllKeepsFirstTwenty()
    {
        var lines = new List<string> { "job_id,submit_time,duration_s,gpus,cpus,mem_gib,user,lab" };
        for (var i = 0; i < 30; i++) lines.Add($"bad{i},0,-1,1,1,1,u,l");
        lines.Add("good,0,1,1,1,1,u,l");
        using var dir = new TempTrace();
        var path = dir.Write("s.csv", string.Join('\n', lines));

        var t = TraceLoader.Load(path, TraceFormat.Gureum, new TraceLoadOptions { SkipBadRows = true });

        Assert.Equal("good", Assert.Single(t.Jobs).Id);
        Assert.Equal(30, t.BadRowsSkipped);
        Assert.Equal(TraceLoader.MaxBadRowMessages, t.BadRowMessages.Count);
        Assert.Contains(":2, column 'duration_s'", t.BadRowMessages[0]);
        Assert.Contains(t.Notes, n => n.StartsWith("30 malformed", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_JobWithoutDuration_Throws()
    {
        var job = Job("x", 0, 1) with { Duration = null };

        Assert.Throws<ArgumentException>(() => GureumCsv.Write(TextWriter.Null, [job], Epoch));
    }
}
