using System.Globalization;
using Gureum.Core.Cloud;
using Gureum.Cost.Allocation;
using Gureum.Cost.Focus;
using Gureum.Cost.Ledger;
using Gureum.Cost.Metering;
using Gureum.Cost.Reports;
using Microsoft.VisualBasic.FileIO;

namespace Gureum.Cost.Tests.Focus;

public sealed class FocusTests
{
    private static readonly string SamplePath = TestData.Root is null ? "" : Path.Combine(TestData.Root, "focus", "focus_sample_1.0_1000rows.csv");

    /// <summary>Σ BilledCost read with the framework's own CSV parser (not Gureum's), NULL as 0.</summary>
    private static (decimal Sum, int Rows) IndependentBilledSum(string path)
    {
        using var p = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true };
        p.SetDelimiters(",");
        var header = p.ReadFields()!;
        var i = Array.IndexOf(header, "BilledCost");
        decimal sum = 0;
        var n = 0;
        while (!p.EndOfData)
        {
            var f = p.ReadFields()!;
            sum += decimal.Parse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            n++;
        }
        return (sum, n);
    }

    [RealDataFact]
    public void Import_RealSample_ReportTotalEqualsFileBilledCostSum()
    {
        var (sum, rows) = IndependentBilledSum(TestData.PathOf("focus", "focus_sample_1.0_1000rows.csv"));
        var import = FocusImporter.Import(TestData.PathOf("focus", "focus_sample_1.0_1000rows.csv"));
        Assert.Equal("1.0", import.Version);
        Assert.Equal(rows, import.Rows.Count);
        using var ledger = CostLedger.Open(":memory:");
        ledger.AddImport("focus:sample", import);
        foreach (var by in Enum.GetValues<CostGrouping>())
        {
            var report = CostReport.Build(ledger, by, "focus:", null, null);
            Assert.Equal(sum, report.BilledUsd);
            Assert.Equal(Math.Round(sum, 2, MidpointRounding.AwayFromZero), report.Rows.Sum(r => r.Cents));
        }
        // The sample writes 'Usage-based' once in a while: accepted with a warning naming it.
        Assert.Contains(import.Warnings, w => w.Column == "ChargeFrequency" && w.Message.Contains("letter case"));
    }

    [RealDataFact]
    public void Import_SampleWithOneBadDecimal_FailsWithLineAndColumnAndImportsNothing()
    {
        var lines = File.ReadAllLines(TestData.PathOf("focus", "focus_sample_1.0_1000rows.csv"));
        lines[5] = lines[5].Replace("\"USD\"", "\"usd\"", StringComparison.Ordinal);   // BillingCurrency not ISO 4217
        var fields = lines[8].Split(',');
        fields[1] = "12,5".Replace(",", ".", StringComparison.Ordinal) + "x";             // BilledCost "12.5x"
        lines[8] = string.Join(',', fields);
        using var ledger = CostLedger.Open(":memory:");
        ledger.AddImport("focus:good", FocusImporter.Import(new StringReader(string.Join('\n', lines.Take(3))), "good.csv"));
        var e = Assert.Throws<FocusImportException>(() => FocusImporter.Import(new StringReader(string.Join('\n', lines)), "bad.csv"));
        Assert.Contains(e.Errors, x => x.Line == 9 && x.Column == "BilledCost");
        Assert.Contains(e.Errors, x => x.Line == 6 && x.Column == "BillingCurrency");
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal(2, ledger.Query("SELECT count(*) FROM billing", r => r.GetInt64(0))[0]);
    }

    [Fact]
    public void Import_MissingMandatoryColumnAndUnclosedQuote_ErrorsSayWhere()
    {
        const string header = "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,ServiceCategory";
        var e = Assert.Throws<FocusImportException>(() => FocusImporter.Import(new StringReader(header + "\n"), "x.csv"));
        Assert.Contains(e.Errors, x => x.Line == 1 && x.Column == "ServiceName");
        const string row = "1.5,acct,Acct,USD,2024-10-01 00:00:00,2024-09-01 00:00:00,Usage,NULL,d,2024-09-02 00:00:00,2024-09-01 00:00:00,1.5,1.5,AWS,1.5,1,Hours,AWS,AWS,Compute,\"EC2";
        var e2 = Assert.Throws<FocusImportException>(() => FocusImporter.Import(new StringReader(header + ",ServiceName\n" + row + "\n"), "y.csv"));
        Assert.Contains("quoted field", e2.Errors[0].Message);
        var ok = FocusImporter.Import(new StringReader(header + ",ServiceName\n" + row + "\"\n"), "z.csv");
        Assert.Equal(1.5m, ok.BilledTotal);
        var bad = Assert.Throws<FocusImportException>(() => FocusImporter.Import(new StringReader(header + ",ServiceName\n" + row.Replace("Usage", "Usages", StringComparison.Ordinal) + "\"\n"), "w.csv"));
        Assert.Contains(bad.Errors, x => x.Line == 2 && x.Column == "ChargeCategory" && x.Message.Contains("Purchase"));
    }

    internal static IReadOnlyList<CostLine> SomeLines()
    {
        var gpu = B.Offer("g4", "V100", 4, 4m, spot: 1.2m, vcpus: 32, mem: 256);
        var cpu = B.Offer("c8", null, 0, 0.4m, spot: 0.1m);
        BilledNode Bill(string id, Offer o, Market m, long s) => new()
        {
            NodeId = id, Offer = o, Market = m, Start = B.T0, BilledSeconds = s, BilledUsd = s * o.PricePerHour(m)!.Value / 3600m, Prices = [new PricePoint(B.T0, o.PricePerHour(m)!.Value)],
        };
        var usage = new[]
        {
            new Gureum.Core.Domain.UsageRecord { JobId = "j1", RunIndex = 0, NodeId = "n1", Lab = "nlp", Project = "qa", User = "kim", Start = B.T0, End = B.T0.AddHours(3),
                MilliGpus = 2000, Cpus = 4, MemoryGiB = 16, OfferId = gpu.Id, Market = Market.Spot, PricePerHourAtStart = 1.2m },
            new Gureum.Core.Domain.UsageRecord { JobId = "j2", RunIndex = 0, NodeId = "n2", Lab = "vision", Project = "det", User = "lee", Start = B.T0, End = B.T0.AddHours(1),
                MilliGpus = 0, Cpus = 2, MemoryGiB = 4, OfferId = cpu.Id, Market = Market.OnDemand, PricePerHourAtStart = 0.4m },
        };
        return CostAllocator.Allocate("replay:test", [Bill("n1", gpu, Market.Spot, 4 * 3600), Bill("n2", cpu, Market.OnDemand, 2 * 3600)], usage);
    }

    [Fact]
    public void Export_Csv_ValidatesStrictlyAgainstReference()
    {
        var table = FocusExporter.ToTable(SomeLines());
        var w = new StringWriter();
        FocusExporter.WriteCsv(table, w);
        // Read back with the framework's CSV parser: empty unquoted field = null.
        using var p = new TextFieldParser(new StringReader(w.ToString())) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true };
        p.SetDelimiters(",");
        var header = p.ReadFields()!;
        var rows = new List<IReadOnlyList<string?>>();
        while (!p.EndOfData) rows.Add(p.ReadFields()!.Select(f => f.Length == 0 ? null : f).ToArray());
        var issues = new FocusValidator(FocusReference.Embedded, "1.2", FocusStrictness.Strict).Validate(header, rows);
        Assert.Empty(issues);
        Assert.Equal(table.Rows.Count, rows.Count);
        foreach (var c in FocusReference.Embedded.Columns("1.2").Values.Where(c => c.IsMandatory)) Assert.Contains(c.Id, header);
    }

    [Fact]
    public async Task Export_Parquet_ReadsBackWithReferenceTypesAndValidates()
    {
        var table = FocusExporter.ToTable(SomeLines());
        using var ms = new MemoryStream();
        await FocusExporter.WriteParquetAsync(table, ms);
        ms.Position = 0;
        var (back, typeIssues) = await FocusExporter.ReadParquetAsync(ms, "1.2");
        Assert.Empty(typeIssues);
        var issues = new FocusValidator(FocusReference.Embedded, "1.2", FocusStrictness.Strict).Validate(back.Columns, back.Rows);
        Assert.True(issues.Count == 0, string.Join("\n", issues.Take(5)));
        var billed = back.Columns.ToList().IndexOf("BilledCost");
        Assert.Equal(SomeLines().Sum(l => l.AmountUsd), back.Rows.Sum(r => decimal.Parse(r[billed]!, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Validator_BrokenExport_ReportsEachRuleFromTheReference()
    {
        var t = FocusExporter.ToTable(SomeLines());
        var cols = t.Columns.ToList();
        var rows = t.Rows.Select(r => (string?[])r.Clone()).ToList();
        rows[0][cols.IndexOf("ChargeCategory")] = "Usages";
        rows[0][cols.IndexOf("BilledCost")] = "abc";
        rows[1][cols.IndexOf("BillingAccountId")] = null;
        rows[1][cols.IndexOf("ChargePeriodStart")] = "2024-01-01 00:00:00";
        rows[1][cols.IndexOf("Tags")] = "[1,2]";
        rows[2][cols.IndexOf("ServiceSubcategory")] = "GPUs";
        var noCurrency = cols.IndexOf("BillingCurrency");
        var header = cols.Where((_, i) => i != noCurrency).Append("Extra").ToList();
        var trimmed = rows.Select(r => (IReadOnlyList<string?>)r.Where((_, i) => i != noCurrency).Append("1").ToArray()).ToList();
        var issues = new FocusValidator(FocusReference.Embedded, "1.2", FocusStrictness.Strict).Validate(header, trimmed);
        Assert.Contains(issues, i => i.Line == 1 && i.Column == "BillingCurrency" && i.IsError);
        Assert.Contains(issues, i => i.Line == 1 && i.Column == "Extra" && i.IsError);
        Assert.Contains(issues, i => i.Line == 2 && i.Column == "ChargeCategory");
        Assert.Contains(issues, i => i.Line == 2 && i.Column == "BilledCost");
        Assert.Contains(issues, i => i.Line == 3 && i.Column == "BillingAccountId");
        Assert.Contains(issues, i => i.Line == 3 && i.Column == "ChargePeriodStart" && i.IsError);
        Assert.Contains(issues, i => i.Line == 3 && i.Column == "Tags");
        Assert.Contains(issues, i => i.Line == 4 && i.Column == "ServiceSubcategory");
        Assert.Equal(8, issues.Count);
    }

    [Fact]
    public void Ledger_ReplaceSource_ReportReconcilesAndShowsIdle()
    {
        var lines = SomeLines();
        using var ledger = CostLedger.Open(":memory:");
        ledger.ReplaceSource("replay:test", [], [], lines);
        ledger.ReplaceSource("replay:test", [], [], lines); // replacing, not adding
        var r = CostReport.Build(ledger, CostGrouping.Lab, "replay:", null, null);
        // n1: spot $1.2/h × 4 h = 4.80, j1 holds half of it for 3 h = 1.80; n2: $0.4 × 2 h, j2 holds 2/8 vCPU for 1 h = 0.10.
        Assert.Equal(1.80m, r.Rows.Single(x => x.Key == "nlp").Cents);
        Assert.Equal(0.10m, r.Rows.Single(x => x.Key == "vision").Cents);
        Assert.Equal(4.80m + 0.80m - 1.90m, r.IdleUsd);
        Assert.Equal(5.60m, r.BilledUsd);
        Assert.Equal(r.BilledUsd, r.AllocatedUsd + r.IdleUsd);
    }
}
