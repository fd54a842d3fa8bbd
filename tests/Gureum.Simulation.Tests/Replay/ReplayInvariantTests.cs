using System.Text.Json;
using CsCheck;
using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>
/// Invariants of every replay, checked from its outputs (runs and bills) on random traces, fleets,
/// policies and spot reclaims: no GPU or CPU over-allocated at any instant, every job ends exactly
/// once, billed cost = Σ billed seconds × price, cost ≥ its lower bound, JCT ≥ time run, and the
/// same inputs give the same result.
/// </summary>
public sealed class ReplayInvariantTests
{
    private static readonly Offer[] Offers =
    [
        B.Offer("v100x1", "V100", 1, 3.06m, spot: 0.92m, zone: "z-a"),
        B.Offer("v100x1", "V100", 1, 3.06m, spot: 1.10m, zone: "z-b"),
        B.Offer("a100x4", "A100", 4, 16.0m, spot: 6.0m, zone: "z-a", vcpus: 48, mem: 340),
        B.Offer("t4x8", "T4", 8, 7.8m, spot: 2.9m, zone: "z-b", vcpus: 96, mem: 384),
        B.Offer("cpu16", null, 0, 0.77m, spot: 0.3m, zone: "z-a", vcpus: 16, mem: 64),
    ];

    private static readonly Gen<JobSpec[]> GenJobs =
        Gen.Select(Gen.Int[1, 25], Gen.Int[0, int.MaxValue]).Select((n, seed) =>
        {
            var rnd = new Random(seed);
            return Enumerable.Range(0, n).Select(i =>
            {
                var kind = rnd.Next(6);
                var (gpus, milli) = kind switch { 0 => (0, 0), 1 => (1, 250 * rnd.Next(1, 4)), 2 => (1, 0), 3 => (2, 0), 4 => (4, 0), _ => (1, 0) };
                return B.Job($"j{i}", rnd.Next(0, 5000), rnd.Next(1, 3000), gpus, milli, lab: $"lab{rnd.Next(3)}", priority: rnd.Next(3),
                    checkpointS: rnd.Next(2) == 0 ? 300 : null, limitS: rnd.Next(2) == 0 ? 4000 : null, nodes: rnd.Next(8) == 0 ? 2 : 1,
                    cpus: rnd.Next(1, 8), mem: rnd.Next(1, 32));
            }).ToArray();
        });

    private static readonly Gen<(JobSpec[] Jobs, string Policy, int FleetSeed, double[] Reclaims)> GenCase =
        Gen.Select(GenJobs, Gen.Int[0, 2].Select(i => new[] { "static", "reactive", "spot-fallback" }[i]), Gen.Int[0, 1000], Gen.Double[0, 8000].Array[0, 3]);

    private static ReplayOutcome Run((JobSpec[] Jobs, string Policy, int FleetSeed, double[] Reclaims) c)
    {
        var rnd = new Random(c.FleetSeed);
        var fleet = c.Policy == "static"
            ? Enumerable.Range(0, rnd.Next(1, 5)).Select(i => B.FleetNode($"f{i}", Offers[rnd.Next(Offers.Length)])).ToList()
            : [];
        var spot = new ScriptedSpotMarket(new() { ["z-a"] = c.Reclaims.Order().ToArray() });
        return B.Run(c.Policy, c.Jobs, Offers, fleet, spot).GetAwaiter().GetResult();
    }

    [Fact]
    public void Replay_AnyCase_HoldsInvariants()
    {
        GenCase.Sample(c =>
        {
            var o = Run(c);
            var m = ReplayMetrics.Compute(o);

            // Every job ends exactly once: completed jobs end with exactly one Completed run.
            Assert.Equal(m.JobsTotal, m.JobsCompleted + m.JobsUnschedulable);
            foreach (var j in o.Jobs)
            {
                var runs = o.Runs[j.Id];
                Assert.Equal(j.Status == JobStatus.Completed ? 1 : 0, runs.Count(r => r.Outcome == RunOutcome.Completed));
                if (j.Status == JobStatus.Completed) Assert.Equal(RunOutcome.Completed, runs[^1].Outcome);
                if (j.Status == JobStatus.Unschedulable) Assert.Empty(runs);
                // JCT ≥ time spent running; a job run once ran exactly its duration on that GPU.
                if (j.Status == JobStatus.Completed)
                {
                    var jct = runs[^1].End - j.Spec.SubmitTime;
                    Assert.True(jct >= TimeSpan.FromTicks(runs.Sum(r => (r.End - r.Start).Ticks)));
                    if (runs.Count == 1)
                    {
                        var expected = j.Spec.Resources.MilliGpusPerNode > 0 ? GpuModels.Scale(j.Spec.Duration!.Value, j.Spec.ReferenceGpu, runs[0].GpuModel) : j.Spec.Duration!.Value;
                        Assert.True(Math.Abs((runs[0].End - runs[0].Start - expected).TotalSeconds) < 1e-3);
                    }
                }
            }

            // No over-allocation at any instant: sweep each node's run intervals (ends before starts).
            var byNode = new Dictionary<string, List<(DateTimeOffset At, int Order, int Milli, double Cpus)>>();
            foreach (var j in o.Jobs)
                foreach (var r in o.Runs[j.Id])
                    foreach (var node in r.NodeIds.Split('+'))
                    {
                        if (!byNode.TryGetValue(node, out var l)) byNode[node] = l = [];
                        l.Add((r.Start, 1, j.Spec.Resources.MilliGpusPerNode, j.Spec.Resources.Cpus));
                        l.Add((r.End, 0, -j.Spec.Resources.MilliGpusPerNode, -j.Spec.Resources.Cpus));
                    }
            var offerOf = o.Bills.ToDictionary(b => b.NodeId, b => b.Offer);
            foreach (var (node, evs) in byNode)
            {
                int milli = 0; double cpus = 0;
                foreach (var e in evs.OrderBy(e => e.At).ThenBy(e => e.Order))
                {
                    milli += e.Milli; cpus += e.Cpus;
                    Assert.True(milli <= offerOf[node].GpuCount * 1000, $"node {node} GPUs over-allocated: {milli}");
                    Assert.True(cpus <= offerOf[node].VCpus + 1e-9, $"node {node} CPUs over-allocated: {cpus}");
                }
            }

            // Billed cost = Σ billed seconds × price (no price changes in this market), and ≥ LB.
            foreach (var b in o.Bills) Assert.Equal(b.BilledSeconds * b.StartPrice / 3600m, b.BilledUsd);
            Assert.Equal(Math.Round(o.Bills.Sum(b => b.BilledSeconds * b.StartPrice / 3600m), 4), m.CostUsd);
            Assert.True((double)m.CostUsd >= m.CostLowerBoundUsd - 1e-6, $"cost {m.CostUsd} < LB {m.CostLowerBoundUsd}");
            // The bill over the bound splits into parts that add up to it exactly.
            var g = m.CostGap!;
            Assert.True(Math.Abs((double)m.CostUsd - g.BilledUsd) < 1e-4, $"gap billed {g.BilledUsd} vs cost {m.CostUsd}");
            Assert.Equal(m.CostLowerBoundUsd, g.LowerBoundUsd, 6);
            Assert.Equal(g.BilledUsd, g.LowerBoundUsd + g.Parts.Sum(p => p.Usd), 6);
            Assert.True(g.PartialPackingUsd >= 0 && g.BeforeFirstRunUsd >= 0 && g.IdleBetweenRunsUsd >= 0 && g.IdleAfterLastRunUsd >= 0 && g.UnusedNodesUsd >= 0);
        }, iter: 300);
    }

    [Fact]
    public void Replay_SameInputs_SameResult()
    {
        GenCase.Sample(c =>
        {
            var json = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
            var a = JsonSerializer.Serialize(ReplayMetrics.Compute(Run(c)), json);
            var b = JsonSerializer.Serialize(ReplayMetrics.Compute(Run(c)), json);
            Assert.Equal(a, b);
        }, iter: 100);
    }
}
