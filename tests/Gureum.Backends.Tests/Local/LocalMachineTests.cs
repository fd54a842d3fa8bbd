using Gureum.Autoscaling;
using Gureum.Backends.Local;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Core.Persistence;

namespace Gureum.Backends.Tests.Local;

public sealed class LocalMachineTests
{
    [Fact]
    public void Detect_ThisMachine_ReadsCoresAndMemoryAndHandlesMissingNvidiaSmi()
    {
        var m = LocalMachine.Detect(nvidiaSmi: ProcFs.Which("nvidia-smi"));
        Assert.InRange(m.Cpus, 0.01, Environment.ProcessorCount);
        var memTotalKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.InRange(m.MemoryGiB, 0.01, memTotalKb / 1048576.0 + 0.01);
        if (ProcFs.Which("nvidia-smi") is null)
        {
            Assert.Empty(m.Gpus);
            Assert.Contains(m.Notes, n => n.Contains("nvidia-smi not found", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Detect_FakeProcAndCgroupTree_CapsMemoryByCgroupLimit()
    {
        using var dir = new TempDir();
        var proc = Directory.CreateDirectory(Path.Combine(dir.Path, "proc", "self")).Parent!.FullName;
        File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal:       16777216 kB\nMemFree: 1 kB\n");
        File.WriteAllText(Path.Combine(proc, "self", "cgroup"), "4:memory:/box\n1:cpu:/box\n");
        var cg = Path.Combine(dir.Path, "cg");
        Directory.CreateDirectory(Path.Combine(cg, "memory", "box"));
        Directory.CreateDirectory(Path.Combine(cg, "cpu", "box"));
        File.WriteAllText(Path.Combine(cg, "memory", "box", "memory.limit_in_bytes"), (4L << 30).ToString());
        File.WriteAllText(Path.Combine(cg, "cpu", "box", "cpu.cfs_quota_us"), "50000");
        File.WriteAllText(Path.Combine(cg, "cpu", "box", "cpu.cfs_period_us"), "100000");

        var m = LocalMachine.Detect(proc, cg, nvidiaSmi: null);

        Assert.Equal(4.0, m.MemoryGiB);
        Assert.Equal(0.5, m.Cpus);
    }

    [Fact]
    public void ParseNvidiaSmi_TypicalOutput_MapsModels()
    {
        var gpus = LocalMachine.ParseNvidiaSmi("0, NVIDIA A100-SXM4-80GB, 81920\n1, NVIDIA A100-SXM4-80GB, 81920\n");
        Assert.Equal(2, gpus.Count);
        Assert.Equal("A100-80GB", gpus[0].Model);
        Assert.Equal(1, gpus[1].Index);
        Assert.Equal("A100", LocalMachine.ModelOf("NVIDIA A100-SXM4-40GB", 40960));
        Assert.Equal("H100", LocalMachine.ModelOf("NVIDIA H100 80GB HBM3", 81559));
        Assert.Equal("V100", LocalMachine.ModelOf("Tesla V100-SXM2-16GB", 16160));
        Assert.Equal("T4", LocalMachine.ModelOf("Tesla T4", 15360));
        Assert.Equal("RTX4090", LocalMachine.ModelOf("NVIDIA GeForce RTX 4090", 24564));
        Assert.Equal("Mystery X1", LocalMachine.ModelOf("Mystery X1", 1000));
        Assert.Throws<FormatException>(() => LocalMachine.ParseNvidiaSmi("0, only two"));
    }

    [Fact]
    public void ToOffer_IsFreeSingleReadyNode()
    {
        var m = new LocalMachine("box", 8, 32, [new LocalGpu(0, "NVIDIA L4", 23034, "L4")], []);
        var offer = m.ToOffer(reservedCpus: 1, reservedMemoryGiB: 2);
        Assert.Equal(0m, offer.OnDemandPerHour);
        Assert.Null(offer.SpotPerHour);
        Assert.Equal(TimeSpan.Zero, offer.BootDelay);
        Assert.Equal((7.0, 30.0, 1, "L4"), (offer.VCpus, offer.MemoryGiB, offer.GpuCount, offer.GpuModel));
        var node = m.ToNode(offer, J.T0);
        Assert.True(node.Fixed);
        Assert.Equal(NodeState.Ready, node.State);
    }

    /// <summary>The whole path: store → static policy → local executor → real process → exit → store.</summary>
    [Fact]
    public async Task ControlLoop_WithLocalBackend_RunsJobsToTheirEndStates()
    {
        using var dir = new TempDir();
        var machine = LocalMachine.Detect();
        var offer = machine.ToOffer();
        var store = new InMemoryClusterStore([offer]);
        var time = TimeProvider.System;
        await store.AddNodeAsync(machine.ToNode(offer, time.GetUtcNow()), default);
        await using var executor = new LocalExecutor(new LocalExecutorOptions { Root = dir.Path, Isolation = LocalIsolation.None, UseCgroups = false, PollInterval = TimeSpan.FromMilliseconds(50) }, new InMemoryRunHandleStore(), time);
        var provisioner = new LocalNodeProvisioner();
        var loop = new ControlLoop(store, PolicyCatalog.Create("static"), provisioner, executor, time);
        executor.Attach(loop);
        provisioner.Attach(loop);

        JobSpec Spec(string id, string command) => new()
        {
            Id = id, User = "ada", Lab = "nlp", SubmitTime = time.GetUtcNow(),
            Resources = new ResourceRequest(0, 0, 0.1, 0.1), Command = command,
        };
        await loop.SubmitAsync(Spec("good", "echo hello"), default);
        await loop.SubmitAsync(Spec("bad", "exit 2"), default);
        await loop.RunOnceAsync(default);
        // Started by the tick; "echo" may already have exited and been recorded by the time we look.
        Assert.Contains((await store.GetJobAsync("good", default))!.Status, new[] { JobStatus.Running, JobStatus.Completed });

        await executor.WhenEndedAsync("good", default).WaitAsync(TimeSpan.FromSeconds(60));
        await executor.WhenEndedAsync("bad", default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatus.Completed, (await store.GetJobAsync("good", default))!.Status);
        Assert.Equal(JobStatus.Failed, (await store.GetJobAsync("bad", default))!.Status);
        Assert.Equal("hello\n", File.ReadAllText(executor.GetRun("good")!.StdoutPath));
    }
}
