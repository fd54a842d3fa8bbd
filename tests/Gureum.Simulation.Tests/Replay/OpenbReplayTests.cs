using Gureum.Autoscaling;
using Gureum.Core.Domain;
using Gureum.Simulation.Cloud;
using Gureum.Simulation.Metrics;
using Gureum.Simulation.Replay;
using Gureum.Simulation.Traces;
using Xunit.Abstractions;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>The openb trace replayed under every baseline policy on the real catalogs and spot traces.</summary>
public sealed class OpenbReplayTests(ITestOutputHelper output)
{
    [RealDataFact]
    public async Task Openb_EveryPolicy_AccountsForEveryJob_CostAtLeastLowerBound_JctAtLeastRunTime()
    {
        var (trace, offers, spot) = new SharedData(TestData.RequireRoot()).LoadOpenb(seed: 1);
        foreach (var policy in PolicyCatalog.Names)
        {
            var setup = new ReplaySetup { Core = PolicyCatalog.Create(policy), Jobs = trace.Jobs, Offers = offers, Spot = spot };
            if (policy == "static") setup = setup with { FixedFleet = FleetBuilder.FromTrace(trace.Fleet, offers, trace.Jobs[0].SubmitTime).Fleet };
            var o = await ReplayEngine.RunAsync(setup);
            var m = ReplayMetrics.Compute(o);
            output.WriteLine($"{policy}: cost {m.CostUsd:F0} LB {m.CostLowerBoundUsd:F0} JCT {m.MeanJctS:F0} run {m.MeanRuntimeS:F0} done {m.JobsCompleted} unsched {m.JobsUnschedulable} total {m.JobsTotal} preempt {m.Preemptions}");

            Assert.Equal(trace.Jobs.Count, m.JobsTotal);
            Assert.Equal(m.JobsTotal, m.JobsCompleted + m.JobsUnschedulable);
            Assert.True((double)m.CostUsd >= m.CostLowerBoundUsd, $"{policy}: cost {m.CostUsd} below LB {m.CostLowerBoundUsd}");
            foreach (var j in o.Jobs.Where(j => j.Status == JobStatus.Completed))
            {
                var runs = o.Runs[j.Id];
                var last = runs[^1];
                var jct = last.End - j.Spec.SubmitTime;
                // The last run did the remaining work on its GPU; a job run once did all of it there.
                Assert.True(jct >= last.End - last.Start, $"{policy} {j.Id}: JCT {jct} < last run");
                if (runs.Count == 1)
                {
                    var onGpu = j.Spec.Resources.MilliGpusPerNode > 0 ? GpuModels.Scale(j.Spec.Duration!.Value, j.Spec.ReferenceGpu, last.GpuModel) : j.Spec.Duration!.Value;
                    Assert.True(jct >= onGpu - TimeSpan.FromMilliseconds(1), $"{policy} {j.Id}: JCT {jct} < run time on {last.GpuModel} {onGpu}");
                }
            }
        }
    }
}
