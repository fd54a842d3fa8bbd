using Gureum.Core.Domain;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class TraceGeneratorTests
{
    [Fact]
    public void Generate_SameSeed_SameJobs_OtherSeed_Differs()
    {
        var o = new TraceGeneratorOptions { Jobs = 500, Seed = 42, TimeLimitFactor = 3, CheckpointShare = 0.3, GpuModelConstraintShare = 0.2 };

        var a = TraceGenerator.Generate(o).ToList();
        var b = TraceGenerator.Generate(o).ToList();
        var c = TraceGenerator.Generate(o with { Seed = 43 }).ToList();

        Assert.Equal(a.Select(Key), b.Select(Key));
        Assert.NotEqual(a.Select(Key), c.Select(Key));
        static string Key(Core.Domain.JobSpec j) =>
            $"{j.Id}|{j.SubmitTime.UtcTicks}|{j.Duration}|{j.Resources}|{j.User}|{string.Join('/', j.GpuModels)}|{j.CheckpointInterval}|{j.TimeLimit}";
    }

    [Fact]
    public void Generate_IsLazy()
    {
        var first = TraceGenerator.Generate(new TraceGeneratorOptions { Jobs = int.MaxValue }).Take(3).ToList();

        Assert.Equal(["job-0000000001", "job-0000000002", "job-0000000003"], first.Select(j => j.Id));
    }

    [Theory]
    [InlineData(ArrivalProcess.Poisson)]
    [InlineData(ArrivalProcess.Diurnal)]
    public void Generate_MeanArrivalRate_WithinFivePercent(ArrivalProcess arrival)
    {
        var jobs = TraceGenerator.Generate(new TraceGeneratorOptions { Jobs = 20_000, RatePerHour = 120, Arrival = arrival, Seed = 7 }).ToList();

        var hours = (jobs[^1].SubmitTime - jobs[0].SubmitTime).TotalHours;
        Assert.InRange(jobs.Count / hours, 114, 126);
        Assert.True(jobs.Zip(jobs.Skip(1)).All(p => p.First.SubmitTime <= p.Second.SubmitTime));
    }

    [Fact]
    public void Generate_Diurnal_PeakHoursBusierThanTroughHours()
    {
        var o = new TraceGeneratorOptions { Jobs = 20_000, Arrival = ArrivalProcess.Diurnal, DiurnalAmplitude = 0.5, DiurnalPeakHour = 14, Seed = 5 };
        var byHour = TraceGenerator.Generate(o).GroupBy(j => j.SubmitTime.Hour).ToDictionary(g => g.Key, g => g.Count());

        // Expected ratio at peak vs trough: (1 + 0.5) / (1 − 0.5) = 3.
        Assert.InRange(byHour[14] / (double)byHour[2], 2.4, 3.6);
    }

    [Fact]
    public void Generate_GpuMix_SharesWithinTolerance()
    {
        var jobs = TraceGenerator.Generate(new TraceGeneratorOptions { Jobs = 20_000, GpuMix = "0:0.1,0.5:0.2,1:0.4,2:0.1,4:0.1,8:0.1", Seed = 9 }).ToList();

        double Share(Func<Core.Domain.JobSpec, bool> p) => jobs.Count(p) / (double)jobs.Count;
        Assert.InRange(Share(j => j.Resources.MilliGpusPerNode == 0), 0.09, 0.11);
        Assert.InRange(Share(j => j.Resources.GpuMilli == 500), 0.19, 0.21);
        Assert.InRange(Share(j => j.Resources.Gpus == 1), 0.39, 0.41);
        Assert.InRange(Share(j => j.Resources.Gpus == 8), 0.09, 0.11);
        Assert.All(jobs.Where(j => j.Resources.Gpus == 8), j => Assert.Equal((64.0, 512.0), (j.Resources.Cpus, j.Resources.MemoryGiB)));
    }

    [Theory]
    [InlineData(DurationDistribution.LogNormal)]
    [InlineData(DurationDistribution.Pareto)]
    public void Generate_Durations_MedianNearTargetAndClamped(DurationDistribution dist)
    {
        var o = new TraceGeneratorOptions { Jobs = 20_000, DurationDistribution = dist, MedianDurationSeconds = 1800, MinDurationSeconds = 60, MaxDurationSeconds = 86_400, Seed = 11 };
        var seconds = TraceGenerator.Generate(o).Select(j => j.Duration!.Value.TotalSeconds).Order().ToArray();

        Assert.InRange(seconds[seconds.Length / 2], 1700, 1900);
        Assert.InRange(seconds[0], 60, 1800);
        Assert.InRange(seconds[^1], 1800, 86_400);
        Assert.True(seconds.Average() > seconds[seconds.Length / 2], "heavy tail: mean above median");
    }

    [Fact]
    public void Generate_LabsAndUsers_ZipfSkewed()
    {
        var jobs = TraceGenerator.Generate(new TraceGeneratorOptions { Jobs = 20_000, Labs = 4, UsersPerLab = 3, Seed = 2 }).ToList();
        var labs = jobs.GroupBy(j => j.Lab).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(4, labs.Count);
        Assert.Equal(12, jobs.Select(j => j.User).Distinct().Count());
        // Zipf s = 1 over 4 labs: shares 12/25, 6/25, 4/25, 3/25.
        Assert.InRange(labs["lab-01"] / 20_000.0, 0.46, 0.50);
        Assert.InRange(labs["lab-04"] / 20_000.0, 0.11, 0.13);
        Assert.All(jobs, j => Assert.StartsWith(j.Lab + "-u", j.User, StringComparison.Ordinal));
    }

    [Fact]
    public void Generate_OptionalFeatures_SharesAndTimeLimitsRoundedUp()
    {
        var jobs = TraceGenerator.Generate(new TraceGeneratorOptions
        {
            Jobs = 10_000, Seed = 4, CheckpointShare = 0.3, GpuModelConstraintShare = 0.5, TimeLimitFactor = 2,
        }).ToList();

        Assert.InRange(jobs.Count(j => j.IsCheckpointable) / 10_000.0, 0.28, 0.32);
        var gpuJobs = jobs.Where(j => j.Resources.MilliGpusPerNode > 0).ToList();
        Assert.InRange(gpuJobs.Count(j => j.GpuModels.Count == 1) / (double)gpuJobs.Count, 0.47, 0.53);
        Assert.All(jobs.Where(j => j.Resources.MilliGpusPerNode == 0), j => Assert.Empty(j.GpuModels));
        Assert.All(jobs, j =>
        {
            var limit = j.TimeLimit!.Value;
            Assert.Equal(0, limit.Ticks % TimeSpan.TicksPerMinute);
            Assert.InRange(limit, j.Duration!.Value, j.Duration.Value * 2 + TimeSpan.FromMinutes(1));
        });
    }

    [Fact]
    public void Generate_ServiceShare_ServicesDoNotCheckpoint_AndNoShareLeavesTheTraceAsItWas()
    {
        var plain = new TraceGeneratorOptions { Jobs = 10_000, Seed = 5, CheckpointShare = 0.5 };
        var jobs = TraceGenerator.Generate(plain with { ServiceShare = 0.25 }).ToList();

        Assert.InRange(jobs.Count(j => j.Kind == JobKind.Service) / 10_000.0, 0.23, 0.27);
        Assert.All(jobs.Where(j => j.Kind == JobKind.Service), j => Assert.Null(j.CheckpointInterval));
        Assert.Equal(TraceGenerator.Generate(plain).ToList(), TraceGenerator.Generate(plain with { ServiceShare = 0 }).ToList());
        Assert.All(TraceGenerator.Generate(plain).Take(1000), j => Assert.Equal(JobKind.Batch, j.Kind));
    }

    [Theory]
    [InlineData("1:0.5,2:0.4", "sum to 0.9")]
    [InlineData("1.5:1", "whole number")]
    [InlineData("x", "not gpus:share")]
    [InlineData("1:-1,2:2", "≥ 0")]
    public void GpuMixParse_Invalid_SaysWhy(string spec, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => GpuMix.Parse(spec));

        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Generate_InvalidOption_ThrowsOnCallNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => TraceGenerator.Generate(new TraceGeneratorOptions { RatePerHour = 0 }));

        Assert.Equal(nameof(TraceGeneratorOptions.RatePerHour), e.ParamName);
    }
}
