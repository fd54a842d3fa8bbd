namespace Gureum.Prediction.Anomaly;

/// <summary>Counts of rows (not windows) at one threshold, as NAB reports them.</summary>
/// <param name="Tp">Detected rows inside windows.</param>
/// <param name="Tn">Undetected rows outside windows.</param>
/// <param name="Fp">Detected rows outside windows.</param>
/// <param name="Fn">Undetected rows inside windows.</param>
public readonly record struct NabCounts(int Tp, int Tn, int Fp, int Fn)
{
    /// <summary>Rows scored (the probationary rows are not).</summary>
    public int Total => Tp + Tn + Fp + Fn;
}

/// <summary>The raw NAB score of a set of rows at one threshold (detection = anomaly score ≥ threshold).</summary>
/// <param name="Threshold">The threshold.</param>
/// <param name="Score">Raw weighted score (sum of window and false-positive parts).</param>
/// <param name="Counts">Row counts.</param>
public readonly record struct NabThresholdScore(double Threshold, double Score, NabCounts Counts);

/// <summary>
/// The NAB v1.1 scorer (<c>nab/sweeper.py</c>, <c>nab/optimizer.py</c>), reimplemented.
/// </summary>
/// <remarks>
/// Per row i of a file with n rows:
/// <list type="bullet">
/// <item>rows i &lt; min(⌊0.15·n⌋, 0.15·5000) are probationary and never scored;</item>
/// <item>inside a window [s, e] of width w = e − s + 1, a detection is worth
/// tp · σ(−(e − i + 1)/w) / σ(−1), where σ(x) = 2/(1 + e^{5x}) − 1 (1 at the start, ~0 at the end);
/// only the window's best (earliest) detection counts, a window with none costs −fn;</item>
/// <item>outside windows a detection costs fp · σ((i − e′)/(w′ − 1)) after a window [s′, e′] of
/// width w′ (σ(x) = −1 for x &gt; 3), and −fp before the first window.</item>
/// </list>
/// The threshold is chosen by sweeping every distinct anomaly score of the whole corpus, highest
/// first, starting from 1.1 (no detections); the best total wins, ties going to the higher threshold.
/// </remarks>
public sealed class NabScorer
{
    /// <summary>Window id of a probationary row.</summary>
    internal const int Probationary = -2;

    /// <summary>Window id of a row outside every window.</summary>
    internal const int NoWindow = -1;

    /// <summary>The threshold above every score: no detections.</summary>
    public const double NoDetectionThreshold = 1.1;

    /// <summary>Creates a scorer for one profile.</summary>
    /// <param name="profile">Cost matrix.</param>
    /// <param name="probationPercent">Fraction of each file not scored; NAB uses 0.15.</param>
    public NabScorer(NabProfile profile, double probationPercent = 0.15)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegative(probationPercent);
        Profile = profile;
        ProbationPercent = probationPercent;
    }

    /// <summary>The cost matrix.</summary>
    public NabProfile Profile { get; }

    /// <summary>Fraction of each file not scored.</summary>
    public double ProbationPercent { get; }

    /// <summary>NAB's scaled sigmoid: 2·sigmoid(−5x) − 1, and −1 for x &gt; 3.</summary>
    public static double ScaledSigmoid(double relativePosition) =>
        relativePosition > 3.0 ? -1.0 : 2.0 / (1.0 + Math.Exp(5.0 * relativePosition)) - 1.0;

    /// <summary>Rows of a file of <paramref name="rows"/> rows that are not scored: min(⌊p·n⌋, p·5000).</summary>
    public int ProbationaryLength(int rows) => (int)Math.Min(Math.Floor(ProbationPercent * rows), ProbationPercent * 5000);

    /// <summary>
    /// The value of a detection at each row (NAB's "sweep score") and the window each row belongs to.
    /// </summary>
    /// <param name="series">The file.</param>
    /// <param name="anomalyScores">One score per row.</param>
    /// <param name="windowIdOffset">Added to window ids, so that ids are unique across a corpus.</param>
    internal SweepRow[] Sweep(NabSeries series, IReadOnlyList<double> anomalyScores, int windowIdOffset = 0)
    {
        if (anomalyScores.Count != series.Count)
            throw new ArgumentException($"{series.Key}: {anomalyScores.Count} scores for {series.Count} rows", nameof(anomalyScores));
        var maxTp = ScaledSigmoid(-1.0);
        var probation = ProbationaryLength(series.Count);
        var rows = new SweepRow[series.Count];
        var next = 0;
        NabWindow? previous = null;
        for (var i = 0; i < series.Count; i++)
        {
            while (next < series.Windows.Count && series.Windows[next].EndIndex < i)
            {
                previous = series.Windows[next];
                next++;
            }
            var inWindow = next < series.Windows.Count && series.Windows[next].StartIndex <= i;
            double value;
            if (inWindow)
            {
                var w = series.Windows[next];
                var position = -(w.EndIndex - i + 1) / (double)w.Length;
                value = ScaledSigmoid(position) * Profile.TpWeight / maxTp;
            }
            else if (previous is { } p)
            {
                var position = p.Length > 1 ? Math.Abs(i - p.EndIndex) / (double)(p.Length - 1) : double.PositiveInfinity;
                value = ScaledSigmoid(position) * Profile.FpWeight;
            }
            else
            {
                value = -Profile.FpWeight;
            }
            var window = i < probation ? Probationary : inWindow ? windowIdOffset + next : NoWindow;
            rows[i] = new SweepRow(anomalyScores[i], value, window);
        }
        return rows;
    }

    /// <summary>
    /// Scores every distinct threshold over <paramref name="rows"/> (NAB <c>calcScoreByThreshold</c>):
    /// the first entry is <see cref="NoDetectionThreshold"/>, then each distinct anomaly score, highest first.
    /// </summary>
    internal List<NabThresholdScore> ScoreByThreshold(IEnumerable<SweepRow> rows)
    {
        var scorable = rows.Where(r => r.Window != Probationary).ToArray();
        // Stable sort, highest anomaly score first (Python's sorted(reverse=True) keeps ties in order).
        var order = Enumerable.Range(0, scorable.Length).OrderByDescending(i => scorable[i].AnomalyScore).ToArray();
        var windowPart = new Dictionary<int, double>();
        foreach (var r in scorable)
            if (r.Window >= 0) windowPart[r.Window] = -Profile.FnWeight;
        var fpPart = 0.0;
        int tp = 0, fp = 0;
        var tn = scorable.Count(r => r.Window == NoWindow);
        var fn = scorable.Length - tn;

        var result = new List<NabThresholdScore>();
        var threshold = NoDetectionThreshold;
        foreach (var idx in order)
        {
            var row = scorable[idx];
            if (row.AnomalyScore != threshold)
            {
                result.Add(new NabThresholdScore(threshold, fpPart + windowPart.Values.Sum(), new NabCounts(tp, tn, fp, fn)));
                threshold = row.AnomalyScore;
            }
            if (row.Window == NoWindow)
            {
                fp++;
                tn--;
                fpPart += row.SweepScore;
            }
            else
            {
                tp++;
                fn--;
                windowPart[row.Window] = Math.Max(windowPart[row.Window], row.SweepScore);
            }
        }
        result.Add(new NabThresholdScore(threshold, fpPart + windowPart.Values.Sum(), new NabCounts(tp, tn, fp, fn)));
        return result;
    }

    /// <summary>
    /// The best threshold over the whole corpus (NAB <c>optimizeThreshold</c>): the highest score of
    /// the sweep; among equal scores, the highest threshold.
    /// </summary>
    /// <param name="corpus">Each file with one anomaly score per row.</param>
    public NabThresholdScore OptimizeThreshold(IEnumerable<(NabSeries Series, IReadOnlyList<double> Scores)> corpus)
    {
        var rows = new List<SweepRow>();
        var offset = 0;
        foreach (var (series, scores) in corpus)
        {
            rows.AddRange(Sweep(series, scores, offset));
            offset += series.Windows.Count;
        }
        var sweep = ScoreByThreshold(rows);
        var best = sweep[0];
        foreach (var s in sweep)
            if (s.Score > best.Score) best = s;
        return best;
    }

    /// <summary>
    /// Scores one file at a fixed threshold (NAB <c>scoreDataSet</c>): rows whose anomaly score is at
    /// least <paramref name="threshold"/> are detections.
    /// </summary>
    public NabThresholdScore ScoreFile(NabSeries series, IReadOnlyList<double> anomalyScores, double threshold)
    {
        var rows = Sweep(series, anomalyScores);
        var windowPart = new double[series.Windows.Count];
        var scored = new bool[series.Windows.Count];
        double fpPart = 0;
        int tp = 0, tn = 0, fp = 0, fn = 0;
        foreach (var r in rows)
        {
            if (r.Window == Probationary) continue;
            var detected = r.AnomalyScore >= threshold;
            if (r.Window == NoWindow)
            {
                if (detected) { fp++; fpPart += r.SweepScore; }
                else tn++;
                continue;
            }
            if (!scored[r.Window]) { scored[r.Window] = true; windowPart[r.Window] = -Profile.FnWeight; }
            if (detected) { tp++; windowPart[r.Window] = Math.Max(windowPart[r.Window], r.SweepScore); }
            else fn++;
        }
        return new NabThresholdScore(threshold, fpPart + windowPart.Sum(), new NabCounts(tp, tn, fp, fn));
    }
}

/// <summary>One row prepared for scoring.</summary>
/// <param name="AnomalyScore">The detector's score.</param>
/// <param name="SweepScore">What a detection at this row is worth on its own.</param>
/// <param name="Window">Window id; <see cref="NabScorer.NoWindow"/> or <see cref="NabScorer.Probationary"/>.</param>
internal readonly record struct SweepRow(double AnomalyScore, double SweepScore, int Window);
