using System.Globalization;

namespace Gureum.Prediction.Anomaly;

/// <summary>A published detector's normalised score on one family under one profile.</summary>
/// <param name="Detector">NAB detector name, e.g. <c>numenta</c>.</param>
/// <param name="Profile">Profile name.</param>
/// <param name="RawScore">Sum of the published per-file raw scores of the family.</param>
/// <param name="NormalizedScore">100 × (raw − null) / (perfect − null) on the family.</param>
public sealed record NabPublishedScore(string Detector, string Profile, double RawScore, double NormalizedScore);

/// <summary>
/// Reads NAB's published per-file scores (<c>Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count</c>)
/// and normalises their sum over one family. Those per-file scores were taken at each detector's
/// whole-corpus threshold, so they are a same-data baseline, not official NAB numbers.
/// </summary>
public static class NabScoreboard
{
    /// <summary>The name of the per-file scores file in a scoreboard directory.</summary>
    public const string PerFileScoresPattern = "per_file_scores*.csv";

    /// <summary>
    /// Published scores of every detector that has a score for every file of <paramref name="corpus"/>,
    /// normalised with the null and perfect scores of <paramref name="corpus"/> under each profile.
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed row; the message names the file and line.</exception>
    public static IReadOnlyList<NabPublishedScore> Load(string perFileScoresCsv, IReadOnlyList<NabSeries> corpus, IReadOnlyList<NabProfile> profiles)
    {
        var keys = corpus.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var sums = new Dictionary<(string Detector, string Profile), (double Sum, HashSet<string> Files)>();
        using var reader = new StreamReader(perFileScoresCsv);
        var header = reader.ReadLine()?.Split(',') ?? throw new InvalidDataException($"{perFileScoresCsv}:1: empty file");
        int Col(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidDataException($"{perFileScoresCsv}:1: no column '{name}'");
        int cDet = Col("Detector"), cProf = Col("Profile"), cFile = Col("File"), cScore = Col("Score");
        var lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != header.Length)
                throw new InvalidDataException($"{perFileScoresCsv}:{lineNo}: expected {header.Length} columns, found {parts.Length}");
            if (!keys.Contains(parts[cFile])) continue;
            if (!double.TryParse(parts[cScore], NumberStyles.Float, CultureInfo.InvariantCulture, out var score))
                throw new InvalidDataException($"{perFileScoresCsv}:{lineNo}: bad Score '{parts[cScore]}'");
            var k = (parts[cDet], parts[cProf]);
            if (!sums.TryGetValue(k, out var acc)) acc = (0, new HashSet<string>(StringComparer.Ordinal));
            if (acc.Files.Add(parts[cFile])) acc.Sum += score;
            sums[k] = acc;
        }

        var result = new List<NabPublishedScore>();
        foreach (var profile in profiles)
        {
            var nullScore = NabRunner.NullScore(corpus, profile);
            var perfect = NabRunner.PerfectScore(corpus, profile);
            foreach (var ((detector, profileName), acc) in sums.OrderBy(kv => kv.Key.Detector, StringComparer.Ordinal))
                if (profileName == profile.Name && acc.Files.Count == keys.Count)
                    result.Add(new NabPublishedScore(detector, profile.Name, acc.Sum, NabRunner.Normalize(acc.Sum, nullScore, perfect)));
        }
        return result;
    }

    /// <summary>The best published score per profile name (the null detector excluded).</summary>
    public static IReadOnlyDictionary<string, NabPublishedScore> Best(IEnumerable<NabPublishedScore> scores) =>
        scores.Where(s => s.Detector != "null")
            .GroupBy(s => s.Profile, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(s => s.NormalizedScore)!, StringComparer.Ordinal);
}
