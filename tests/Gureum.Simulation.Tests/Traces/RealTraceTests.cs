using System.Globalization;
using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

/// <summary>The importers over the real traces under GUREUM_DATA, checked against the counts in each SOURCE.md.</summary>
public sealed class RealTraceTests
{
    private static string TracePath(params string[] parts) => TestData.PathOf(["traces", .. parts]);

    [RealDataFact]
    public void Openb_DefaultPodList_MatchesSourceCounts()
    {
        var t = TraceLoader.Load(TracePath("alibaba-openb-2023", "openb_pod_list_default.csv"), TraceFormat.Openb);

        Assert.Equal(8_152 - 897, t.Jobs.Count);
        Assert.Contains(t.Notes, n => n.StartsWith("897 pods never scheduled", StringComparison.Ordinal));
        Assert.Equal(0, t.BadRowsSkipped);
        Assert.Equal(1_523, t.Fleet.Count);
        Assert.Equal(6_212, t.Fleet.Sum(n => n.Gpus));
        Assert.Equal(1_213, t.Fleet.Count(n => n.Gpus > 0));
        Assert.Equal(549, t.Fleet.Count(n => n is { RawModel: "G2", GpuModel: "V100", Gpus: 8 }));
        Assert.Equal(44, t.Jobs.Count(j => j.Resources.Gpus == 8));
        Assert.Equal(["openb-BE", "openb-Burstable", "openb-Guaranteed", "openb-LS"], t.Jobs.Select(j => j.Lab).Distinct().Order(StringComparer.Ordinal));

        // SOURCE.md: run time (deletion − scheduled) p50 616 s, p99 114,715 s.
        var runs = t.Jobs.Select(j => j.Duration!.Value.TotalSeconds).Order().ToArray();
        Assert.InRange(runs[runs.Length / 2], 600, 630);
        Assert.InRange(runs[(int)(runs.Length * 0.99)], 100_000, 130_000);
        AssertSorted(t);
    }

    [RealDataFact]
    public void Dlrm_Trace_MatchesSourceCounts()
    {
        var t = TraceLoader.Load(TracePath("alibaba-dlrm-2025", "disaggregated_DLRM_trace.csv"), TraceFormat.Dlrm);

        Assert.Equal(23_871, t.Jobs.Count);
        Assert.Equal(7_386, t.Jobs.Count(j => j.Resources.Gpus == 1));
        Assert.Equal(16_485, t.Jobs.Count(j => j.QosClass == "CN"));
        Assert.Equal(156, t.Jobs.Select(j => j.Lab).Distinct().Count());
        // SOURCE.md: 16,591 rows have a creation_time; 14,993 a deletion_time.
        Assert.Contains(t.Notes, n => n.StartsWith((23_871 - 16_591).ToString(CultureInfo.InvariantCulture) + " instances created before", StringComparison.Ordinal));
        Assert.Contains(t.Notes, n => n.StartsWith((23_871 - 14_993).ToString(CultureInfo.InvariantCulture) + " instances still alive", StringComparison.Ordinal));
        Assert.InRange(t.Jobs.Max(j => j.SubmitTime - t.Epoch).TotalSeconds, 2_676_000, 2_677_000);
        Assert.Empty(t.Fleet);
        AssertSorted(t);
    }

    [RealDataFact]
    public void Helios_EarthVcs_SlicesConserveDemandGpuMinutes()
    {
        var dir = TracePath("helios-earth-vc");
        var t = TraceLoader.Load(dir, TraceFormat.Helios);

        // Σ slice durations = Σ over minutes of demand × 1 min, per VC: the LIFO conversion loses no demand.
        foreach (var vc in new[] { "vc6YE", "vcpDC", "vcvlY" })
        {
            var demandMinutes = File.ReadLines(Path.Combine(dir, vc + "_cluster_sequence_vc.csv")).Skip(1)
                .Select(l => l.Split(',')).Sum(f => long.Parse(f[8], CultureInfo.InvariantCulture) + long.Parse(f[9], CultureInfo.InvariantCulture));
            var sliceMinutes = t.Jobs.Where(j => j.Lab == vc).Sum(j => (long)j.Duration!.Value.TotalMinutes);
            Assert.Equal(demandMinutes, sliceMinutes);
        }

        Assert.Equal(3, t.Jobs.Select(j => j.Lab).Distinct().Count());
        Assert.All(t.Jobs, j => Assert.Equal(1, j.Resources.Gpus));
        Assert.Equal(TimeSpan.FromDays(31), t.Jobs.Max(j => j.SubmitTime + j.Duration!.Value) - t.Epoch);
        Assert.Contains(t.Notes, n => n.Contains("vc6YE 208 GPUs", StringComparison.Ordinal));
        AssertSorted(t);
    }

    private static void AssertSorted(Trace t)
    {
        for (var i = 1; i < t.Jobs.Count; i++)
        {
            var (a, b) = (t.Jobs[i - 1], t.Jobs[i]);
            Assert.True(a.SubmitTime < b.SubmitTime || (a.SubmitTime == b.SubmitTime && string.CompareOrdinal(a.Id, b.Id) < 0), $"jobs {i - 1} and {i} out of order");
        }
    }
}
