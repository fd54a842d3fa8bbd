namespace Gureum.Prediction.Learning;

/// <summary>Small order statistics used by predictors and by their scoring.</summary>
public static class Stats
{
    /// <summary>The <paramref name="q"/>-quantile (0..1) of <paramref name="values"/> by linear
    /// interpolation between order statistics; NaN when empty. Does not modify its input.</summary>
    public static double Quantile(IReadOnlyCollection<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var a = values.ToArray();
        Array.Sort(a);
        return QuantileSorted(a, q);
    }

    /// <summary>Quantile of an already sorted array.</summary>
    public static double QuantileSorted(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        var pos = Math.Clamp(q, 0, 1) * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>Median; NaN when empty.</summary>
    public static double Median(IReadOnlyCollection<double> values) => Quantile(values, 0.5);
}

/// <summary>
/// The last <c>capacity</c> values in arrival order with their median on demand (sorted copy
/// kept, so a median is O(1) and an add O(capacity)).
/// </summary>
public sealed class RollingMedian(int capacity)
{
    private readonly Queue<double> _window = new();
    private readonly List<double> _sorted = [];

    /// <summary>Values held.</summary>
    public int Count => _window.Count;

    /// <summary>The most recent value added; NaN when empty.</summary>
    public double Last { get; private set; } = double.NaN;

    /// <summary>Adds a value, dropping the oldest beyond capacity.</summary>
    public void Add(double v)
    {
        _window.Enqueue(v);
        Insert(v);
        Last = v;
        if (_window.Count > capacity)
        {
            var old = _window.Dequeue();
            var i = _sorted.BinarySearch(old);
            _sorted.RemoveAt(i);
        }
    }

    /// <summary>Median of the window; NaN when empty.</summary>
    public double Median => Quantile(0.5);

    /// <summary>Quantile of the window; NaN when empty.</summary>
    public double Quantile(double q) => Stats.QuantileSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_sorted), q);

    /// <summary>The centre of the densest interval of length <paramref name="width"/> over the window
    /// (the most values within ±width/2; the earliest such interval on ties): a mode that a spread
    /// of far-off values does not pull away. NaN when empty.</summary>
    public double DensestCenter(double width)
    {
        if (_sorted.Count == 0) return double.NaN;
        double best = _sorted[0];
        var bestCount = 0;
        var j = 0;
        for (var i = 0; i < _sorted.Count; i++)
        {
            if (j < i) j = i;
            while (j < _sorted.Count && _sorted[j] <= _sorted[i] + width) j++;
            if (j - i > bestCount) (bestCount, best) = (j - i, (_sorted[i] + _sorted[j - 1]) / 2);
        }

        return best;
    }

    private void Insert(double v)
    {
        var i = _sorted.BinarySearch(v);
        _sorted.Insert(i < 0 ? ~i : i, v);
    }
}
