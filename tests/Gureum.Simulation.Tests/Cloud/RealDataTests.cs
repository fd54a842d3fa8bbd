using Gureum.Core.Cloud;
using Gureum.Simulation.Cloud;
using Xunit.Abstractions;

namespace Gureum.Simulation.Tests.Cloud;

/// <summary>Loads the real catalogs and traces under <see cref="TestData.Root"/> (skipped when absent,
/// failing when CI=true). Checks counts and ranges, not exact figures.</summary>
public sealed class RealDataTests(ITestOutputHelper output)
{
    private static readonly string[] CatalogFiles =
        ["aws_gpu_vms_us_subset.csv", "gcp_gpu_vms.csv", "azure_gpu_vms.csv", "lambda_vms.csv", "vast_vms.csv"];

    private static string Catalog(string file) => TestData.PathOf("instance_catalogs", file);

    [RealDataFact]
    public void Catalogs_AllFiveLoad_WithPlausibleCountsAndPrices()
    {
        var expected = new Dictionary<string, (CatalogFormat Format, int Rows, int MinOffers, int MaxOffers)>
        {
            ["aws_gpu_vms_us_subset.csv"] = (CatalogFormat.Aws, 153, 140, 153),
            ["gcp_gpu_vms.csv"] = (CatalogFormat.Gcp, 1467, 700, 1500),
            ["azure_gpu_vms.csv"] = (CatalogFormat.Azure, 845, 700, 845),
            ["lambda_vms.csv"] = (CatalogFormat.Lambda, 425, 400, 425),
            ["vast_vms.csv"] = (CatalogFormat.Vast, 64, 64, 64),
        };

        foreach (var file in CatalogFiles)
        {
            var r = CatalogLoader.LoadWithReport(Catalog(file));
            var (format, rows, min, max) = expected[file];
            output.WriteLine($"{file}: {r.Format}, rows {r.RowsRead}, offers {r.Offers.Count} (GPU {r.Offers.Count(o => o.GpuModel is not null)}, spot {r.Offers.Count(o => o.SpotPerHour is not null)}), skipped no price {r.SkippedNoPrice}, duplicates merged {r.DuplicatesMerged}, GCP hosts w/o GPU row {r.HostRowsWithoutAccelerator}, GPU rows unjoined {r.AcceleratorRowsUnjoined}, fractional GPU skipped {r.SkippedFractionalGpu}");
            Assert.Equal(format, r.Format);
            Assert.Equal(rows, r.RowsRead);
            Assert.InRange(r.Offers.Count, min, max);
            Assert.Equal(r.Offers.Count, r.Offers.Select(o => o.Id).Distinct().Count());
            Assert.All(r.Offers, o =>
            {
                Assert.True(o.OnDemandPerHour is not null || o.SpotPerHour is not null);
                Assert.InRange(o.OnDemandPerHour ?? 1m, 0.001m, 200m);
                Assert.InRange(o.SpotPerHour ?? 1m, 0.001m, 200m);
                Assert.True(o.VCpus > 0 && o.MemoryGiB > 0, o.Id);
                if (o.GpuModel is not null)
                {
                    Assert.InRange(o.GpuCount, 1, 16);
                    Assert.InRange(o.GpuMemoryGiB, 4, 200);
                }
            });
        }
    }

    [RealDataFact]
    public void Catalogs_KnownPrices_MatchSourceNotes()
    {
        var gcp = CatalogLoader.Load(Catalog("gcp_gpu_vms.csv")).ToDictionary(o => o.Id);
        // SOURCE.md: us-central1 a2-highgpu-1g = 0.73948 + 2.93391 ≈ 3.67 $/h on demand.
        Assert.Equal(3.67339m, gcp["gcp/us-central1-a/a2-highgpu-1g"].OnDemandPerHour);
        Assert.Equal(8, gcp["gcp/us-central1-a/a3-highgpu-8g"].GpuCount);
        Assert.Contains(gcp.Values, o => o.InstanceType.StartsWith("n1-standard-8+V100:", StringComparison.Ordinal));
        Assert.Contains(gcp.Values, o => o.InstanceType.StartsWith("g2-standard-", StringComparison.Ordinal) && o.GpuModel == "L4");

        var aws = CatalogLoader.Load(Catalog("aws_gpu_vms_us_subset.csv"));
        var p3 = aws.Where(o => o.InstanceType == "p3.2xlarge").ToList();
        Assert.All(p3, o => Assert.Equal(3.06m, o.OnDemandPerHour));
        Assert.All(p3, o => Assert.Equal(("V100", 1, 16.0), (o.GpuModel, o.GpuCount, o.GpuMemoryGiB)));
        Assert.All(aws.Where(o => o.InstanceType == "p4de.24xlarge"), o => Assert.Equal("A100-80GB", o.GpuModel));
        Assert.Contains(aws, o => o.InstanceType == "p5e.48xlarge" && o.OnDemandPerHour is null && o.SpotPerHour is not null);
        var spotBelowOnDemand = aws.Count(o => o.SpotPerHour is { } s && o.OnDemandPerHour is { } d && s < d) / (double)aws.Count(o => o.SpotPerHour is not null && o.OnDemandPerHour is not null);
        Assert.True(spotBelowOnDemand > 0.9, $"only {spotBelowOnDemand:P0} of AWS spot prices are below on-demand");

        Assert.All(CatalogLoader.Load(Catalog("lambda_vms.csv")), o => Assert.Null(o.SpotPerHour));
        Assert.All(CatalogLoader.Load(Catalog("vast_vms.csv")), o => Assert.Null(o.SpotPerHour));
    }

    [RealDataFact]
    public void Traces_AllLoad_WithExpectedShapes()
    {
        var traces = SpotTraceLoader.LoadDirectory(TestData.PathOf("spot_traces"));

        Assert.Equal(64, traces.Count); // Can't Be Late 34 + SpotHedge 6 + raw probe 24
        foreach (var t in traces)
        {
            output.WriteLine($"{t.Name}: {t.Data.Length} x {t.Gap.TotalSeconds:0} s, max {t.MaxValue}, up {t.AvailabilityFraction:P1}{(t.Prices is null ? "" : $", prices {t.Prices.Min()}-{t.Prices.Max()}")}");
            Assert.All(t.Data, v => Assert.InRange(v, 0, t.MaxValue));
        }

        var byName = traces.ToDictionary(t => t.Name);
        var feb = byName["cant_be_late/availability/1-node/aws-02-15-2023/us-east-1a_v100_1"];
        Assert.Equal((20158, 195.0), (feb.Data.Length, feb.Gap.TotalSeconds));
        Assert.InRange(feb.AvailabilityFraction, 0.15, 0.19); // SOURCE.md: 0.17
        Assert.InRange(byName["cant_be_late/availability/1-node/aws-02-15-2023/us-west-2b_v100_1"].AvailabilityFraction, 0.88, 0.92);
        Assert.Equal(16, byName["cant_be_late/availability/16-node/aws-08-27-2023/us-west-2a_v100_1"].MaxValue);
        Assert.All(byName["cant_be_late/preemption/1-node/aws-04-22-2023/us-east-1c_v100_1"].Prices!, p => Assert.Equal(0.918m, p));

        // SOURCE.md: the first raw probe period is the Can't Be Late 10-26-2022 release, inverted.
        var raw = byName["raw_probe_aws_2022/2022-10-26T22-05/us-west-2a_v100_1"];
        Assert.Equal(byName["cant_be_late/availability/1-node/aws-10-26-2022/us-west-2a_v100_1"].Data, raw.Data);
        Assert.Equal(TimeSpan.FromSeconds(600), raw.Gap);
    }

    [RealDataFact]
    public void SpotMarket_OverAllCatalogsAndTraces_MapsEverySpotOffer()
    {
        var offers = CatalogLoader.LoadMany(CatalogFiles.Select(Catalog));
        var traces = SpotTraceLoader.LoadDirectory(TestData.PathOf("spot_traces"));
        var epoch = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var market = SpotMarket.Build(offers, traces, epoch, seed: 1);
        output.WriteLine(market.Describe());

        var spot = offers.Where(o => o.SpotPerHour is not null).ToList();
        Assert.All(spot, o => Assert.InRange(market.AvailabilityFraction(o), 0.0, 1.0));
        var awsV100 = spot.Where(o => o.Cloud == "aws" && o.GpuModel == "V100").ToList();
        Assert.NotEmpty(awsV100);
        Assert.All(awsV100, o =>
        {
            var a = market.Assignments.Single(x => x.Cloud == "aws" && x.Zone == o.Zone && x.Model == "V100");
            Assert.Equal("same region, same model", a.Rule);
            Assert.Contains("_v100_", a.TraceName, StringComparison.Ordinal);
            Assert.Contains(o.Region, a.TraceName, StringComparison.Ordinal);
        });
        Assert.Contains(market.Assignments, a => a.Cloud == "gcp" && a.Model == "A100" && a.TraceName!.StartsWith("spothedge", StringComparison.Ordinal));

        // Reclaims land strictly after the query and on a down tick.
        foreach (var o in awsV100.Take(5))
        {
            var t = epoch + TimeSpan.FromHours(7);
            var r = market.NextReclaim(o, t);
            Assert.NotNull(r);
            Assert.True(r > t);
            Assert.False(market.IsAvailable(o, r!.Value));
        }

        // Same seed, same market.
        Assert.Equal(market.Describe(), SpotMarket.Build(offers, traces, epoch, seed: 1).Describe());
    }
}
