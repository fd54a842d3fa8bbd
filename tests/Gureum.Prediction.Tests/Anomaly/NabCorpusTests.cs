using Gureum.Prediction.Anomaly;

namespace Gureum.Prediction.Tests.Anomaly;

public sealed class NabCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nab-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Family(string csv)
    {
        var fam = Path.Combine(_dir, "fam");
        Directory.CreateDirectory(fam);
        File.WriteAllText(Path.Combine(fam, "a.csv"), csv);
        return fam;
    }

    private string Labels(string json)
    {
        var path = Path.Combine(_dir, "windows.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string GoodCsv = "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n2014-01-01 00:10:00,3\n2014-01-01 00:15:00,4\n";

    [Fact]
    public void Load_FamilyFolder_ResolvesWindowsToRows()
    {
        var series = NabCorpus.Load(Family(GoodCsv), Labels("""{"fam/a.csv": [["2014-01-01 00:05:00.000000", "2014-01-01 00:10:00.000000"]]}"""));
        var s = Assert.Single(series);
        Assert.Equal("fam/a.csv", s.Key);
        Assert.Equal(4, s.Count);
        Assert.Equal((1, 2), (s.Windows[0].StartIndex, s.Windows[0].EndIndex));
        Assert.True(s.InWindow(2));
        Assert.False(s.InWindow(3));
    }

    [Fact]
    public void Load_BadValue_NamesFileAndLine()
    {
        var fam = Family("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n");
        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(fam, Labels("""{"fam/a.csv": []}""")));
        Assert.Contains("a.csv:3", e.Message);
    }

    [Fact]
    public void Load_MissingLabelEntry_NamesTheKey()
    {
        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(Family(GoodCsv), Labels("""{"other/b.csv": []}""")));
        Assert.Contains("fam/a.csv", e.Message);
    }

    [Fact]
    public void Load_WindowNotOnARow_IsRejected()
    {
        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(Family(GoodCsv), Labels("""{"fam/a.csv": [["2014-01-01 00:06:00", "2014-01-01 00:10:00"]]}""")));
        Assert.Contains("does not match rows", e.Message);
    }

    [Fact]
    public void Load_MalformedJson_SaysWhere()
    {
        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(Family(GoodCsv), Labels("{\n\"fam/a.csv\": [\n")));
        Assert.Contains("windows.json", e.Message);
    }
}
