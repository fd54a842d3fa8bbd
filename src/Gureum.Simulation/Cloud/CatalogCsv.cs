using System.Globalization;

namespace Gureum.Simulation.Cloud;

/// <summary>One data row of a catalog CSV, with what is needed to report errors precisely.</summary>
internal sealed class CatalogRow(string file, int line, string[] header, string[] fields)
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string[] Fields { get; } = fields;

    public string Text(int column) => Fields[column].Trim();

    public string? OptionalText(int column) => Text(column) is { Length: > 0 } s ? s : null;

    /// <summary>Empty → null; otherwise an invariant-culture decimal or a <see cref="CatalogFormatException"/>.</summary>
    public decimal? OptionalDecimal(int column)
    {
        var s = Text(column);
        if (s.Length == 0)
        {
            return null;
        }

        return decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0
            ? d
            : throw Bad(column, $"'{s}' is not a non-negative number.", "write a price such as 3.06 (USD per hour), or leave the field empty if there is none.");
    }

    public double? OptionalDouble(int column)
    {
        var s = Text(column);
        if (s.Length == 0)
        {
            return null;
        }

        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0
            ? d
            : throw Bad(column, $"'{s}' is not a non-negative number.", "write a number such as 8 or 8.0, or leave the field empty.");
    }

    public double Double(int column) =>
        OptionalDouble(column) ?? throw Bad(column, "the value is empty.", "write a number such as 8 or 8.0.");

    /// <summary>Whole counts written as 1 or 1.0; empty → 0.</summary>
    public int Count(int column)
    {
        var d = OptionalDouble(column) ?? 0;
        return d == Math.Floor(d) && d <= int.MaxValue
            ? (int)d
            : throw Bad(column, $"'{Text(column)}' is not a whole number.", "write a whole count such as 1, 8 or 8.0.");
    }

    public CatalogFormatException Bad(int column, string problem, string fix) =>
        new(File, Line, column + 1, $"({header[column]}) {problem}", fix);
}

/// <summary>
/// Minimal RFC 4180 reader for SkyPilot-format catalogs: comma-separated, double-quoted fields may
/// contain commas and doubled quotes. Quoted fields may not span lines (no catalog does).
/// </summary>
internal static class CatalogCsv
{
    public static IEnumerable<(int Line, string[] Fields)> Read(TextReader reader, string file)
    {
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            yield return (lineNo, Split(line, file, lineNo));
        }
    }

    internal static string[] Split(string line, string file, int lineNo)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var i = 0;
        while (true)
        {
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                var start = i;
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new CatalogFormatException(file, lineNo, fields.Count + 1,
                            $"the quoted field starting at character {start + 1} is never closed.",
                            "close the quote, or double any quote inside the field (\"\").");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(line[i++]);
                }

                if (i < line.Length && line[i] != ',')
                {
                    throw new CatalogFormatException(file, lineNo, fields.Count + 1,
                        $"unexpected text after the closing quote at character {i + 1}.",
                        "put a comma right after the closing quote, or quote the whole field.");
                }
            }
            else
            {
                var comma = line.IndexOf(',', i);
                var end = comma < 0 ? line.Length : comma;
                sb.Append(line, i, end - i);
                i = end;
            }

            fields.Add(sb.ToString());
            if (i >= line.Length)
            {
                return [.. fields];
            }

            i++; // the comma
        }
    }
}
