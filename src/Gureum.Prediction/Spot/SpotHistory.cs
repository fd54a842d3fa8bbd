namespace Gureum.Prediction.Spot;

/// <summary>
/// What has been observed of one spot market (zone × model), in time order, with prefix sums so
/// that any window or run length as of any past instant is O(log n). Observations must arrive in
/// time order per market (a late one throws): both predictors read "as of now" by binary search,
/// so nothing stamped after now is ever used.
/// </summary>
internal sealed class SpotHistory
{
    private readonly List<long> _ticks = [];
    private readonly List<bool> _up = [];
    private readonly List<int> _prefixUp = [0];          // ups among the first i observations
    private readonly List<int> _prefixDowns = [0];       // up→down transitions among the first i
    private readonly List<double> _prefixUpHours = [0];  // hours spent up before observation i
    private readonly List<int> _runStart = [];           // index where the up-run holding i started (−1 when down)
    private readonly List<(int EndIndex, double Hours)> _runs = []; // completed up-runs, by end

    public int Count => _ticks.Count;

    public void Add(DateTimeOffset at, bool up)
    {
        var t = at.UtcTicks;
        if (_ticks.Count > 0 && t < _ticks[^1]) throw new ArgumentOutOfRangeException(nameof(at), at, "Spot observations of one market must arrive in time order.");
        var i = _ticks.Count;
        var prevUp = i > 0 && _up[^1];
        var hoursSincePrev = i > 0 ? (t - _ticks[^1]) / (double)TimeSpan.TicksPerHour : 0;
        _prefixUpHours.Add(_prefixUpHours[^1] + (prevUp ? hoursSincePrev : 0));
        _ticks.Add(t);
        _up.Add(up);
        _prefixUp.Add(_prefixUp[^1] + (up ? 1 : 0));
        var down = prevUp && !up;
        _prefixDowns.Add(_prefixDowns[^1] + (down ? 1 : 0));
        _runStart.Add(up ? (prevUp ? _runStart[^1] : i) : -1);
        if (down)
        {
            var start = _runStart[i - 1];
            _runs.Add((i, (t - _ticks[start]) / (double)TimeSpan.TicksPerHour));
        }
    }

    /// <summary>Index of the last observation at or before <paramref name="now"/>, or −1.</summary>
    public int IndexAt(DateTimeOffset now)
    {
        var t = now.UtcTicks;
        int lo = 0, hi = _ticks.Count - 1, ans = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            if (_ticks[mid] <= t) { ans = mid; lo = mid + 1; }
            else hi = mid - 1;
        }

        return ans;
    }

    public long TickAt(int i) => _ticks[i];

    public bool UpAt(int i) => _up[i];

    /// <summary>Up→down transitions per up-hour over observations 0..i, with a prior of
    /// <paramref name="priorDowns"/> transitions in <paramref name="priorUpHours"/> up-hours.</summary>
    public double Hazard(int i, double priorDowns, double priorUpHours)
    {
        var upHours = _prefixUpHours[i + 1]; // up time from the first observation to observation i
        var downs = _prefixDowns[i + 1];
        return (downs + priorDowns) / (upHours + priorUpHours);
    }

    /// <summary>Hours the current up-run has lasted at observation i (0 when down).</summary>
    public double AgeHours(int i, long now) => _runStart[i] < 0 ? 0 : (now - _ticks[_runStart[i]]) / (double)TimeSpan.TicksPerHour;

    /// <summary>Share of observations up within the <paramref name="hours"/> before observation i (inclusive).</summary>
    public double UpShare(int i, double hours)
    {
        var from = FirstAtOrAfter(_ticks[i] - (long)(hours * TimeSpan.TicksPerHour));
        var n = i - from + 1;
        return (_prefixUp[i + 1] - _prefixUp[from]) / (double)n;
    }

    /// <summary>Up→down transitions within the <paramref name="hours"/> before observation i.</summary>
    public int DownsWithin(int i, double hours)
    {
        var from = FirstAtOrAfter(_ticks[i] - (long)(hours * TimeSpan.TicksPerHour));
        return _prefixDowns[i + 1] - _prefixDowns[Math.Min(from, i + 1)];
    }

    /// <summary>
    /// Empirical chance that an up-run that has lasted <paramref name="age"/> hours lasts
    /// <paramref name="horizon"/> more, from up-runs that had ended by observation i; null with fewer than 3 such runs.
    /// </summary>
    public double? RunSurvival(int i, double age, double horizon)
    {
        int longer = 0, total = 0;
        foreach (var (end, hours) in _runs)
        {
            if (end > i) break;
            if (hours <= age) continue;
            total++;
            if (hours > age + horizon) longer++;
        }

        return total < 3 ? null : (longer + 0.5) / (total + 1.0);
    }

    /// <summary>Completed up-runs by observation i.</summary>
    public int RunsBy(int i)
    {
        int lo = 0, hi = _runs.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (_runs[mid].EndIndex <= i) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }

    private int FirstAtOrAfter(long t)
    {
        int lo = 0, hi = _ticks.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (_ticks[mid] < t) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }
}
