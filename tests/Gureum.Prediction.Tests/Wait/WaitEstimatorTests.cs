using System.Collections.Immutable;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Prediction.Wait;

namespace Gureum.Prediction.Tests.Wait;

public sealed class WaitEstimatorTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Offer Gpu4 = new()
    {
        Cloud = "test", Region = "r", Zone = "z", InstanceType = "g4", GpuModel = "V100", GpuCount = 4, VCpus = 32, MemoryGiB = 256,
        OnDemandPerHour = 4m, BootDelay = TimeSpan.FromMinutes(2),
    };

    private static JobView View(long seq, int gpus, DateTimeOffset submit, JobStatus status = JobStatus.Pending, DateTimeOffset? started = null, string? limit = null) => new()
    {
        Seq = seq,
        Spec = new JobSpec
        {
            Id = "j" + seq, User = "u", Lab = "l", SubmitTime = submit, Resources = new ResourceRequest(gpus, 0, 1, 1),
            TimeLimit = limit is null ? null : TimeSpan.Parse(limit, System.Globalization.CultureInfo.InvariantCulture),
        },
        Status = status,
        QueuedSince = submit,
        RunStartedAt = started,
        FirstStartedAt = started,
    };

    private static ClusterSnapshot Snapshot(DateTimeOffset now, int freeGpus, IReadOnlyList<JobView> pending, IReadOnlyList<JobView> running)
    {
        var node = Node.Create("n1", Gpu4, Market.OnDemand, NodeState.Ready, T0);
        node = node with { GpuFreeMilli = Enumerable.Range(0, 4).Select(i => i < freeGpus ? 1000 : 0).ToArray() };
        return new ClusterSnapshot
        {
            Now = now,
            Pending = pending,
            Running = running.ToImmutableSortedDictionary(j => j.Seq, j => j),
            Nodes = [node],
            Offers = [Gpu4],
            Labs = new Dictionary<string, LabShare>(),
        };
    }

    [Fact]
    public void Slurm_FitsNowNothingAhead_Zero()
    {
        var job = View(2, 2, T0);
        Assert.Equal(0, new SlurmLimitWaitEstimator().PredictWaitSeconds(job, Snapshot(T0, 2, [job], [])).Estimate);
    }

    [Fact]
    public void Slurm_FullNode_WaitsForRunningJobLimit()
    {
        var running = View(1, 4, T0, JobStatus.Running, T0, limit: "02:00:00");
        var job = View(2, 2, T0.AddHours(0.5));
        var estimate = new SlurmLimitWaitEstimator().PredictWaitSeconds(job, Snapshot(T0.AddHours(0.5), 0, [job], [running])).Estimate;
        Assert.Equal(1.5 * 3600, estimate, 6);
        var noLimit = running with { Spec = running.Spec with { TimeLimit = null } };
        Assert.Equal(0.5 * 3600, new SlurmLimitWaitEstimator(TimeSpan.FromHours(1)).PredictWaitSeconds(job, Snapshot(T0.AddHours(0.5), 0, [job], [noLimit])).Estimate, 6);
    }

    [Fact]
    public void Features_QueueAheadAndFit_Counted()
    {
        var ahead = View(1, 4, T0);
        var job = View(2, 2, T0);
        var behind = View(3, 1, T0);
        var f = WaitFeatures.Compute(job, Snapshot(T0, 2, [ahead, job, behind], []));
        Assert.Equal(1, f[6]);  // jobs ahead
        Assert.Equal(4, f[7]);  // their GPUs
        Assert.Equal(1, f[8]);  // behind
        Assert.Equal(2, f[10]); // free GPUs
        Assert.Equal(1, f[12]); // nodes it fits on
    }

    [Fact]
    public void Gbm_WaitsStartingAfterNow_NotLearned()
    {
        var a = new GbmWaitEstimator(new GbmWaitOptions { MinTrainRows = 20, RetrainEvery = 20 });
        var b = new GbmWaitEstimator(new GbmWaitOptions { MinTrainRows = 20, RetrainEvery = 20 });
        var rng = new Random(5);
        for (var i = 0; i < 100; i++)
        {
            var f = new float[WaitFeatures.Width];
            f[6] = rng.Next(10);
            var wait = 60.0 * f[6];
            a.ObserveFeatures(f, wait, T0.AddMinutes(i));
            b.ObserveFeatures((float[])f.Clone(), wait, T0.AddMinutes(i));
        }

        for (var i = 0; i < 100; i++)
        {
            var f = new float[WaitFeatures.Width];
            f[6] = 3;
            b.ObserveFeatures(f, 1e6, T0.AddDays(1).AddMinutes(i)); // starts tomorrow
        }

        var probe = new float[WaitFeatures.Width];
        probe[6] = 3;
        var now = T0.AddHours(3);
        var pa = a.PredictFeatures((float[])probe.Clone(), now);
        Assert.Equal(pa, b.PredictFeatures((float[])probe.Clone(), now));
        Assert.InRange(pa.Estimate, 60, 400); // learned ≈ 180 s for 3 jobs ahead
        Assert.True(b.PredictFeatures((float[])probe.Clone(), T0.AddDays(2)).Estimate > pa.Estimate * 10);
    }
}
