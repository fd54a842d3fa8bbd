using Gureum.Backends.Local;
using Gureum.Backends.Sim;
using Gureum.Core.Cloud;
using Gureum.Core.Control;
using Gureum.Core.Domain;
using Gureum.Persistence;
using Gureum.Simulation.Cloud;
using Microsoft.Extensions.Logging;

namespace Gureum.Server.Hosting;

/// <summary>A backend as one leadership term uses it: provisioner, executor, and the nodes it
/// brings with it (the local machine).</summary>
public sealed record BackendInstance(INodeProvisioner Provisioner, IExecutor Executor, IReadOnlyList<Node> FixedNodes);

/// <summary>
/// The configured backend (<c>local</c> or <c>sim</c>), one per process: it is created at start-up
/// (so a follower replica can serve the logs of jobs on this machine too) and attached to the
/// control loop's observer for every leadership term. Local: this machine as one fixed node, jobs
/// as processes under <c>DATA/jobs</c>. Sim: the built-in catalog in live time.
/// </summary>
public sealed class BackendFactory : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly TimeProvider _time;
    private readonly LocalMachine? _machine;
    private readonly LocalExecutor? _local;
    private readonly LocalNodeProvisioner? _localProvisioner;
    private readonly SimBackend? _sim;

    public BackendFactory(ServerOptions options, IControlPlaneStore store, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options;
        _time = time;
        if (options.Backend == LocalExecutor.BackendName)
        {
            _machine = LocalMachine.Detect();
            Offers = [_machine.ToOffer() with { OnDemandPerHour = options.LocalPricePerHour }];
            _local = new LocalExecutor(new LocalExecutorOptions { Root = Path.Combine(options.DataDir, "jobs") }, store, time, loggers.CreateLogger<LocalExecutor>());
            _localProvisioner = new LocalNodeProvisioner();
        }
        else
        {
            Offers = CatalogLoader.LoadDefault();
            _sim = new SimBackend(time, new SimBackendOptions(), store, loggers.CreateLogger<SimBackend>());
        }
    }

    /// <summary>What the backend offers: the local machine, or the simulated catalog.</summary>
    public IReadOnlyList<Offer> Offers { get; }

    /// <summary>Notes on what was detected (local machine), for the start-up log.</summary>
    public string Describe() => _machine is { } m
        ? $"local machine {m.HostName}: {m.Cpus:0.##} CPUs, {m.MemoryGiB:0.#} GiB, {m.Gpus.Count} GPUs; isolation {( _local!.UsesBubblewrap ? "bubblewrap" : "none")}, cgroups {_local.CgroupVersion}, podman {(_local.SupportsImages ? "yes" : "no")}"
        : $"simulated cloud: {Offers.Count} offers";

    /// <summary>Attaches the backend to <paramref name="observer"/> for a new term.</summary>
    public BackendInstance Attach(IClusterObserver observer)
    {
        if (_local is not null)
        {
            _local.Attach(observer);
            _localProvisioner!.Attach(observer);
            var offer = Offers[0];
            return new BackendInstance(_localProvisioner, _local, [_machine!.ToNode(offer, _time.GetUtcNow())]);
        }
        _sim!.Attach(observer);
        return new BackendInstance(_sim, _sim, []);
    }

    /// <summary>The exit code of a job's last run on the local backend, read from its run directory
    /// (null while it runs, for the sim backend, or when the job never ran here).</summary>
    public int? ExitCodeOf(string jobId) => _local?.GetRun(jobId) is { Ended: true } run ? run.ExitCode : null;

    /// <summary>Whether jobs have log files (local: yes; sim: no processes, no logs).</summary>
    public bool KeepsLogs => _local is not null;

    /// <summary>Copies a job's log (local backend) from <paramref name="offset"/>; with
    /// <paramref name="follow"/> until the run ends. Copies nothing for a job that never ran here.</summary>
    public async Task CopyLogAsync(string jobId, string stream, long offset, bool follow, Stream destination, CancellationToken ct)
    {
        if (_local is null) return;
        await _local.CopyLogAsync(jobId, stream == "stderr" ? LogStream.Stderr : LogStream.Stdout, offset, follow, destination, ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_local is not null) await _local.DisposeAsync();
        _sim?.Dispose();
    }
}
