using System.Collections.Concurrent;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;

namespace Gureum.Backends.Tests;

/// <summary>Every report a backend sends, in order; waits for one with a deadline.</summary>
internal sealed class RecordingObserver : IClusterObserver
{
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly SemaphoreSlim _signal = new(0);

    public IReadOnlyList<string> Calls => _calls.ToArray();

    private ValueTask Record(string call)
    {
        _calls.Enqueue(call);
        _signal.Release();
        return ValueTask.CompletedTask;
    }

    public ValueTask OnNodeReadyAsync(string nodeId, CancellationToken ct) => Record($"ready {nodeId}");
    public ValueTask OnProvisionFailedAsync(string nodeId, string reason, CancellationToken ct) => Record($"provision-failed {nodeId}");
    public ValueTask OnNodeLostAsync(string nodeId, string reason, CancellationToken ct) => Record($"node-lost {nodeId}");
    public ValueTask OnJobExitedAsync(string jobId, bool succeeded, CancellationToken ct) => Record($"exited {jobId} {(succeeded ? "ok" : "failed")}");
    public ValueTask OnJobLostAsync(string jobId, string reason, CancellationToken ct) => Record($"lost {jobId}");

    /// <summary>Waits (real time) until a call starting with <paramref name="prefix"/> was recorded.</summary>
    public async Task<string> WaitForAsync(string prefix, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var hit = _calls.FirstOrDefault(c => c.StartsWith(prefix, StringComparison.Ordinal));
            if (hit is not null) return hit;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"No '{prefix}' report; got: [{string.Join("; ", _calls)}]");
            await _signal.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }
}

internal static class J
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static JobView Running(string id, string? command, double cpus = 0, double memGiB = 0, string? image = null, int attempts = 1,
        TimeSpan? duration = null, TimeSpan? timeLimit = null, int gpus = 0, string? gpuModel = null) => new()
    {
        Seq = 1,
        Spec = new JobSpec
        {
            Id = id,
            User = "ada",
            Lab = "nlp",
            SubmitTime = T0,
            Resources = new ResourceRequest(gpus, 0, cpus, memGiB),
            Command = command,
            Image = image,
            Duration = duration,
            TimeLimit = timeLimit,
            GpuModels = gpuModel is null ? [] : [gpuModel],
        },
        Status = JobStatus.Running,
        Attempts = attempts,
        QueuedSince = T0,
        RunStartedAt = T0,
        Placements = gpus > 0 ? [new Placement("n1", Enumerable.Range(0, gpus).ToArray(), 1000, cpus, memGiB)] : [],
    };

    public static Offer Offer(string? gpu = "V100", int gpus = 1, decimal onDemand = 3.6m, decimal? spot = null, int bootS = 120) => new()
    {
        Cloud = "test",
        Region = "r1",
        Zone = "z-a",
        InstanceType = $"t-{gpu ?? "cpu"}",
        GpuModel = gpu,
        GpuCount = gpus,
        VCpus = 8,
        MemoryGiB = 64,
        OnDemandPerHour = onDemand,
        SpotPerHour = spot,
        BootDelay = TimeSpan.FromSeconds(bootS),
    };

    public static Node Node(string id, Offer offer, Market market = Market.OnDemand, NodeState state = NodeState.Ready) =>
        Core.Domain.Node.Create(id, offer, market, state, T0);
}

/// <summary>A fresh temporary folder, removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("gureum-backends-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// A fact that needs a tool of the machine (bubblewrap, cgroups, podman). Skips with the reason
/// when the tool is missing, except under CI=true where .ci/run installs it: then it runs and fails.
/// </summary>
internal sealed class NeedsFactAttribute : FactAttribute
{
    public NeedsFactAttribute(string what)
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (ci) return;
        var missing = what switch
        {
            "bwrap" => Local.ProcFsProbe.Which("bwrap") is null ? "bwrap is not installed (apt-get install bubblewrap)" : null,
            "podman" => Local.ProcFsProbe.Which("podman") is null ? "podman is not installed (apt-get install podman runc)" : null,
            "cgroups" => Local.ProcFsProbe.CgroupsUsable() ? null : "no writable cgroup memory/cpu controllers (needs root and cgroup v1, or a delegated v2 subtree)",
            _ => throw new ArgumentException(what),
        };
        if (missing is not null) Skip = $"Skipped: {missing}.";
    }
}
