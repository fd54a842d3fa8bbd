using Gureum.Core.Cloud;
using Gureum.Simulation.Cloud;

namespace Gureum.Simulation.Tests.Cloud;

public sealed class CatalogLoaderTests
{
    private const string AwsHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone";
    private const string GcpHeader = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice";
    private const string AzureHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation";
    private const string LambdaHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice";
    private const string VastHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region";

    private static CatalogLoadResult Parse(string text, CatalogOptions? options = null) =>
        CatalogLoader.Parse(new StringReader(text), "fixture.csv", options);

    [Fact]
    public void Parse_AwsRows_OneOfferPerZoneWithGpuMemoryAndPrices()
    {
        var result = Parse($"""
            {AwsHeader}
            p3.8xlarge,V100,4.0,32.0,244.0,"{"{'Gpus': [{'Name': 'V100', 'Count': 4, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 65536}"}",12.24,1.802900,us-east-1,use1-az1
            m7i.xlarge,,,4.0,16.0,,0.2016,,us-east-1,use1-az2
            """);

        Assert.Equal(CatalogFormat.Aws, result.Format);
        Assert.Collection(result.Offers,
            o =>
            {
                Assert.Equal("aws/use1-az1/p3.8xlarge", o.Id);
                Assert.Equal("us-east-1", o.Region);
                Assert.Equal("V100", o.GpuModel);
                Assert.Equal(4, o.GpuCount);
                Assert.Equal(16, o.GpuMemoryGiB);
                Assert.Equal(32, o.VCpus);
                Assert.Equal(12.24m, o.OnDemandPerHour);
                Assert.Equal(1.8029m, o.SpotPerHour);
                Assert.Equal(TimeSpan.FromSeconds(120), o.BootDelay);
            },
            o =>
            {
                Assert.Null(o.GpuModel);
                Assert.Equal(0, o.GpuCount);
                Assert.Null(o.SpotPerHour);
            });
    }

    [Fact]
    public void Parse_AwsDuplicateRowsForOneZone_MergedFirstPriceWins()
    {
        // The upstream p4de quirk: two rows per AZ, one with a spot price and one without.
        var result = Parse($"""
            {AwsHeader}
            p4de.24xlarge,A100-80GB,8.0,96.0,1152.0,,40.96575,7.807400,us-east-1,use1-az4
            p4de.24xlarge,A100-80GB,8.0,96.0,1152.0,,40.96575,,us-east-1,use1-az4
            p4de.24xlarge,A100-80GB,8.0,96.0,1152.0,,40.96575,,us-east-1,use1-az1
            p4de.24xlarge,A100-80GB,8.0,96.0,1152.0,,40.96575,5.5,us-east-1,use1-az1
            """);

        Assert.Equal(2, result.Offers.Count);
        Assert.Equal(2, result.DuplicatesMerged);
        Assert.All(result.Offers, o => Assert.NotNull(o.SpotPerHour));
        Assert.Equal(80, result.Offers[0].GpuMemoryGiB); // datasheet fallback: no GpuInfo
    }

    [Fact]
    public void Parse_RowWithNoPrice_SkippedAndCounted()
    {
        var result = Parse($"""
            {AwsHeader}
            p5e.48xlarge,H200,8.0,192.0,2048.0,,,16.3895,us-east-2,use2-az1
            p5e.48xlarge,H200,8.0,192.0,2048.0,,,,us-east-2,use2-az2
            """);

        var offer = Assert.Single(result.Offers);
        Assert.Null(offer.OnDemandPerHour);
        Assert.Equal(16.3895m, offer.SpotPerHour);
        Assert.Equal(1, result.SkippedNoPrice);
    }

    [Fact]
    public void Parse_GcpHostAndAcceleratorRows_JoinedPerZoneAndCount()
    {
        var result = Parse($"""
            {GcpHeader}
            a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975
            a2-highgpu-2g,24.0,170.0,,,,us-central1,us-central1-a,1.47896,0.7395
            n1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.38,0.13954
            ,,,A100,1,"{"{'Gpus': [{'MemoryInfo': {'SizeInMiB': 40960}}]}"}",us-central1,us-central1-a,2.93391,1.4341
            ,,,T4,1,"{"{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}"}",us-central1,us-central1-a,0.35,0.1654
            ,,,V100,2,,us-central1,us-central1-a,4.96,
            ,,,P100,1,,us-central1,us-central1-f,1.46,0.584
            """);

        var byType = result.Offers.ToDictionary(o => o.InstanceType);
        // Worked example from SOURCE.md: 0.73948 + 2.93391 = 3.67339 $/h on demand.
        var a2 = byType["a2-highgpu-1g"];
        Assert.Equal(3.67339m, a2.OnDemandPerHour);
        Assert.Equal(0.36975m + 1.4341m, a2.SpotPerHour);
        Assert.Equal(("A100", 1, 40.0), (a2.GpuModel, a2.GpuCount, a2.GpuMemoryGiB));
        Assert.Equal(12, a2.VCpus);
        Assert.Equal("gcp/us-central1-a/a2-highgpu-1g", a2.Id);

        Assert.Equal(0.73m, byType["n1-standard-8+T4:1"].OnDemandPerHour);
        Assert.Equal(0.30494m, byType["n1-standard-8+T4:1"].SpotPerHour);
        Assert.Equal(5.34m, byType["n1-standard-8+V100:2"].OnDemandPerHour);
        Assert.Null(byType["n1-standard-8+V100:2"].SpotPerHour); // accelerator has no spot price
        Assert.Null(byType["n1-standard-8"].GpuModel); // the host alone is a CPU offer
        Assert.Equal(0.38m, byType["n1-standard-8"].OnDemandPerHour);

        Assert.False(byType.ContainsKey("a2-highgpu-2g"));
        Assert.Equal(1, result.HostRowsWithoutAccelerator);
        Assert.Equal(1, result.AcceleratorRowsUnjoined); // P100 in us-central1-f has no host there
        Assert.Equal(4, result.Offers.Count);
    }

    [Fact]
    public void Parse_AzureElevenFieldV1V2Generation_Accepted()
    {
        var result = Parse($"""
            {AzureHeader}
            Standard_NC6s_v3,V100,1,6,112,V100,3.06,0.3,eastus,V1,V2
            Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100-80GB,3.673,0.73,eastus,V2
            Standard_D4s_v5,,,4,16,,0.192,0.040723,eastus,V1,V2
            Standard_NV6ads_A10_v5,A10,0.167,6,55,A10,0.454,0.0908,eastus,V2
            """);

        Assert.Equal(CatalogFormat.Azure, result.Format);
        Assert.Equal(1, result.SkippedFractionalGpu);
        Assert.Equal(3, result.Offers.Count);
        var v100 = result.Offers[0];
        Assert.Equal(("azure", "eastus", "eastus"), (v100.Cloud, v100.Region, v100.Zone));
        Assert.Equal(16, v100.GpuMemoryGiB);
        Assert.Equal(TimeSpan.FromSeconds(180), v100.BootDelay);
        Assert.Equal("A100-80GB", result.Offers[1].GpuModel);
    }

    [Fact]
    public void Parse_AzureTwelveFields_ThrowsNamingLineAndColumn()
    {
        var e = Assert.Throws<CatalogFormatException>(() => Parse($"""
            {AzureHeader}
            Standard_NC6s_v3,V100,1,6,112,V100,3.06,0.3,eastus,V1,V2
            Standard_NC6s_v3,V100,1,6,112,V100,3.06,0.3,eastus,V1,V2,V3
            """));

        Assert.Equal(3, e.Line);
        Assert.Equal(11, e.Column);
        Assert.Contains("fixture.csv: line 3", e.Message);
        Assert.Contains("To fix:", e.Message);
    }

    [Fact]
    public void Parse_LambdaRows_OnDemandOnlyZoneIsRegion()
    {
        var result = Parse($"""
            {LambdaHeader}
            gpu_1x_h100_pcie,H100,1.0,26.0,200.0,3.29,us-east-1,"{"{'Gpus': [{'Name': 'H100', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 81920}"}",
            gpu_8x_v100,V100,8.0,92.0,448.0,6.8,us-east-1,"{"{'Gpus': [{'Name': 'V100', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}"}",
            """);

        Assert.Equal(16, result.Offers[1].GpuMemoryGiB); // Lambda's "total" repeats the per-GPU size
        var o = result.Offers[0];
        Assert.Equal(("lambda", "us-east-1", "H100", 80.0), (o.Cloud, o.Zone, o.GpuModel, o.GpuMemoryGiB));
        Assert.Equal(3.29m, o.OnDemandPerHour);
        Assert.Null(o.SpotPerHour);
        Assert.Equal(TimeSpan.FromSeconds(300), o.BootDelay);
    }

    [Fact]
    public void Parse_VastZeroSpot_IsNoSpotAndMemoryFromTotal()
    {
        var result = Parse($"""
            {VastHeader}
            2x-RTX_5090-32-65536,RTX5090,2,32,64.0,"{"{'Gpus': [{'Name': 'RTX5090', 'Count': 2, 'MemoryInfo': {'SizeInMiB': 65214}}], 'TotalGpuMemoryInMiB': 65214}"}",0.93,0.00,"Taiwan, TW, AS"
            1x-RTX_A6000,RTXA6000,1,16,64.0,,0.40,0.25,"Georgia, US, NA"
            """);

        var o = result.Offers[0];
        Assert.Null(o.SpotPerHour);
        Assert.Equal("Taiwan, TW, AS", o.Zone);
        Assert.Equal(31.84, o.GpuMemoryGiB, 2);
        Assert.Equal("A6000", result.Offers[1].GpuModel);
        Assert.Equal(0.25m, result.Offers[1].SpotPerHour);
    }

    [Fact]
    public void Parse_NonNumericPrice_ThrowsNamingFileLineColumnAndFix()
    {
        var e = Assert.Throws<CatalogFormatException>(() => Parse($"""
            {AwsHeader}
            g4dn.xlarge,T4,1.0,4.0,16.0,,0.526,0.2,us-east-1,use1-az1
            g4dn.xlarge,T4,1.0,4.0,16.0,,$0.526,0.2,us-east-1,use1-az2
            """));

        Assert.Equal(("fixture.csv", 3, 7), (e.File, e.Line, e.Column));
        Assert.Contains("line 3, column 7", e.Message);
        Assert.Contains("(Price)", e.Message);
        Assert.Contains("'$0.526'", e.Message);
        Assert.Contains("To fix:", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void Parse_WrongFieldCount_ThrowsWithLine()
    {
        var e = Assert.Throws<CatalogFormatException>(() => Parse($"""
            {AwsHeader}
            g4dn.xlarge,T4,1.0,4.0,16.0,0.526,0.2,us-east-1,use1-az1
            """));

        Assert.Equal(2, e.Line);
        Assert.Contains("expected 10 fields", e.Message);
    }

    [Fact]
    public void Parse_UnclosedQuote_ThrowsWithColumn()
    {
        var e = Assert.Throws<CatalogFormatException>(() => Parse($"""
            {AwsHeader}
            g4dn.xlarge,T4,1.0,4.0,16.0,"{"{'Gpus': []"},0.526,0.2,us-east-1,use1-az1
            """));

        Assert.Equal((2, 6), (e.Line, e.Column));
    }

    [Fact]
    public void Parse_UnknownHeader_ThrowsListingKnownHeaders()
    {
        var e = Assert.Throws<CatalogFormatException>(() => Parse("Name,Price\nx,1\n"));
        Assert.Equal(1, e.Line);
        Assert.Contains("AvailabilityZone", e.Message);
    }

    [Fact]
    public void Load_FromFile_ErrorNamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gureum-catalog-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, $"{AwsHeader}\ng4dn.xlarge,T4,one,4.0,16.0,,0.526,0.2,us-east-1,use1-az1\n");
        try
        {
            var e = Assert.Throws<CatalogFormatException>(() => CatalogLoader.Load(path));
            Assert.StartsWith(path, e.Message);
            Assert.Equal(3, e.Column);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_Options_OverrideBootDelayAndSetCapacity()
    {
        var options = new CatalogOptions
        {
            BootDelayOverrides = new Dictionary<string, TimeSpan> { ["p5.48xlarge"] = TimeSpan.FromMinutes(10), ["n1-standard-8"] = TimeSpan.FromSeconds(90) },
            CapacityLimit = 4,
        };
        var aws = Parse($"{AwsHeader}\np5.48xlarge,H100,8.0,192.0,2048.0,,98.32,30.3,us-east-1,use1-az1\ng4dn.xlarge,T4,1.0,4.0,16.0,,0.526,0.2,us-east-1,use1-az1\n", options);
        Assert.Equal(TimeSpan.FromMinutes(10), aws.Offers[0].BootDelay);
        Assert.Equal(TimeSpan.FromSeconds(120), aws.Offers[1].BootDelay);
        Assert.All(aws.Offers, o => Assert.Equal(4, o.CapacityLimit));

        var gcp = Parse($"{GcpHeader}\nn1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.38,0.13954\n,,,T4,1,,us-central1,us-central1-a,0.35,0.1654\n", options);
        Assert.All(gcp.Offers, o => Assert.Equal(TimeSpan.FromSeconds(90), o.BootDelay)); // combo inherits its host's override
    }

    [Fact]
    public void LoadDefault_EmbeddedCatalog_HasTwelveOffersAcrossModels()
    {
        var offers = CatalogLoader.LoadDefault();

        Assert.Equal(12, offers.Count);
        Assert.All(offers, o => Assert.Equal("aws", o.Cloud));
        Assert.All(offers, o => Assert.True(o.SpotPerHour < o.OnDemandPerHour));
        Assert.Equal(["A100", "CPU", "H100", "T4", "V100"], offers.Select(o => o.GpuModel ?? "CPU").Distinct().Order());
        Assert.Equal(3, offers.Select(o => o.Zone).Distinct().Count());
    }

    [Fact]
    public void LoadMany_TwoFiles_Concatenated()
    {
        var dir = Directory.CreateTempSubdirectory("gureum-catalogs-");
        try
        {
            var a = Path.Combine(dir.FullName, "a.csv");
            var b = Path.Combine(dir.FullName, "b.csv");
            File.WriteAllText(a, $"{AwsHeader}\ng4dn.xlarge,T4,1.0,4.0,16.0,,0.526,0.2,us-east-1,use1-az1\n");
            File.WriteAllText(b, $"{LambdaHeader}\ngpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,,\n");

            IReadOnlyList<Offer> offers = CatalogLoader.LoadMany([a, b]);

            Assert.Equal(["aws", "lambda"], offers.Select(o => o.Cloud));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
