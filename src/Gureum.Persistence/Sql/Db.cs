using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gureum.Persistence.Sql;

/// <summary>Small ADO.NET helpers shared by both dialects. Times are stored as UTC ticks (BIGINT),
/// money as integer micro-dollars, enums by name, structured values as JSON text.</summary>
internal static class Db
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Adds a parameter named <paramref name="name"/> (written <c>@name</c> in the SQL).</summary>
    public static DbCommand P(this DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        // Microsoft.Data.Sqlite looks a bare name up as written, then with each prefix in turn, each a
        // linear scan of the statement's parameters: with hundreds of them (multi-row statements)
        // binding grew quadratic. The name as it appears in the SQL is found at the first look.
        p.ParameterName = cmd is Microsoft.Data.Sqlite.SqliteCommand && name.Length > 0 && name[0] is not ('@' or '$' or ':') ? "@" + name : name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
        return cmd;
    }

    public static long T(DateTimeOffset t) => t.UtcTicks;
    public static long? T(DateTimeOffset? t) => t?.UtcTicks;
    public static DateTimeOffset D(long ticks) => new(ticks, TimeSpan.Zero);

    public static long? Micros(decimal? usd) => usd is { } d ? (long)Math.Round(d * 1_000_000m, MidpointRounding.AwayFromZero) : null;
    public static decimal? Usd(long? micros) => micros is { } m ? m / 1_000_000m : null;

    public static string? S(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static long L(this DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
    public static long? NL(this DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
    public static double Dbl(this DbDataReader r, int i) => Convert.ToDouble(r.GetValue(i), CultureInfo.InvariantCulture);
    public static double? NDbl(this DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToDouble(r.GetValue(i), CultureInfo.InvariantCulture);
    public static DateTimeOffset Time(this DbDataReader r, int i) => D(r.L(i));
    public static DateTimeOffset? NTime(this DbDataReader r, int i) => r.IsDBNull(i) ? null : D(r.L(i));

    public static TEnum E<TEnum>(this DbDataReader r, int i) where TEnum : struct, Enum => Enum.Parse<TEnum>(r.GetString(i));

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);
    public static T FromJson<T>(string json) => JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidDataException("Stored JSON is null.");

    public static async ValueTask<int> ExecAsync(this DbCommand cmd, CancellationToken ct = default) => await cmd.ExecuteNonQueryAsync(ct);

    public static async ValueTask<long> ScalarLongAsync(this DbCommand cmd, CancellationToken ct = default) =>
        Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
}
