using System.Globalization;

namespace Gureum.Prediction.Anomaly;

/// <summary>
/// Writes a run in NAB's results layout, so anyone can rescore it with NAB itself:
/// <c>&lt;root&gt;/&lt;detector&gt;/&lt;family&gt;/&lt;detector&gt;_&lt;file&gt;.csv</c> with columns
/// <c>timestamp,value,anomaly_score,label</c> (label 1 inside a window).
/// </summary>
public static class NabResultsWriter
{
    /// <summary>Writes one CSV per series; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string root, NabRunResult run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var paths = new List<string>();
        foreach (var r in run.Series)
        {
            var dir = Path.Combine(root, run.Detector, r.Series.Family);
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, $"{run.Detector}_{Path.GetFileName(r.Series.Key)}");
            using var w = new StreamWriter(path);
            w.WriteLine("timestamp,value,anomaly_score,label");
            for (var i = 0; i < r.Series.Count; i++)
            {
                w.Write(NabCorpus.Format(r.Series.Timestamps[i]));
                w.Write(',');
                w.Write(r.Series.Values[i].ToString("R", CultureInfo.InvariantCulture));
                w.Write(',');
                w.Write(r.Scores[i].ToString("R", CultureInfo.InvariantCulture));
                w.Write(',');
                w.WriteLine(r.Series.InWindow(i) ? '1' : '0');
            }
            paths.Add(path);
        }
        return paths;
    }
}
