using System.Globalization;
using System.Text;
using System.Text.Json;
using Gureum.Core.Cloud;
using Gureum.Cost.Allocation;
using Parquet;
using Parquet.Schema;

namespace Gureum.Cost.Focus;

/// <summary>A FOCUS table in canonical text form: decimals invariant, timestamps ISO 8601 UTC with 'Z', null as null.</summary>
public sealed record FocusTable(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows);

/// <summary>
/// Exports Gureum's allocated costs as FOCUS 1.2: one row per cost line (node × UTC day × job, or the
/// node's idle share). Provider/publisher/invoice issuer: the cloud of the node; billing account
/// "gureum"; sub-account: the lab (type "Lab"); PricingCategory Standard for on-demand, Dynamic for
/// spot; PricingUnit/ConsumedUnit "Hours" of node time held; ListCost at the on-demand price;
/// lab/project/user/job in Tags (gureum-lab, gureum-project, gureum-user, gureum-job); idle lines
/// are tagged gureum-idle=true and x_GureumKind=Idle.
/// </summary>
public static class FocusExporter
{
    public const string Version = "1.2";

    private static readonly (string Name, Func<CostLine, string?> Value)[] Map =
    [
        ("AvailabilityZone", l => l.Zone),
        ("BilledCost", l => Dec(l.AmountUsd)),
        ("BillingAccountId", _ => "gureum"),
        ("BillingAccountName", _ => "Gureum GPU cloud"),
        ("BillingAccountType", _ => "Institute"),
        ("BillingCurrency", _ => "USD"),
        ("BillingPeriodEnd", l => Time(new DateTimeOffset(l.Day.Year, l.Day.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1))),
        ("BillingPeriodStart", l => Time(new DateTimeOffset(l.Day.Year, l.Day.Month, 1, 0, 0, 0, TimeSpan.Zero))),
        ("ChargeCategory", _ => "Usage"),
        ("ChargeClass", _ => null),
        ("ChargeDescription", l => l.Kind == CostKind.Idle
            ? $"Idle share of {l.InstanceType} node {l.NodeId} ({Market(l.Market)})"
            : $"Job {l.JobId} share of {l.InstanceType} node {l.NodeId} ({Market(l.Market)})"),
        ("ChargeFrequency", _ => "Usage-Based"),
        ("ChargePeriodEnd", l => Time(new DateTimeOffset(l.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1))),
        ("ChargePeriodStart", l => Time(new DateTimeOffset(l.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero))),
        ("CommitmentDiscountCategory", _ => null),
        ("CommitmentDiscountId", _ => null),
        ("CommitmentDiscountName", _ => null),
        ("CommitmentDiscountStatus", _ => null),
        ("CommitmentDiscountType", _ => null),
        ("ConsumedQuantity", l => Dec(Math.Round((decimal)l.NodeSeconds / 3600m, 9))),
        ("ConsumedUnit", _ => "Hours"),
        ("ContractedCost", l => Dec(l.AmountUsd)),
        ("EffectiveCost", l => Dec(l.AmountUsd)),
        ("InvoiceIssuerName", l => l.Cloud),
        ("ListCost", l => Dec(l.ListUsd)),
        ("PricingCategory", l => l.Market == Core.Cloud.Market.Spot ? "Dynamic" : "Standard"),
        ("PricingCurrency", _ => "USD"),
        ("PricingQuantity", l => Dec(Math.Round((decimal)l.NodeSeconds / 3600m, 9))),
        ("PricingUnit", _ => "Hours"),
        ("ProviderName", l => l.Cloud),
        ("PublisherName", l => l.Cloud),
        ("RegionId", l => l.Region),
        ("RegionName", l => l.Region),
        ("ResourceId", l => l.NodeId),
        ("ResourceName", l => l.NodeId),
        ("ResourceType", _ => "Virtual Machine"),
        ("ServiceCategory", l => l.GpuModel is null ? "Compute" : "AI and Machine Learning"),
        ("ServiceName", _ => "Gureum GPU pool"),
        ("ServiceSubcategory", l => l.GpuModel is null ? "Virtual Machines" : "AI Platforms"),
        ("SkuId", l => l.InstanceType),
        ("SkuPriceId", l => $"{l.OfferId}/{Market(l.Market)}"),
        ("SubAccountId", l => l.Lab),
        ("SubAccountName", l => l.Lab),
        ("SubAccountType", _ => "Lab"),
        ("Tags", Tags),
        ("x_GureumKind", l => l.Kind.ToString()),
        ("x_GureumSource", l => l.Source),
    ];

    /// <summary>The FOCUS 1.2 table of <paramref name="lines"/>.</summary>
    public static FocusTable ToTable(IEnumerable<CostLine> lines) =>
        new(Map.Select(m => m.Name).ToList(), lines.Select(l => Map.Select(m => m.Value(l)).ToArray()).ToList());

    /// <summary>Writes RFC 4180 CSV: every non-null value quoted, null as an empty unquoted field.</summary>
    public static void WriteCsv(FocusTable table, TextWriter w)
    {
        w.Write(string.Join(',', table.Columns.Select(Quote)));
        w.Write("\r\n");
        foreach (var row in table.Rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0) w.Write(',');
                if (row[i] is { } v) w.Write(Quote(v));
            }
            w.Write("\r\n");
        }
    }

    private static string Quote(string v) => "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The Parquet type of a FOCUS column from the reference's data type: Decimal → decimal(38,12),
    /// Date/Time → timestamp (UTC), everything else (String, JSON) → UTF-8 string; all nullable.</summary>
    public static DataField FieldFor(string column, FocusReference reference, string version)
    {
        var type = reference.Columns(version).TryGetValue(column, out var c) ? c.DataType : "String";
        return type switch
        {
            "Decimal" => new DecimalDataField(column, 38, 12, forceByteArrayEncoding: false, isNullable: true),
            "Date/Time" => new DateTimeDataField(column, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
            _ => new DataField<string>(column, true),
        };
    }

    /// <summary>Writes Parquet with column types from the FOCUS reference (one row group).</summary>
    public static async Task WriteParquetAsync(FocusTable table, Stream output, FocusReference? reference = null, CancellationToken ct = default)
    {
        reference ??= FocusReference.Embedded;
        var fields = table.Columns.Select(c => FieldFor(c, reference, Version)).ToArray();
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), output, cancellationToken: ct);
        using var rg = writer.CreateRowGroup();
        for (var i = 0; i < fields.Length; i++)
        {
            var col = table.Rows.Select(r => r[i]).ToArray();
            switch (fields[i])
            {
                case DecimalDataField:
                    await rg.WriteAsync<decimal>(fields[i], col.Select(v => v is null ? (decimal?)null : decimal.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray(), cancellationToken: ct);
                    break;
                case DateTimeDataField:
                    await rg.WriteAsync<DateTime>(fields[i], col.Select(v => v is null ? (DateTime?)null : DateTimeOffset.Parse(v, CultureInfo.InvariantCulture).UtcDateTime).ToArray(), cancellationToken: ct);
                    break;
                default:
                    await rg.WriteAsync(fields[i], col!);
                    break;
            }
        }
    }

    /// <summary>
    /// Reads a Parquet file back into canonical text, and reports columns whose Parquet type does not
    /// match the reference's data type (a Decimal column stored as text is an error).
    /// </summary>
    public static async Task<(FocusTable Table, IReadOnlyList<FocusIssue> TypeIssues)> ReadParquetAsync(Stream input, string version, FocusReference? reference = null, CancellationToken ct = default)
    {
        reference ??= FocusReference.Embedded;
        await using var reader = await ParquetReader.CreateAsync(input, cancellationToken: ct);
        var fields = reader.Schema.GetDataFields();
        var issues = new List<FocusIssue>();
        var cols = new List<string?[]>();
        foreach (var f in fields)
        {
            var expected = reference.Columns(version).TryGetValue(f.Name, out var c) ? c.DataType : null;
            var actual = f.ClrType;
            var ok = expected switch
            {
                "Decimal" => actual == typeof(decimal) || actual == typeof(double),
                "Date/Time" => actual == typeof(DateTime) || actual == typeof(DateTimeOffset),
                "String" or "JSON" => actual == typeof(string) || actual == typeof(ReadOnlyMemory<char>),
                _ => true,
            };
            if (!ok) issues.Add(new FocusIssue(1, f.Name, $"Parquet type {actual.Name} does not hold FOCUS {expected}.", true));
        }
        var columns = fields.Select(f => f.Name).ToList();
        var rows = new List<string?[]>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            var n = (int)rg.RowCount;
            var block = new string?[fields.Length][];
            for (var i = 0; i < fields.Length; i++)
            {
                var f = fields[i];
                if (f.ClrType == typeof(decimal))
                {
                    var buf = new decimal?[n];
                    await rg.ReadAsync<decimal>(f, buf, cancellationToken: ct);
                    block[i] = buf.Select(v => v is { } d ? Dec(d) : null).ToArray();
                }
                else if (f.ClrType == typeof(DateTime))
                {
                    var buf = new DateTime?[n];
                    await rg.ReadAsync<DateTime>(f, buf, cancellationToken: ct);
                    block[i] = buf.Select(v => v is { } d ? Time(new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc))) : null).ToArray();
                }
                else
                {
                    var buf = new string[n];
                    await rg.ReadAsync(f, buf, cancellationToken: ct);
                    block[i] = buf;
                }
            }
            for (var r = 0; r < n; r++) rows.Add(block.Select(b => b[r]).ToArray());
        }
        return (new FocusTable(columns, rows), issues);
    }

    private static string Market(Market m) => m == Core.Cloud.Market.Spot ? "spot" : "on-demand";

    private static string Dec(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Tags(CostLine l)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (l.Kind == CostKind.Idle) d["gureum-idle"] = "true";
        else
        {
            d["gureum-lab"] = l.Lab;
            d["gureum-project"] = l.Project;
            d["gureum-user"] = l.User;
            if (l.JobId is not null) d["gureum-job"] = l.JobId;
        }
        return JsonSerializer.Serialize(d);
    }
}
