using System.Collections.Immutable;
using System.Diagnostics;
using Gureum.Autoscaling;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;

// Replay benchmarks (a harness, not a timed test). Run in Release:
//   dotnet run -c Release --project bench/Gureum.Bench -- openb [DATA_DIR]
//   dotnet run -c Release --project bench/Gureum.Bench -- synthetic [JOBS] [NODES]
//   dotnet run -c Release --project bench/Gureum.Bench -- decision [PENDING,...]
//   dotnet run -c Release --project bench/Gureum.Bench -- serve-http [--db sqlite:PATH|postgres://…] [--clients 16] [--seconds 10]
//   dotnet run -c Release --project bench/Gureum.Bench -- serve-loop [--db …] [--queued 10000]
//   dotnet run -c Release --project bench/Gureum.Bench -- local-jobs [N]
//   dotnet run -c Release --project bench/Gureum.Bench -- store sqlite|postgres [SUBMITTERS] [SECONDS]
//   dotnet run -c Release --project bench/Gureum.Bench -- why [PENDING]
//   dotnet run -c Release --project bench/Gureum.Bench -- gureum-durations DATA [GENERATED_CSV] [learned,history]
var mode = args.Length > 0 ? args[0] : "help";
switch (mode)
{
    case "openb": await Openb(args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("GUREUM_DATA") ?? "../shared/data"); break;
    case "synthetic": await Synthetic(args.Length > 1 ? int.Parse(args[1]) : 1_000_000, args.Length > 2 ? int.Parse(args[2]) : 2000); break;
    case "local-jobs": await LocalJobsBench.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 50); break;
    case "decision": Decision(args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1000, 10_000, 100_000]); break;
    case "serve-http": await ServerBench.HttpAsync(args); break;
    case "serve-loop": await ServerBench.LoopAsync(args); break;
    case "store": await StoreBench.RunAsync(args); break;
    case "why": await WhyBench.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 10_000); break;
    case "gureum-durations": await GureumDurationsBench.RunAsync(args); break;
    default: Console.WriteLine("usage: Gureum.Bench openb [DATA] | synthetic [JOBS] [NODES] | decision [P1,P2,...] | store sqlite|postgres [SUBMITTERS] [SECONDS] | serve-http [...] | serve-loop [...]"); break;
}

static async Task Openb(string data)
{
    var sw = Stopwatch.StartNew();
    var (trace, offers, spot) = new SharedData(data).LoadOpenb(seed: 1);
    Console.WriteLine($"load: {sw.Elapsed.TotalSeconds:F2} s ({trace.Jobs.Count} jobs, {offers.Count} offers)");
    var total = Stopwatch.StartNew();
    var baselines = TimeSpan.Zero; // the target covers static, reactive and spot-fallback
    foreach (var name in PolicyCatalog.Names)
    {
        var t = Stopwatch.StartNew();
        var setup = new ReplaySetup { Core = PolicyCatalog.Create(name), Jobs = trace.Jobs, Offers = offers, Spot = spot };
        if (name == "static") setup = setup with { FixedFleet = FleetBuilder.FromTrace(trace.Fleet, offers, trace.Jobs[0].SubmitTime).Fleet };
        var o = await ReplayEngine.RunAsync(setup);
        var m = ReplayMetrics.Compute(o);
        if (name != "gureum") baselines += t.Elapsed;
        Console.WriteLine($"{name,-14} replay+metrics {t.Elapsed.TotalSeconds,6:F2} s  decisions {o.Decisions,7}  cost ${m.CostUsd:F0}  cost/LB {m.CostOverLb:F2}");
    }
    Console.WriteLine($"openb x static, reactive, spot-fallback: {baselines.TotalSeconds:F2} s (target < 5 s); all {PolicyCatalog.Names.Count} policies: {total.Elapsed.TotalSeconds:F2} s");
}

static async Task Synthetic(int jobs, int nodes)
{
    var offers = CatalogLoader.LoadDefault();
    var p4d = offers.Where(o => o.InstanceType == "p4d.24xlarge").OrderBy(o => o.OnDemandPerHour).First();
    // Arrival rate sized for ~60 % GPU allocation of the fleet (mean 1.9 GPUs × ~5,500 s on V100, 2.2× faster on A100).
    var rate = 0.6 * nodes * 8 / (1.9 * 5546 / 2.2) * 3600;
    var gen = new TraceGeneratorOptions { Jobs = jobs, Seed = 7, RatePerHour = rate, MemoryGiBPerGpu = 48 };
    var sw = Stopwatch.StartNew();
    var trace = TraceGenerator.Generate(gen).ToList();
    Console.WriteLine($"generated {trace.Count} jobs at {rate:F0}/h in {sw.Elapsed.TotalSeconds:F1} s");
    var fleet = Enumerable.Range(0, nodes).Select(i => Node.Create($"f{i:D5}", p4d, Market.OnDemand, NodeState.Ready, trace[0].SubmitTime, isFixed: true)).ToList();
    GC.Collect();
    sw.Restart();
    // CPU time beside wall time: on a shared machine the wall clock also counts other processes.
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var o = await ReplayEngine.RunAsync(new ReplaySetup { Core = PolicyCatalog.Create("static"), Jobs = trace, Offers = offers, FixedFleet = fleet });
    var replay = sw.Elapsed.TotalSeconds;
    var replayCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
    var m = ReplayMetrics.Compute(o);
    Console.WriteLine($"static replay of {jobs} jobs on {nodes} nodes: {replay:F1} s replay ({replayCpu:F1} s CPU), {sw.Elapsed.TotalSeconds:F1} s with metrics; {o.Decisions} decisions; done {m.JobsCompleted}/{m.JobsTotal}; GPU alloc util {m.GpuAllocUtilization:F3}; mean wait {m.MeanWaitS:F0} s");
    Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024 * 1024):F2} GiB (targets: < 60 s, < 4 GiB)");
}

static void Decision(int[] pendings)
{
    // A full 2,000-node fleet (every GPU busy) and N pending jobs: the decision must sort the queue
    // and find quickly that nothing fits (O(p log p)), plus the policy's feasibility pass (O(p)).
    var offers = CatalogLoader.LoadDefault();
    var p4d = offers.Where(o => o.InstanceType == "p4d.24xlarge").OrderBy(o => o.OnDemandPerHour).First();
    var t0 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var nodes = Enumerable.Range(0, 2000).Select(i => Node.Create($"f{i:D5}", p4d, Market.OnDemand, NodeState.Ready, t0, true) with { GpuFreeMilli = new int[8], RunningJobs = 1, IdleSince = null }).ToArray();
    foreach (var policy in new[] { "static", "reactive" })
    {
        var core = PolicyCatalog.Create(policy);
        foreach (var p in pendings)
        {
            var rnd = new Random(p);
            var pending = ImmutableList.CreateRange(Enumerable.Range(0, p).Select(i => new JobView
            {
                Seq = i,
                Status = JobStatus.Pending,
                QueuedSince = t0,
                Spec = new JobSpec { Id = $"j{i}", User = $"u{i % 50}", Lab = $"lab{i % 8}", SubmitTime = t0.AddSeconds(rnd.Next(0, 86400)), Priority = rnd.Next(3),
                    Resources = ResourceRequest.FromTrace(new[] { 1, 1, 2, 4, 8 }[rnd.Next(5)], 0, 8, 32), Duration = TimeSpan.FromHours(1) },
            }));
            var labs = Enumerable.Range(0, 8).ToDictionary(i => $"lab{i}", i => new LabShare($"lab{i}", 1, i * 1000.0, 0));
            var snap = new ClusterSnapshot { Now = t0.AddDays(1), Pending = pending, Running = ImmutableSortedDictionary<long, JobView>.Empty, Nodes = nodes, Offers = offers, Labs = labs };
            core.Decide(snap);
            var times = new List<double>();
            for (var r = 0; r < 5; r++)
            {
                var sw = Stopwatch.StartNew();
                var plan = core.Decide(snap);
                times.Add(sw.Elapsed.TotalMilliseconds);
                GC.KeepAlive(plan);
            }
            times.Sort();
            Console.WriteLine($"{policy,-9} pending {p,7}: decision {times[2],9:F2} ms (median of 5)  per job {times[2] * 1000 / p,6:F2} µs");
        }
    }
}
