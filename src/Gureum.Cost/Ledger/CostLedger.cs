using System.Data.Common;
using DuckDB.NET.Data;
using Gureum.Core.Domain;
using Gureum.Cost.Allocation;
using Gureum.Cost.Focus;
using Gureum.Cost.Metering;

namespace Gureum.Cost.Ledger;

/// <summary>
/// The cost ledger: one DuckDB database file holding metered usage, node bills and allocated cost
/// lines per source (a replay policy, a live cluster) and imported FOCUS billing, with the view
/// <c>costs</c> that puts both in one shape for reports and ad-hoc SQL. Writers replace a source
/// or add an import in one transaction, so a reader never sees half of either.
/// </summary>
/// <remarks>Not thread-safe: one ledger object per caller. DuckDB lets one process write a file.</remarks>
public sealed class CostLedger : IDisposable
{
    private readonly DuckDBConnection _db;

    private CostLedger(DuckDBConnection db) => _db = db;

    /// <summary>The default ledger path: <c>$XDG_DATA_HOME/gureum/cost.duckdb</c> (else <c>~/.local/share/gureum/cost.duckdb</c>).</summary>
    public static string DefaultPath
    {
        get
        {
            var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            if (string.IsNullOrEmpty(dataHome)) dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(dataHome, "gureum", "cost.duckdb");
        }
    }

    /// <summary>Opens (creating if needed) the ledger at <paramref name="path"/>; ":memory:" for a throwaway one.</summary>
    public static CostLedger Open(string path)
    {
        if (path != ":memory:")
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        var db = new DuckDBConnection($"Data Source={path}");
        db.Open();
        var ledger = new CostLedger(db);
        ledger.Migrate();
        return ledger;
    }

    private void Migrate()
    {
        Exec("""
            CREATE TABLE IF NOT EXISTS usage (
              source VARCHAR NOT NULL, job_id VARCHAR NOT NULL, run_index INTEGER NOT NULL, node_id VARCHAR NOT NULL,
              lab VARCHAR NOT NULL, project VARCHAR NOT NULL, user_name VARCHAR NOT NULL,
              start_at TIMESTAMP NOT NULL, end_at TIMESTAMP NOT NULL, milli_gpus INTEGER NOT NULL, cpus DOUBLE NOT NULL, memory_gib DOUBLE NOT NULL,
              gpu_model VARCHAR, gpu_seconds DOUBLE NOT NULL, cpu_seconds DOUBLE NOT NULL, memory_gib_seconds DOUBLE NOT NULL,
              offer_id VARCHAR NOT NULL, market VARCHAR NOT NULL, price_per_hour DECIMAL(18,6) NOT NULL, outcome VARCHAR);
            CREATE TABLE IF NOT EXISTS node_bills (
              source VARCHAR NOT NULL, node_id VARCHAR NOT NULL, offer_id VARCHAR NOT NULL, cloud VARCHAR NOT NULL, region VARCHAR NOT NULL,
              zone VARCHAR NOT NULL, instance_type VARCHAR NOT NULL, gpu_model VARCHAR, gpu_count INTEGER NOT NULL, market VARCHAR NOT NULL,
              start_at TIMESTAMP NOT NULL, billed_seconds BIGINT NOT NULL, billed_usd DECIMAL(18,6) NOT NULL, on_demand_per_hour DECIMAL(18,6));
            CREATE TABLE IF NOT EXISTS cost_lines (
              source VARCHAR NOT NULL, day DATE NOT NULL, kind VARCHAR NOT NULL, lab VARCHAR NOT NULL, project VARCHAR NOT NULL,
              user_name VARCHAR NOT NULL, job_id VARCHAR, node_id VARCHAR NOT NULL, offer_id VARCHAR NOT NULL, cloud VARCHAR NOT NULL,
              region VARCHAR NOT NULL, zone VARCHAR NOT NULL, instance_type VARCHAR NOT NULL, gpu_model VARCHAR, market VARCHAR NOT NULL,
              amount_usd DECIMAL(18,6) NOT NULL, node_seconds DOUBLE NOT NULL, gpu_seconds DOUBLE NOT NULL, list_usd DECIMAL(18,6) NOT NULL);
            CREATE TABLE IF NOT EXISTS imports (
              source VARCHAR PRIMARY KEY, file VARCHAR NOT NULL, focus_version VARCHAR NOT NULL, rows BIGINT NOT NULL,
              billed_total DECIMAL(38,12) NOT NULL, imported_at TIMESTAMP NOT NULL);
            CREATE TABLE IF NOT EXISTS billing (
              source VARCHAR NOT NULL, row_number BIGINT NOT NULL, day DATE NOT NULL, charge_period_start TIMESTAMP NOT NULL,
              charge_period_end TIMESTAMP NOT NULL, billed_cost DECIMAL(38,12) NOT NULL, effective_cost DECIMAL(38,12),
              list_cost DECIMAL(38,12), billing_currency VARCHAR NOT NULL, charge_category VARCHAR NOT NULL, provider VARCHAR NOT NULL,
              service_name VARCHAR, service_category VARCHAR, region_id VARCHAR, availability_zone VARCHAR, sku_id VARCHAR,
              resource_id VARCHAR, resource_type VARCHAR, pricing_category VARCHAR, sub_account_name VARCHAR,
              lab VARCHAR NOT NULL, project VARCHAR NOT NULL, user_name VARCHAR NOT NULL, tags VARCHAR);
            CREATE TABLE IF NOT EXISTS budgets (
              lab VARCHAR PRIMARY KEY, monthly_usd DECIMAL(18,2) NOT NULL, thresholds VARCHAR NOT NULL);
            CREATE OR REPLACE VIEW costs AS
              SELECT source, day, kind, lab, project, user_name, offer_id AS offer, market, CAST(amount_usd AS DECIMAL(38,12)) AS amount_usd
              FROM cost_lines
              UNION ALL
              SELECT source, day, charge_category AS kind, lab, project, user_name, coalesce(sku_id, service_name, '(none)') AS offer,
                     coalesce(pricing_category, '(none)') AS market, billed_cost AS amount_usd
              FROM billing;
            """);
    }

    /// <summary>Replaces everything recorded for <paramref name="source"/> with these usage records, bills and lines, atomically.</summary>
    public void ReplaceSource(string source, IReadOnlyList<UsageRecord> usage, IReadOnlyList<BilledNode> bills, IReadOnlyList<CostLine> lines)
    {
        using var tx = _db.BeginTransaction();
        foreach (var t in new[] { "usage", "node_bills", "cost_lines" })
            Exec($"DELETE FROM {t} WHERE source = $s", ("s", source));
        using (var a = _db.CreateAppender("usage"))
        {
            foreach (var u in usage)
            {
                a.CreateRow().AppendValue(source).AppendValue(u.JobId).AppendValue(u.RunIndex).AppendValue(u.NodeId).AppendValue(u.Lab).AppendValue(u.Project)
                    .AppendValue(u.User).AppendValue(u.Start.UtcDateTime).AppendValue(u.End.UtcDateTime).AppendValue(u.MilliGpus).AppendValue(u.Cpus)
                    .AppendValue(u.MemoryGiB).AppendValue(u.GpuModel).AppendValue(u.GpuSeconds).AppendValue(u.CpuSeconds).AppendValue(u.MemoryGiBSeconds)
                    .AppendValue(u.OfferId).AppendValue(u.Market.ToString()).AppendValue(Math.Round(u.PricePerHourAtStart, 6)).AppendValue(u.Outcome?.ToString()).EndRow();
            }
        }
        using (var a = _db.CreateAppender("node_bills"))
        {
            foreach (var b in bills)
            {
                a.CreateRow().AppendValue(source).AppendValue(b.NodeId).AppendValue(b.Offer.Id).AppendValue(b.Offer.Cloud).AppendValue(b.Offer.Region)
                    .AppendValue(b.Offer.Zone).AppendValue(b.Offer.InstanceType).AppendValue(b.Offer.GpuModel).AppendValue(b.Offer.GpuCount).AppendValue(b.Market.ToString())
                    .AppendValue(b.Start.UtcDateTime).AppendValue(b.BilledSeconds).AppendValue(Math.Round(b.BilledUsd, 6, MidpointRounding.AwayFromZero))
                    .AppendValue(b.Offer.OnDemandPerHour is { } p ? Math.Round(p, 6) : (decimal?)null).EndRow();
            }
        }
        using (var a = _db.CreateAppender("cost_lines"))
        {
            foreach (var l in lines)
            {
                a.CreateRow().AppendValue(source).AppendValue(l.Day.ToDateTime(TimeOnly.MinValue)).AppendValue(l.Kind.ToString()).AppendValue(l.Lab).AppendValue(l.Project)
                    .AppendValue(l.User).AppendValue(l.JobId).AppendValue(l.NodeId).AppendValue(l.OfferId).AppendValue(l.Cloud).AppendValue(l.Region)
                    .AppendValue(l.Zone).AppendValue(l.InstanceType).AppendValue(l.GpuModel).AppendValue(l.Market.ToString()).AppendValue(l.AmountUsd)
                    .AppendValue(l.NodeSeconds).AppendValue(l.GpuSeconds).AppendValue(l.ListUsd).EndRow();
            }
        }
        tx.Commit();
    }

    /// <summary>Adds a validated FOCUS import as source <paramref name="source"/> in one transaction;
    /// an import under the same source name is replaced.</summary>
    public void AddImport(string source, FocusImport import)
    {
        using var tx = _db.BeginTransaction();
        Exec("DELETE FROM billing WHERE source = $s", ("s", source));
        Exec("DELETE FROM imports WHERE source = $s", ("s", source));
        using (var a = _db.CreateAppender("billing"))
        {
            foreach (var r in import.Rows)
            {
                a.CreateRow().AppendValue(source).AppendValue((long)r.Line).AppendValue(r.ChargePeriodStart.UtcDateTime.Date).AppendValue(r.ChargePeriodStart.UtcDateTime)
                    .AppendValue(r.ChargePeriodEnd.UtcDateTime).AppendValue(r.BilledCost).AppendValue(r.EffectiveCost).AppendValue(r.ListCost)
                    .AppendValue(r.BillingCurrency).AppendValue(r.ChargeCategory).AppendValue(r.ProviderName).AppendValue(r.ServiceName).AppendValue(r.ServiceCategory)
                    .AppendValue(r.RegionId).AppendValue(r.AvailabilityZone).AppendValue(r.SkuId).AppendValue(r.ResourceId).AppendValue(r.ResourceType)
                    .AppendValue(r.PricingCategory).AppendValue(r.SubAccountName).AppendValue(r.Lab).AppendValue(r.Project).AppendValue(r.User).AppendValue(r.Tags).EndRow();
            }
        }
        Exec("INSERT INTO imports VALUES ($s, $f, $v, $n, $t, $at)", ("s", source), ("f", import.File), ("v", import.Version), ("n", (long)import.Rows.Count),
            ("t", import.BilledTotal), ("at", DateTime.UtcNow));
        tx.Commit();
    }

    /// <summary>Sources in the ledger with their totals (cost lines and imports).</summary>
    public IReadOnlyList<(string Source, decimal Usd)> Sources() =>
        Query("SELECT source, sum(amount_usd) FROM costs GROUP BY source ORDER BY source", r => (r.GetString(0), r.GetDecimal(1)));

    /// <summary>Σ node bills of a replay/live source (rounded to the micro-dollar per bill), or null when it has none.</summary>
    public decimal? BilledTotal(string source, DateOnly? since = null, DateOnly? until = null) =>
        Query("SELECT sum(amount_usd) FROM cost_lines WHERE source = $s AND ($a IS NULL OR day >= $a) AND ($b IS NULL OR day < $b)",
            r => r.IsDBNull(0) ? (decimal?)null : r.GetDecimal(0), ("s", source), ("a", since?.ToDateTime(TimeOnly.MinValue)), ("b", until?.ToDateTime(TimeOnly.MinValue)))[0];

    /// <summary>Σ of the node bills table of a source (independent of the allocation).</summary>
    public decimal NodeBillsTotal(string source) =>
        Query("SELECT coalesce(sum(billed_usd), 0) FROM node_bills WHERE source = $s", r => r.GetDecimal(0), ("s", source))[0];

    /// <summary>The allocated cost lines of sources starting with <paramref name="source"/> (null = all), days in [since, until).</summary>
    public IReadOnlyList<CostLine> Lines(string? source, DateOnly? since = null, DateOnly? until = null) =>
        Query("""
            SELECT source, day, kind, lab, project, user_name, job_id, node_id, offer_id, cloud, region, zone, instance_type, gpu_model, market,
                   amount_usd, node_seconds, gpu_seconds, list_usd
            FROM cost_lines WHERE ($src IS NULL OR starts_with(source, $src)) AND ($a IS NULL OR day >= $a) AND ($b IS NULL OR day < $b)
            ORDER BY source, day, node_id, kind, job_id
            """,
            r => new CostLine
            {
                Source = r.GetString(0), Day = DateOnly.FromDateTime(r.GetDateTime(1)), Kind = Enum.Parse<CostKind>(r.GetString(2)), Lab = r.GetString(3),
                Project = r.GetString(4), User = r.GetString(5), JobId = r.IsDBNull(6) ? null : r.GetString(6), NodeId = r.GetString(7), OfferId = r.GetString(8),
                Cloud = r.GetString(9), Region = r.GetString(10), Zone = r.GetString(11), InstanceType = r.GetString(12), GpuModel = r.IsDBNull(13) ? null : r.GetString(13),
                Market = Enum.Parse<Gureum.Core.Cloud.Market>(r.GetString(14)), AmountUsd = r.GetDecimal(15), NodeSeconds = r.GetDouble(16), GpuSeconds = r.GetDouble(17),
                ListUsd = r.GetDecimal(18),
            },
            ("src", source), ("a", since?.ToDateTime(TimeOnly.MinValue)), ("b", until?.ToDateTime(TimeOnly.MinValue)));

    /// <summary>The usage records of exactly <paramref name="source"/> (runs overlapping [since, until) when given).</summary>
    public IReadOnlyList<UsageRecord> Usage(string source, DateOnly? since = null, DateOnly? until = null) =>
        Query("""
            SELECT job_id, run_index, node_id, lab, project, user_name, start_at, end_at, milli_gpus, cpus, memory_gib, gpu_model, offer_id, market, price_per_hour, outcome
            FROM usage WHERE source = $src AND ($a IS NULL OR end_at >= $a) AND ($b IS NULL OR start_at < $b)
            ORDER BY start_at, job_id, run_index, node_id
            """,
            r => new UsageRecord
            {
                JobId = r.GetString(0), RunIndex = r.GetInt32(1), NodeId = r.GetString(2), Lab = r.GetString(3), Project = r.GetString(4), User = r.GetString(5),
                Start = new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(6), DateTimeKind.Utc)), End = new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(7), DateTimeKind.Utc)),
                MilliGpus = r.GetInt32(8), Cpus = r.GetDouble(9), MemoryGiB = r.GetDouble(10), GpuModel = r.IsDBNull(11) ? null : r.GetString(11), OfferId = r.GetString(12),
                Market = Enum.Parse<Gureum.Core.Cloud.Market>(r.GetString(13)), PricePerHourAtStart = r.GetDecimal(14),
                Outcome = r.IsDBNull(15) ? null : Enum.Parse<RunOutcome>(r.GetString(15)),
            },
            ("src", source), ("a", since?.ToDateTime(TimeOnly.MinValue)), ("b", until?.ToDateTime(TimeOnly.MinValue)));

    /// <summary>The billed spans of exactly <paramref name="source"/>'s nodes (for the pool anomaly metrics), billed in [since, until) when given.</summary>
    public IReadOnlyList<Anomalies.NodeSpan> NodeSpans(string source, DateOnly? since = null, DateOnly? until = null) =>
        Query("""
            SELECT node_id, offer_id, market, gpu_count, start_at, billed_seconds FROM node_bills
            WHERE source = $src AND ($a IS NULL OR start_at + to_seconds(billed_seconds) >= $a) AND ($b IS NULL OR start_at < $b)
            ORDER BY start_at, node_id
            """,
            r =>
            {
                var start = new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc));
                return new Anomalies.NodeSpan(r.GetString(0), Anomalies.MetricAnomalies.PoolOf(r.GetString(1), Enum.Parse<Gureum.Core.Cloud.Market>(r.GetString(2))),
                    r.GetInt32(3), start, start.AddSeconds(r.GetInt64(5)));
            },
            ("src", source), ("a", since?.ToDateTime(TimeOnly.MinValue)), ("b", until?.ToDateTime(TimeOnly.MinValue)));

    /// <summary>Runs a read query; each row mapped by <paramref name="map"/>.</summary>
    public IReadOnlyList<T> Query<T>(string sql, Func<DbDataReader, T> map, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(map(r));
        return list;
    }

    /// <summary>Runs any SQL and returns column names and rows as strings (for <c>gureum cost sql</c>).</summary>
    public (string[] Columns, List<string?[]> Rows) Sql(string sql, int maxRows)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var cols = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
        var rows = new List<string?[]>();
        while (r.Read() && rows.Count < maxRows)
        {
            var row = new string?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : Format(r.GetValue(i));
            rows.Add(row);
        }
        return (cols, rows);
    }

    private static string? Format(object v) => v switch
    {
        DateTime d => d.ToString(d.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString(),
    };

    /// <summary>Sets (or replaces) a lab's monthly budget.</summary>
    public void SetBudget(Budgets.LabBudget budget)
    {
        Exec("INSERT OR REPLACE INTO budgets VALUES ($l, $m, $t)", ("l", budget.Lab), ("m", budget.MonthlyUsd),
            ("t", string.Join(',', budget.Thresholds.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)))));
    }

    /// <summary>Every lab budget.</summary>
    public IReadOnlyList<Budgets.LabBudget> Budgets() =>
        Query("SELECT lab, monthly_usd, thresholds FROM budgets ORDER BY lab", r => new Budgets.LabBudget(r.GetString(0), r.GetDecimal(1),
            r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => decimal.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()));

    private DuckDBCommand Command(string sql, (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.Add(new DuckDBParameter(n, v ?? DBNull.Value));
        return cmd;
    }

    private void Exec(string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(sql, args);
        cmd.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose() => _db.Dispose();
}
