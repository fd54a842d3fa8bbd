namespace Gureum.Prediction.Anomaly;

/// <summary>
/// A detector that scores a metric series one point at a time, in time order, with no look-ahead.
/// </summary>
/// <remarks>
/// Contract: <see cref="Score"/> is called once per point, in increasing time order. The score it
/// returns for a point may depend only on that point and the points passed before it, never on a
/// later call. One instance holds the state of one series; it is not thread-safe. Use a fresh
/// instance (see <see cref="AnomalyDetectorFactory"/>) for each series.
/// </remarks>
public interface IStreamingAnomalyDetector
{
    /// <summary>Short stable name, used in result file names (NAB layout: <c>&lt;name&gt;_&lt;series&gt;.csv</c>).</summary>
    string Name { get; }

    /// <summary>Version of the algorithm and its settings; changes whenever scores would change.</summary>
    string Version { get; }

    /// <summary>
    /// Takes the next point and returns its anomaly score in [0, 1] (1 = most anomalous).
    /// Non-finite values are accepted and scored 0 without updating the state.
    /// </summary>
    double Score(DateTimeOffset timestamp, double value);
}

/// <summary>Creates a fresh detector for one series.</summary>
public delegate IStreamingAnomalyDetector AnomalyDetectorFactory();
