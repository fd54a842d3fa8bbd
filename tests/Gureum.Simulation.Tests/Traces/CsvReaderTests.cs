using Gureum.Simulation.Traces;

namespace Gureum.Simulation.Tests.Traces;

public sealed class CsvReaderTests
{
    private static List<(int Line, string[] Fields)> ReadAll(string text)
    {
        using var r = new CsvReader(new StringReader(text), "mem.csv");
        var rows = new List<(int, string[])>();
        while (r.Read())
        {
            var fields = new string[r.FieldCount];
            for (var i = 0; i < r.FieldCount; i++) fields[i] = r[i].ToString();
            rows.Add((r.Line, fields));
        }

        return rows;
    }

    [Fact]
    public void Read_QuotedFieldsWithCommasQuotesAndNewlines_Unescapes()
    {
        var rows = ReadAll("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\nplain,,end\n");

        Assert.Equal(3, rows.Count);
        Assert.Equal(["x,y", "say \"hi\"", "two\nlines"], rows[1].Fields);
        Assert.Equal(["plain", "", "end"], rows[2].Fields);
    }

    [Fact]
    public void Read_MultiLineFieldAndBlankLines_ReportsStartingPhysicalLine()
    {
        var rows = ReadAll("h1,h2\r\n\"a\r\nb\",1\r\n\r\nc,2\r\nlast,3");

        Assert.Equal([1, 2, 5, 6], rows.Select(r => r.Line));
        Assert.Equal(["last", "3"], rows[^1].Fields);
    }

    [Fact]
    public void Read_UnterminatedQuote_ThrowsWithLine()
    {
        var e = Assert.Throws<TraceFormatException>(() => ReadAll("a,b\n1,2\n3,\"open\n"));

        Assert.Equal(3, e.Line);
        Assert.Contains("mem.csv:3", e.Message);
    }
}
