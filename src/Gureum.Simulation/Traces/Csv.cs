using System.Globalization;

namespace Gureum.Simulation.Traces;

/// <summary>
/// A small, fast, quote-aware CSV reader (RFC 4180: fields in double quotes may hold commas, line
/// breaks and doubled quotes). Fields are exposed as spans over a reused buffer, so a row costs no
/// allocation until a caller turns a field into a string. Blank lines are skipped.
/// </summary>
internal sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly char[] _buf = new char[1 << 16];
    private int _pos;
    private int _len;
    private char[] _rec = new char[256];
    private int _recLen;
    private int[] _starts = new int[32];
    private int[] _ends = new int[32];
    private int _physicalLine = 1;

    public CsvReader(TextReader reader, string fileName)
    {
        _reader = reader;
        FileName = fileName;
    }

    /// <summary>The file name used in error messages.</summary>
    public string FileName { get; }

    /// <summary>1-based line on which the current record starts.</summary>
    public int Line { get; private set; }

    /// <summary>Fields in the current record.</summary>
    public int FieldCount { get; private set; }

    /// <summary>Field <paramref name="i"/> of the current record (unquoted, unescaped).</summary>
    public ReadOnlySpan<char> this[int i] => _rec.AsSpan(_starts[i], _ends[i] - _starts[i]);

    public static CsvReader Open(string path) =>
        new(new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16), path);

    /// <summary>Advances to the next non-blank record; false at the end of the input.</summary>
    public bool Read()
    {
        while (true)
        {
            if (!Fill()) return false;
            ReadRecord();
            if (FieldCount > 1 || _ends[0] > _starts[0]) return true;
        }
    }

    /// <summary>Reads the header row: trimmed field names. Throws when the file is empty.</summary>
    public string[] ReadHeader(string fix)
    {
        if (!Read()) throw new TraceFormatException(FileName, 0, null, "The file is empty; a header row is required.", fix);
        var names = new string[FieldCount];
        for (var i = 0; i < FieldCount; i++) names[i] = this[i].Trim().ToString();
        return names;
    }

    private bool Fill()
    {
        if (_pos < _len) return true;
        _len = _reader.Read(_buf, 0, _buf.Length);
        _pos = 0;
        return _len > 0;
    }

    private int Next() => Fill() ? _buf[_pos++] : -1;

    private int Peek() => Fill() ? _buf[_pos] : -1;

    private void ReadRecord()
    {
        Line = _physicalLine;
        _recLen = 0;
        FieldCount = 0;
        var fieldStart = 0;
        var inQuotes = false;
        while (true)
        {
            var c = Next();
            if (c < 0)
            {
                if (inQuotes)
                {
                    throw new TraceFormatException(FileName, Line, null, "A quoted field is not closed before the end of the file.",
                        "Close the field with a double quote; write a quote inside a quoted field as two quotes (\"\").");
                }

                EndField(fieldStart);
                return;
            }

            if (inQuotes)
            {
                if (c == '"')
                {
                    if (Peek() == '"') { Next(); Append('"'); }
                    else inQuotes = false;
                }
                else
                {
                    if (c == '\n') _physicalLine++;
                    Append((char)c);
                }

                continue;
            }

            switch (c)
            {
                case '"' when _recLen == fieldStart:
                    inQuotes = true;
                    break;
                case ',':
                    EndField(fieldStart);
                    fieldStart = _recLen;
                    break;
                case '\r':
                    if (Peek() == '\n') Next();
                    _physicalLine++;
                    EndField(fieldStart);
                    return;
                case '\n':
                    _physicalLine++;
                    EndField(fieldStart);
                    return;
                default:
                    Append((char)c);
                    break;
            }
        }
    }

    private void Append(char c)
    {
        if (_recLen == _rec.Length) Array.Resize(ref _rec, _rec.Length * 2);
        _rec[_recLen++] = c;
    }

    private void EndField(int start)
    {
        if (FieldCount == _starts.Length)
        {
            Array.Resize(ref _starts, _starts.Length * 2);
            Array.Resize(ref _ends, _ends.Length * 2);
        }

        _starts[FieldCount] = start;
        _ends[FieldCount] = _recLen;
        FieldCount++;
    }

    public void Dispose() => _reader.Dispose();
}

/// <summary>Writes CSV fields, quoting only when needed.</summary>
internal static class CsvWriter
{
    public static void WriteField(TextWriter w, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            w.Write(value);
            return;
        }

        w.Write('"');
        w.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        w.Write('"');
    }

    /// <summary>Seconds with up to 7 decimals (tick precision), so reading it back gives the same ticks.</summary>
    public static string Seconds(long ticks)
    {
        var whole = ticks / TimeSpan.TicksPerSecond;
        var frac = Math.Abs(ticks % TimeSpan.TicksPerSecond);
        var sign = ticks < 0 && whole == 0 ? "-" : "";
        if (frac == 0) return sign + whole.ToString(CultureInfo.InvariantCulture);
        return sign + whole.ToString(CultureInfo.InvariantCulture) + "." + frac.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
    }
}

/// <summary>Interns strings read from spans, so a million rows naming 50 labs hold 50 strings.</summary>
internal sealed class StringPool
{
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<char> s)
    {
        if (_lookup.TryGetValue(s, out var existing)) return existing;
        var str = s.ToString();
        _strings[str] = str;
        return str;
    }
}

/// <summary>Counts and keeps messages of rows skipped with <see cref="TraceLoadOptions.SkipBadRows"/>.</summary>
internal sealed class BadRowLog(bool skip)
{
    private readonly List<string> _messages = [];

    public bool Skip { get; } = skip;

    public int Count { get; private set; }

    public IReadOnlyList<string> Messages => _messages;

    public void Add(TraceFormatException e)
    {
        Count++;
        if (_messages.Count < TraceLoader.MaxBadRowMessages) _messages.Add(e.Message);
    }
}

/// <summary>A CSV file with a header: column lookup and typed field parsing with located errors.</summary>
internal sealed class CsvTable : IDisposable
{
    private const NumberStyles Num = NumberStyles.Float;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private CsvTable(CsvReader reader, string[] header)
    {
        Reader = reader;
        Header = header;
    }

    public CsvReader Reader { get; }

    public string[] Header { get; }

    public string FileName => Reader.FileName;

    /// <summary>Opens <paramref name="path"/>, reads the header and checks <paramref name="required"/> columns are present.</summary>
    public static CsvTable Open(string path, IReadOnlyList<string> required, string formatName)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Trace file not found: {path}", path);
        var reader = CsvReader.Open(path);
        try
        {
            var header = reader.ReadHeader($"Give a {formatName} file with its header row.");
            var missing = required.Where(r => Array.IndexOf(header, r) < 0).ToList();
            if (missing.Count > 0)
            {
                throw new TraceFormatException(path, 1, null,
                    $"Missing required column(s): {string.Join(", ", missing)}.",
                    $"Check this is a {formatName} file; its header must contain {string.Join(", ", required)}.");
            }

            return new CsvTable(reader, header);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public int Index(string column) => Array.IndexOf(Header, column);

    public TraceFormatException Error(string? column, string problem, string fix) =>
        new(FileName, Reader.Line, column, problem, fix);

    /// <summary>Throws unless the row has as many fields as the header.</summary>
    public void CheckWidth()
    {
        if (Reader.FieldCount != Header.Length)
        {
            throw Error(null, $"The row has {Reader.FieldCount} field(s) but the header has {Header.Length}.",
                "Give every row one field per header column; quote fields that contain commas.");
        }
    }

    public ReadOnlySpan<char> Raw(int i) => Reader[i].Trim();

    public static bool IsMissing(ReadOnlySpan<char> s) =>
        s.IsEmpty || s.Equals("nan", StringComparison.OrdinalIgnoreCase) || s.Equals("null", StringComparison.OrdinalIgnoreCase);

    public string String(int i, StringPool pool, string fix)
    {
        var s = Raw(i);
        if (s.IsEmpty) throw Error(Header[i], "The value is empty.", fix);
        return pool.Get(s);
    }

    public double Double(int i, string fix) =>
        OptionalDouble(i, fix) ?? throw Error(Header[i], "The value is empty.", fix);

    public double? OptionalDouble(int i, string fix)
    {
        var s = Raw(i);
        if (IsMissing(s)) return null;
        if (!double.TryParse(s, Num, Inv, out var v) || !double.IsFinite(v))
        {
            throw Error(Header[i], $"'{s}' is not a number.", fix);
        }

        return v;
    }

    public int Int(int i, string fix) => OptionalInt(i, fix) ?? throw Error(Header[i], "The value is empty.", fix);

    public int? OptionalInt(int i, string fix)
    {
        var s = Raw(i);
        if (IsMissing(s)) return null;
        if (int.TryParse(s, NumberStyles.Integer, Inv, out var v)) return v;
        // Some exports write whole numbers as "4.0".
        if (double.TryParse(s, Num, Inv, out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw Error(Header[i], $"'{s}' is not a whole number.", fix);
    }

    /// <summary>Seconds as exact ticks (decimal arithmetic, so "0.1" is exactly 1,000,000 ticks); null when empty or NaN.</summary>
    public long? OptionalSecondsTicks(int i, string fix)
    {
        var s = Raw(i);
        if (IsMissing(s)) return null;
        if (decimal.TryParse(s, Num, Inv, out var d) && Math.Abs(d) < 900_000_000_000m)
        {
            return (long)decimal.Round(d * TimeSpan.TicksPerSecond, MidpointRounding.AwayFromZero);
        }

        throw Error(Header[i], $"'{s}' is not a number of seconds.", fix);
    }

    public long SecondsTicks(int i, string fix) =>
        OptionalSecondsTicks(i, fix) ?? throw Error(Header[i], "The value is empty.", fix);

    public void Dispose() => Reader.Dispose();
}
