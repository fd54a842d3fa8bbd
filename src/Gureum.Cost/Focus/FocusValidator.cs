using System.Globalization;
using System.Text.Json;

namespace Gureum.Cost.Focus;

/// <summary>How strictly a FOCUS file is checked.</summary>
public enum FocusStrictness
{
    /// <summary>What an exporter must produce: ISO 8601 UTC timestamps with 'Z', allowed values exactly,
    /// non-spec columns prefixed <c>x_</c>.</summary>
    Strict,
    /// <summary>What real exports carry and an importer accepts: also 'YYYY-MM-DD HH:MM:SS' (read as UTC),
    /// allowed values differing only in letter case, and extra columns — each reported as a warning.</summary>
    Import,
}

/// <summary>A problem found in a FOCUS file: line (1 = header), column, what is wrong and how to fix it.</summary>
public sealed record FocusIssue(int Line, string? Column, string Message, bool IsError)
{
    public override string ToString() => $"line {Line}{(Column is null ? "" : $", column {Column}")}: {Message}";
}

/// <summary>
/// Checks FOCUS data against the column reference: every Mandatory column of the version present;
/// per value: nulls only where the column allows them ("NULL" and empty are null), Decimal parses
/// as a number, Date/Time as ISO 8601 UTC, JSON as a JSON object, Currency Format as a three-letter
/// upper-case code, and columns whose value format is "Allowed values" hold one of the listed values.
/// </summary>
public sealed class FocusValidator(FocusReference reference, string version, FocusStrictness strictness)
{
    private static readonly string[] StrictTimeFormats = ["yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ"];
    private static readonly string[] ImportTimeFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd"];

    public string Version => version;

    /// <summary>Header problems: missing Mandatory columns, duplicated names, non-spec columns.</summary>
    public IReadOnlyList<FocusIssue> CheckHeader(IReadOnlyList<string> header)
    {
        var issues = new List<FocusIssue>();
        var cols = reference.Columns(version);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in header)
        {
            if (!seen.Add(h)) issues.Add(new FocusIssue(1, h, $"column '{h}' appears twice. To fix: keep one.", true));
            if (!cols.ContainsKey(h) && !h.StartsWith("x_", StringComparison.Ordinal))
                issues.Add(new FocusIssue(1, h, $"'{h}' is not a FOCUS {version} column and is not prefixed x_ as custom columns must be.", strictness == FocusStrictness.Strict));
        }
        foreach (var c in cols.Values.Where(c => c.IsMandatory).OrderBy(c => c.Id, StringComparer.Ordinal))
            if (!seen.Contains(c.Id)) issues.Add(new FocusIssue(1, c.Id, $"Mandatory FOCUS {version} column '{c.Id}' is missing. To fix: add it (see the FOCUS column reference).", true));
        return issues;
    }

    /// <summary>True when a raw cell is null in FOCUS CSV (empty or the literal NULL).</summary>
    public static bool IsNull(string? v) => v is null || v.Length == 0 || v == "NULL";

    /// <summary>Checks one value of a spec column; adds issues. Non-spec columns are not checked.</summary>
    public void CheckValue(int line, string column, string? raw, List<FocusIssue> issues)
    {
        if (!reference.Columns(version).TryGetValue(column, out var c)) return;
        if (IsNull(raw))
        {
            if (!c.AllowsNulls) issues.Add(new FocusIssue(line, column, $"is null but {column} does not allow nulls. To fix: give a value.", true));
            return;
        }
        var v = raw!;
        switch (c.DataType)
        {
            case "Decimal":
                if (!TryDecimal(v, out _)) issues.Add(new FocusIssue(line, column, $"'{Clip(v)}' is not a decimal number. To fix: write it like 12.34 (invariant culture, no currency sign).", true));
                break;
            case "Date/Time":
                if (!TryTime(v, FocusStrictness.Strict, out _))
                {
                    var ok = strictness == FocusStrictness.Import && TryTime(v, FocusStrictness.Import, out _);
                    issues.Add(new FocusIssue(line, column, ok
                        ? $"'{v}' is not ISO 8601 UTC with 'Z'; read as UTC."
                        : $"'{Clip(v)}' is not a date/time. To fix: write ISO 8601 UTC, e.g. 2024-09-01T00:00:00Z.", !ok));
                }
                break;
            case "JSON":
                if (!IsJsonObject(v)) issues.Add(new FocusIssue(line, column, $"'{Clip(v)}' is not a JSON object. To fix: write key-value pairs as {{\"key\": \"value\"}}.", true));
                break;
        }
        if (c.ValueFormat.StartsWith("Currency", StringComparison.OrdinalIgnoreCase) && !(v.Length == 3 && v.All(char.IsAsciiLetterUpper)))
            issues.Add(new FocusIssue(line, column, $"'{Clip(v)}' is not an ISO 4217 currency code. To fix: write e.g. USD.", true));
        if (c.HasAllowedValues && reference.AllowedValues(version, column) is { } allowed && !allowed.Contains(v))
        {
            var caseOnly = allowed.FirstOrDefault(a => a.Equals(v, StringComparison.OrdinalIgnoreCase));
            var lenient = caseOnly is not null && strictness == FocusStrictness.Import;
            issues.Add(new FocusIssue(line, column, caseOnly is not null
                ? $"'{v}' differs from the allowed value '{caseOnly}' in letter case{(lenient ? "; read as it" : ". To fix: write it exactly")}."
                : $"'{Clip(v)}' is not an allowed value of {column} in FOCUS {version}. To fix: use one of: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.", !lenient));
        }
    }

    /// <summary>Validates a whole table (header + rows, line numbers from 2).</summary>
    public IReadOnlyList<FocusIssue> Validate(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var issues = CheckHeader(header).ToList();
        var line = 1;
        foreach (var row in rows)
        {
            line++;
            if (row.Count != header.Count) { issues.Add(new FocusIssue(line, null, $"has {row.Count} fields, the header has {header.Count}. To fix: quote values holding commas.", true)); continue; }
            for (var i = 0; i < header.Count; i++) CheckValue(line, header[i], row[i], issues);
        }
        return issues;
    }

    /// <summary>Parses a FOCUS decimal (invariant culture, exponent allowed).</summary>
    public static bool TryDecimal(string v, out decimal d) =>
        decimal.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out d);

    /// <summary>Parses a FOCUS date/time as UTC; <paramref name="strictness"/> Import also takes 'YYYY-MM-DD HH:MM:SS'.</summary>
    public static bool TryTime(string v, FocusStrictness strictness, out DateTimeOffset t)
    {
        const DateTimeStyles utc = DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal;
        if (DateTimeOffset.TryParseExact(v, StrictTimeFormats, CultureInfo.InvariantCulture, utc, out t)) return true;
        return strictness == FocusStrictness.Import &&
            (DateTimeOffset.TryParseExact(v, ImportTimeFormats, CultureInfo.InvariantCulture, utc, out t)
             || DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, utc, out t));
    }

    private static bool IsJsonObject(string v)
    {
        try
        {
            using var doc = JsonDocument.Parse(v);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }

    private static string Clip(string v) => v.Length <= 60 ? v : v[..57] + "...";
}
