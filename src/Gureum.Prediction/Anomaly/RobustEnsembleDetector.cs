namespace Gureum.Prediction.Anomaly;

/// <summary>Settings of <see cref="RobustEnsembleDetector"/>. The same settings serve every series.</summary>
public sealed record RobustEnsembleOptions
{
    /// <summary>
    /// Lengths, in points, of the trailing windows whose median and MAD describe "normal".
    /// Default 288: a day at five-minute sampling.
    /// </summary>
    public IReadOnlyList<int> Windows { get; init; } = [288];

    /// <summary>Also score first differences (catches jumps that stay inside the value range). Default true.</summary>
    public bool Differences { get; init; } = true;

    /// <summary>
    /// Points whose minimum and maximum define the series' range so far; a value beyond them is a
    /// new extreme, with tail probability 1/(n + 1) under exchangeability, shrunk by
    /// exp(−excess / <see cref="ExtremeScale"/>) with the excess in units of the range.
    /// Default 2016 (a week at five minutes). 0 turns the feature off.
    /// </summary>
    public int ExtremeWindow { get; init; } = 2016;

    /// <summary>Excess beyond the range, as a fraction of the range, per e-fold of tail probability. Default 0.1.</summary>
    public double ExtremeScale { get; init; } = 0.1;

    /// <summary>
    /// "Too quiet for too long": a run of repeated values (a flat line, a counter stuck at 0) is scored
    /// once, at the point where it has lasted this many points and longer than every run that ended
    /// within the last <see cref="ExtremeWindow"/> points — a new extreme of run length, with tail
    /// probability 1/(n + 1) like a new extreme value. Needs a full window of history first.
    /// Default 288 (a day at five minutes). 0 turns the feature off; it needs <see cref="ExtremeWindow"/> &gt; 0.
    /// </summary>
    public int QuietRunMinimum { get; init; } = 288;

    /// <summary>
    /// Days of history searched for the same time of day. A value inside the range of the values
    /// seen within <see cref="SeasonalTolerance"/> of this time of day on those days is explained
    /// by daily seasonality (a nightly job, a daily peak) and scored 0 (see <see cref="SeasonalMargin"/>).
    /// Default 7. 0 turns it off.
    /// </summary>
    public int SeasonalDays { get; init; } = 7;

    /// <summary>
    /// The same-time-of-day range is widened by this fraction of itself on each side before a value
    /// is tested against it, so a daily peak that grows slowly (a nightly job writing a little more
    /// each day) stays explained. Default 0.1 (the same tenth of a range as <see cref="ExtremeScale"/>). 0 turns widening off.
    /// </summary>
    public double SeasonalMargin { get; init; } = 0.1;

    /// <summary>Half-width of the same-time-of-day neighbourhood. Default 30 minutes.</summary>
    public TimeSpan SeasonalTolerance { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Past raw surprises each feature is calibrated against. Default 2016 (a week at five minutes).</summary>
    public int CalibrationWindow { get; init; } = 2016;

    /// <summary>Fraction of the past surprises treated as the tail in the peaks-over-threshold fit. Default 0.05.</summary>
    public double TailFraction { get; init; } = 0.05;

    /// <summary>Points seen before any non-zero score. Default 48.</summary>
    public int WarmUp { get; init; } = 48;

    /// <summary>
    /// After a score, later scores are reported only if they exceed every score of the last
    /// this-many points (one alarm per event). Default 144 (half a day at five minutes). 0 turns suppression off.
    /// </summary>
    public int SuppressionSteps { get; init; } = 144;

    /// <summary>−log10 of the tail probability that maps to a score of 1. Default 10.</summary>
    public double ScoreScale { get; init; } = 10;

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (Windows.Count == 0 || Windows.Any(w => w < 3)) throw new ArgumentException("Windows: at least one window of 3 points or more");
        ArgumentOutOfRangeException.ThrowIfLessThan(CalibrationWindow, 10);
        if (!(TailFraction > 0 && TailFraction < 0.5)) throw new ArgumentOutOfRangeException(nameof(TailFraction), "must be in (0, 0.5)");
        ArgumentOutOfRangeException.ThrowIfNegative(WarmUp);
        ArgumentOutOfRangeException.ThrowIfNegative(SuppressionSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ScoreScale);
        ArgumentOutOfRangeException.ThrowIfNegative(ExtremeWindow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ExtremeScale);
        ArgumentOutOfRangeException.ThrowIfNegative(QuietRunMinimum);
        ArgumentOutOfRangeException.ThrowIfNegative(SeasonalDays);
        if (!(SeasonalMargin >= 0)) throw new ArgumentOutOfRangeException(nameof(SeasonalMargin), "must not be negative");
        if (SeasonalTolerance < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(SeasonalTolerance), "must not be negative");
    }
}

/// <summary>
/// Streaming ensemble of robust statistics. Features of each point, against the points before it:
/// the robust z-score |x − median| / (1.4826·MAD) of the value and of its first difference over
/// trailing windows, each turned into a tail probability against that feature's own past
/// (peaks-over-threshold); a new-extreme test against the last week's range; and a run-length test
/// ("too quiet for too long": a flat line longer than a day and than every run of the week). The
/// value features are dropped for a point inside the range seen at the same time of day on the
/// past days, widened by a tenth (daily seasonality); the smallest remaining probability is
/// Bonferroni-corrected and mapped to [0, 1] by −log10(p) / scale; and repeated alarms within an
/// event are suppressed.
/// </summary>
/// <remarks>
/// Why this shape: medians and MADs ignore the outliers they are meant to find, so one spike does
/// not hide the next; several window lengths catch both short spikes and slower level shifts;
/// a value beyond everything seen for a week is the commonest real incident in operations metrics
/// (the spatial-anomaly rule of Numenta's HTM detector, here with a probability attached);
/// calibrating each feature against its own history makes "rare for this series" the common unit,
/// so one threshold can serve every series (NAB picks one threshold for the whole corpus); and NAB
/// charges every alarm outside a window, so a sustained event should alarm once, early, and a
/// spike that recurs at the same time every day (a backup, a cron job) is not an incident, even when
/// it grows a little each day; a metric that stops moving for longer than ever before (a disk that
/// stops writing) is an incident even though every single value of it is ordinary.
/// Deterministic; no clock, no randomness. Not thread-safe: one instance per series.
/// </remarks>
public sealed class RobustEnsembleDetector : IStreamingAnomalyDetector
{
    private readonly RobustEnsembleOptions _options;
    private readonly RollingWindow[] _values;
    private readonly RollingWindow[] _diffs;
    private readonly TailCalibrator[] _calibrators;
    private readonly double[] _recentScores;
    private readonly double[] _z;
    private readonly RollingWindow? _extremes;
    private readonly List<(DateTimeOffset Time, double Value)> _past = [];
    private int _pastStart;
    private readonly Queue<(int End, int Length)> _runs = new();
    private int _runLength;
    private int _recentHead;
    private double _previous = double.NaN;
    private int _seen;

    /// <summary>Creates a detector for one series.</summary>
    public RobustEnsembleDetector(RobustEnsembleOptions? options = null)
    {
        _options = options ?? new RobustEnsembleOptions();
        _options.Validate();
        _values = _options.Windows.Select(w => new RollingWindow(w)).ToArray();
        _diffs = _options.Differences ? _options.Windows.Select(w => new RollingWindow(w)).ToArray() : [];
        _z = new double[_values.Length + _diffs.Length];
        _calibrators = Enumerable.Range(0, _z.Length).Select(_ => new TailCalibrator(_options.CalibrationWindow, _options.TailFraction)).ToArray();
        _extremes = _options.ExtremeWindow > 0 ? new RollingWindow(_options.ExtremeWindow) : null;
        _recentScores = new double[Math.Max(1, _options.SuppressionSteps)];
    }

    /// <inheritdoc />
    public string Name => "gureumRobust";

    /// <inheritdoc />
    public string Version => "2";

    /// <inheritdoc />
    public double Score(DateTimeOffset timestamp, double value)
    {
        if (!double.IsFinite(value)) return 0;
        var diff = double.IsNaN(_previous) ? double.NaN : value - _previous;
        var f = 0;
        foreach (var w in _values) _z[f++] = RobustZ(w, value);
        foreach (var w in _diffs) _z[f++] = double.IsNaN(diff) ? double.NaN : RobustZ(w, diff);

        var p = 1.0;
        for (var k = 0; k < _z.Length; k++)
        {
            if (double.IsNaN(_z[k])) continue;
            var cal = _calibrators[k];
            if (_seen >= _options.WarmUp && cal.Count >= _options.WarmUp / 2) p = Math.Min(p, cal.TailProbability(_z[k]));
            cal.Add(_z[k]);
        }
        var features = _z.Length;
        if (_extremes is not null)
        {
            features++;
            if (_seen >= _options.WarmUp) p = Math.Min(p, ExtremeProbability(_extremes, value, _options.ExtremeScale));
            _extremes.Add(value);
        }
        if (p < 1 && _options.SeasonalDays > 0 && ExplainedBySeason(timestamp, value)) p = 1;
        // The run-length feature is not explained by the season: a flat line at a value seen at this
        // time of day is still too long when no earlier run lasted as long.
        if (_options.QuietRunMinimum > 0 && _options.ExtremeWindow > 0)
        {
            features++;
            var quiet = QuietRunProbability(value);
            if (_seen >= _options.WarmUp) p = Math.Min(p, quiet);
        }
        var raw = Math.Clamp(-Math.Log10(Math.Min(1.0, p * features)) / _options.ScoreScale, 0, 1);

        var score = raw;
        if (_options.SuppressionSteps > 0)
        {
            var recentMax = _recentScores.Max();
            score = raw > recentMax ? raw : 0;
            _recentScores[_recentHead] = raw;
            _recentHead = (_recentHead + 1) % _recentScores.Length;
        }

        foreach (var w in _values) w.Add(value);
        if (!double.IsNaN(diff)) foreach (var w in _diffs) w.Add(diff);
        _previous = value;
        if (_options.SeasonalDays > 0) RememberSeasonal(timestamp, value);
        _seen++;
        return score;
    }

    // Run-length bookkeeping happens here, before the run's value is remembered: a run that ends at
    // this point (value differs) is queued with its length; the current run includes this point.
    private double QuietRunProbability(double value)
    {
        if (value == _previous)
        {
            _runLength++;
        }
        else
        {
            if (_runLength >= 2) _runs.Enqueue((_seen - 1, _runLength));
            _runLength = 1;
        }
        while (_runs.Count > 0 && _runs.Peek().End < _seen - _options.ExtremeWindow) _runs.Dequeue();
        // Scored once per run, at the point where it becomes both a day long and the longest run of a
        // full window; later points of the same run add nothing (the alarm has been raised).
        if (_runLength < _options.QuietRunMinimum || _seen < _options.ExtremeWindow) return 1.0;
        var longest = 0;
        foreach (var r in _runs) longest = Math.Max(longest, r.Length);
        if (_runLength != Math.Max(_options.QuietRunMinimum, longest + 1)) return 1.0;
        return 1.0 / (Math.Min(_seen, _options.ExtremeWindow) + 1.0);
    }

    private bool ExplainedBySeason(DateTimeOffset t, double x)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (var d = 1; d <= _options.SeasonalDays; d++)
        {
            var center = t - TimeSpan.FromDays(d);
            for (var i = LowerBound(center - _options.SeasonalTolerance); i < _past.Count && _past[i].Time <= center + _options.SeasonalTolerance; i++)
            {
                lo = Math.Min(lo, _past[i].Value);
                hi = Math.Max(hi, _past[i].Value);
            }
        }
        var margin = _options.SeasonalMargin * (hi - lo);
        return x >= lo - margin && x <= hi + margin;
    }

    private void RememberSeasonal(DateTimeOffset t, double x)
    {
        _past.Add((t, x));
        var horizon = t - TimeSpan.FromDays(_options.SeasonalDays) - _options.SeasonalTolerance - TimeSpan.FromMinutes(1);
        while (_pastStart < _past.Count && _past[_pastStart].Time < horizon) _pastStart++;
        if (_pastStart > 4096)
        {
            _past.RemoveRange(0, _pastStart);
            _pastStart = 0;
        }
    }

    private int LowerBound(DateTimeOffset t)
    {
        int lo = _pastStart, hi = _past.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_past[mid].Time < t) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static double ExtremeProbability(RollingWindow window, double x, double scale)
    {
        var n = window.Count;
        var lo = window[0];
        var hi = window[n - 1];
        var excess = Math.Max(x - hi, lo - x);
        if (excess <= 0) return 1.0;
        var range = hi - lo;
        var relative = range > 0 ? excess / range : double.PositiveInfinity;
        return Math.Exp(-Math.Min(relative / scale, 700)) / (n + 1.0);
    }

    private static double RobustZ(RollingWindow window, double x)
    {
        if (window.Count < 3) return double.NaN;
        var median = window.Median;
        var scale = 1.4826 * window.MedianAbsoluteDeviation(median);
        if (scale <= 0)
        {
            // Mostly-constant window: fall back to the spread of its outer deciles, then to a
            // relative epsilon, so a departure from a flat line is large but finite.
            scale = (window.Quantile(0.9) - window.Quantile(0.1)) / 2.5631;
            if (scale <= 0) scale = 1e-6 * Math.Max(1.0, Math.Abs(median));
        }
        return Math.Abs(x - median) / scale;
    }
}
