using Gureum.Core.Cloud;
using Gureum.Simulation.Cloud;

namespace Gureum.Simulation.Traces;

/// <summary>
/// The layout of the shared public data folder (<c>shared/data</c>, described in its README) in
/// one place: the traces, catalogs and spot traces that <c>gureum eval</c>, the predictor
/// evaluation, the benchmarks and the tests read, and the one way they load openb for a replay.
/// </summary>
/// <param name="Root">The data folder.</param>
public sealed record SharedData(string Root)
{
    /// <summary>Alibaba openb pods (one row per job).</summary>
    public string OpenbPods => Path.Combine(Root, "traces", "alibaba-openb-2023", "openb_pod_list_default.csv");

    /// <summary>Alibaba DLRM serving instances (one row per instance).</summary>
    public string DlrmTrace => Path.Combine(Root, "traces", "alibaba-dlrm-2025", "disaggregated_DLRM_trace.csv");

    /// <summary>The catalogs every evaluation buys from: the AWS US subset and GCP.</summary>
    public IReadOnlyList<string> Catalogs =>
        [Path.Combine(Root, "instance_catalogs", "aws_gpu_vms_us_subset.csv"), Path.Combine(Root, "instance_catalogs", "gcp_gpu_vms.csv")];

    /// <summary>The measured spot availability traces.</summary>
    public string SpotTraces => Path.Combine(Root, "spot_traces");

    /// <summary>The offers of <see cref="Catalogs"/>.</summary>
    public IReadOnlyList<Offer> LoadOffers() => CatalogLoader.LoadMany(Catalogs);

    /// <summary>The openb trace with <see cref="LoadOffers"/> and the spot market built from
    /// <see cref="SpotTraces"/> at the trace's epoch: the set-up of every openb replay.</summary>
    public (Trace Trace, IReadOnlyList<Offer> Offers, SpotMarket Spot) LoadOpenb(int seed = 1)
    {
        var trace = TraceLoader.Load(OpenbPods, TraceFormat.Openb);
        var offers = LoadOffers();
        return (trace, offers, SpotMarket.Build(offers, SpotTraceLoader.LoadDirectory(SpotTraces), trace.Epoch, seed));
    }
}
