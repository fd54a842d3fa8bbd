namespace Gureum.Prediction.Anomaly;

/// <summary>
/// The last <c>capacity</c> values of a stream, kept both in arrival order and sorted, so that
/// median, quantiles and ranks cost O(log n) and an update O(n) memory moves (n ≤ a few thousand).
/// </summary>
internal sealed class RollingWindow
{
    private readonly double[] _ring;
    private readonly List<double> _sorted;
    private int _head;

    public RollingWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new double[capacity];
        _sorted = new List<double>(capacity);
    }

    public int Count { get; private set; }

    public int Capacity => _ring.Length;

    public void Add(double value)
    {
        if (Count == _ring.Length)
        {
            var old = _ring[_head];
            _sorted.RemoveAt(CountBelow(old));
        }
        else
        {
            Count++;
        }
        _ring[_head] = value;
        _head = (_head + 1) % _ring.Length;
        var at = _sorted.BinarySearch(value);
        _sorted.Insert(at < 0 ? ~at : at, value);
    }

    /// <summary>Linear-interpolated quantile, q in [0, 1]. Requires Count &gt; 0.</summary>
    public double Quantile(double q)
    {
        var pos = q * (Count - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, Count - 1);
        return _sorted[lo] + (pos - lo) * (_sorted[hi] - _sorted[lo]);
    }

    public double Median => Quantile(0.5);

    /// <summary>The value of rank <paramref name="rank"/> (0 = smallest).</summary>
    public double this[int rank] => _sorted[rank];

    /// <summary>Median of |x − center| over the window.</summary>
    public double MedianAbsoluteDeviation(double center)
    {
        // The deviations of a sorted list around a point form two sorted runs; merge to the middle.
        var n = Count;
        var right = _sorted.BinarySearch(center);
        right = right < 0 ? ~right : right;
        var left = right - 1;
        var target = (n - 1) / 2.0;
        double prev = 0, cur = 0;
        for (var k = 0; k <= (int)Math.Ceiling(target); k++)
        {
            prev = cur;
            if (left < 0 || (right < n && _sorted[right] - center <= center - _sorted[left]))
                cur = _sorted[right++] - center;
            else
                cur = center - _sorted[left--];
        }
        return target == Math.Floor(target) ? cur : (prev + cur) / 2;
    }

    /// <summary>Number of values strictly below <paramref name="value"/>.</summary>
    public int CountBelow(double value)
    {
        int lo = 0, hi = _sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Number of values at or below <paramref name="value"/>.</summary>
    public int CountAtOrBelow(double value)
    {
        int lo = 0, hi = _sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_sorted[mid] <= value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>The value <paramref name="age"/> steps back (0 = the newest).</summary>
    public double Recent(int age) => _ring[((_head - 1 - age) % _ring.Length + _ring.Length) % _ring.Length];
}
