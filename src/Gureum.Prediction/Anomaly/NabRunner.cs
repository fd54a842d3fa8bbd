namespace Gureum.Prediction.Anomaly;

/// <summary>A detector's anomaly scores for one series.</summary>
/// <param name="Series">The series.</param>
/// <param name="Scores">One score in [0, 1] per row.</param>
public sealed record NabSeriesResult(NabSeries Series, IReadOnlyList<double> Scores);

/// <summary>Raw score of one file under one profile at the corpus-optimal threshold.</summary>
/// <param name="Key">File key, <c>family/file.csv</c>.</param>
/// <param name="Profile">Profile name.</param>
/// <param name="Result">Threshold, raw score and row counts.</param>
public sealed record NabFileScore(string Key, string Profile, NabThresholdScore Result);

/// <summary>A detector's result under one profile.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="Threshold">The corpus-optimal threshold.</param>
/// <param name="RawScore">Total raw score at that threshold.</param>
/// <param name="NullScore">Raw score of the null detector (constant output, threshold optimised as well).</param>
/// <param name="PerfectScore">Raw score of a perfect detector: #windows × tpWeight.</param>
/// <param name="Files">Per-file raw scores at <paramref name="Threshold"/>.</param>
public sealed record NabProfileResult(NabProfile Profile, double Threshold, double RawScore, double NullScore, double PerfectScore, IReadOnlyList<NabFileScore> Files)
{
    /// <summary>NAB's normalised score: 100 × (raw − null) / (perfect − null).</summary>
    public double NormalizedScore => NabRunner.Normalize(RawScore, NullScore, PerfectScore);
}

/// <summary>A detector's NAB run: its scores on every series and its result under every profile.</summary>
/// <param name="Detector">Detector name.</param>
/// <param name="Version">Detector version.</param>
/// <param name="Series">Scores per series.</param>
/// <param name="Profiles">Result per profile.</param>
public sealed record NabRunResult(string Detector, string Version, IReadOnlyList<NabSeriesResult> Series, IReadOnlyList<NabProfileResult> Profiles);

/// <summary>Runs a streaming detector over a NAB corpus and scores it as NAB does.</summary>
public static class NabRunner
{
    /// <summary>Feeds every row of <paramref name="series"/> to <paramref name="detector"/>, in order, and collects the scores.</summary>
    /// <exception cref="InvalidOperationException">The detector returned a score outside [0, 1].</exception>
    public static double[] Detect(NabSeries series, IStreamingAnomalyDetector detector)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(detector);
        var scores = new double[series.Count];
        for (var i = 0; i < series.Count; i++)
        {
            var s = detector.Score(series.Timestamps[i], series.Values[i]);
            if (!(s >= 0 && s <= 1))
                throw new InvalidOperationException($"{detector.Name} returned {s} for {series.Key} row {i}; scores must be in [0, 1]");
            scores[i] = s;
        }
        return scores;
    }

    /// <summary>Runs a fresh detector on each series, then scores the corpus under each profile.</summary>
    /// <param name="corpus">The series.</param>
    /// <param name="factory">Makes one detector per series.</param>
    /// <param name="profiles">Profiles to score; NAB's three when null.</param>
    /// <param name="progress">Receives one line per series.</param>
    public static NabRunResult Run(IReadOnlyList<NabSeries> corpus, AnomalyDetectorFactory factory, IReadOnlyList<NabProfile>? profiles = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(factory);
        var results = new List<NabSeriesResult>(corpus.Count);
        string name = "", version = "";
        for (var i = 0; i < corpus.Count; i++)
        {
            var detector = factory();
            (name, version) = (detector.Name, detector.Version);
            progress?.Report($"[{i + 1}/{corpus.Count}] {corpus[i].Key} ({corpus[i].Count} rows)");
            results.Add(new NabSeriesResult(corpus[i], Detect(corpus[i], detector)));
        }
        return Score(name, version, results, profiles);
    }

    /// <summary>Scores already computed anomaly scores under each profile (threshold optimised per profile over the whole corpus).</summary>
    public static NabRunResult Score(string detector, string version, IReadOnlyList<NabSeriesResult> results, IReadOnlyList<NabProfile>? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var list = (profiles ?? NabProfile.All).Select(p => ScoreProfile(results, p)).ToList();
        return new NabRunResult(detector, version, results, list);
    }

    /// <summary>Scores a corpus under one profile, as NAB's optimise → score → normalise steps do.</summary>
    public static NabProfileResult ScoreProfile(IReadOnlyList<NabSeriesResult> results, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(results);
        var scorer = new NabScorer(profile);
        var best = scorer.OptimizeThreshold(results.Select(r => (r.Series, r.Scores)));
        var files = results
            .Select(r => new NabFileScore(r.Series.Key, profile.Name, scorer.ScoreFile(r.Series, r.Scores, best.Threshold)))
            .ToList();
        var raw = files.Sum(f => f.Result.Score);
        return new NabProfileResult(profile, best.Threshold, raw, NullScore(results.Select(r => r.Series), profile), PerfectScore(results.Select(r => r.Series), profile), files);
    }

    /// <summary>
    /// The null detector's raw score: a constant score on every row, threshold optimised like any
    /// detector's. On real corpora this is −fnWeight × #windows (detecting nothing beats detecting everything).
    /// </summary>
    public static double NullScore(IEnumerable<NabSeries> corpus, NabProfile profile)
    {
        var scorer = new NabScorer(profile);
        var list = corpus.ToList();
        var best = scorer.OptimizeThreshold(list.Select(s => (s, (IReadOnlyList<double>)new double[s.Count])));
        return list.Sum(s => scorer.ScoreFile(s, new double[s.Count], best.Threshold).Score);
    }

    /// <summary>The perfect detector's raw score: #windows × tpWeight (NAB <c>normalize</c>).</summary>
    public static double PerfectScore(IEnumerable<NabSeries> corpus, NabProfile profile) =>
        corpus.Sum(s => s.Windows.Count) * profile.TpWeight;

    /// <summary>100 × (raw − null) / (perfect − null).</summary>
    public static double Normalize(double raw, double nullScore, double perfect) =>
        perfect == nullScore ? double.NaN : 100.0 * (raw - nullScore) / (perfect - nullScore);
}
