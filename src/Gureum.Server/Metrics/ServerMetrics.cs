using System.Globalization;
using System.Text;

namespace Gureum.Server.Metrics;

/// <summary>
/// The server's metrics, written by hand in the Prometheus text exposition format (version 0.0.4)
/// so no exporter package is needed. Thread-safe: counters and the histogram use interlocked
/// updates; gauges are plain volatile stores written by the control loop.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>Upper bounds (seconds) of the decision-latency histogram buckets.</summary>
    public static readonly double[] DecisionBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Histogram _decision = new(DecisionBuckets);
    private readonly Histogram _submit = new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);
    private long _submissions;
    private long _rejectedSubmissions;
    private long _ticks;
    private long _leaderTakeovers;

    /// <summary>Jobs queued as of the last decision.</summary>
    public long Pending { get; set; }

    /// <summary>Jobs running as of the last decision.</summary>
    public long Running { get; set; }

    /// <summary>Alive nodes as of the last decision.</summary>
    public long Nodes { get; set; }

    /// <summary>Whether this replica holds the leader lease and runs the control loop.</summary>
    public bool IsLeader { get; set; }

    /// <summary>Records one control-loop decision (snapshot + decide + apply).</summary>
    public void ObserveDecision(TimeSpan elapsed)
    {
        _decision.Observe(elapsed.TotalSeconds);
        Interlocked.Increment(ref _ticks);
    }

    /// <summary>Records one accepted (durably committed) submission and its server-side latency.</summary>
    public void ObserveSubmission(TimeSpan elapsed)
    {
        _submit.Observe(elapsed.TotalSeconds);
        Interlocked.Increment(ref _submissions);
    }

    /// <summary>Records a submission refused by a quota.</summary>
    public void ObserveRejectedSubmission() => Interlocked.Increment(ref _rejectedSubmissions);

    /// <summary>Records that this replica became leader.</summary>
    public void ObserveTakeover() => Interlocked.Increment(ref _leaderTakeovers);

    /// <summary>Decisions taken by this replica.</summary>
    public long Decisions => Interlocked.Read(ref _ticks);

    /// <summary>The exposition text.</summary>
    public string Render()
    {
        var sb = new StringBuilder(2048);
        _decision.Write(sb, "gureum_decision_latency_seconds", "Control-loop decision latency: snapshot, decide and apply.");
        _submit.Write(sb, "gureum_submit_latency_seconds", "Server-side latency of accepted job submissions, until the store committed.");
        Counter(sb, "gureum_submissions_total", "Jobs accepted (durably committed).", Interlocked.Read(ref _submissions));
        Counter(sb, "gureum_submissions_rejected_total", "Submissions refused by a quota.", Interlocked.Read(ref _rejectedSubmissions));
        Counter(sb, "gureum_leader_takeovers_total", "Times this replica acquired the leader lease.", Interlocked.Read(ref _leaderTakeovers));
        Gauge(sb, "gureum_jobs_pending", "Jobs queued at the last decision.", Pending);
        Gauge(sb, "gureum_jobs_running", "Jobs running at the last decision.", Running);
        Gauge(sb, "gureum_nodes_alive", "Alive nodes at the last decision.", Nodes);
        Gauge(sb, "gureum_leader", "1 when this replica runs the control loop.", IsLeader ? 1 : 0);
        return sb.ToString();
    }

    private static void Counter(StringBuilder sb, string name, string help, long value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(" counter\n")
          .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Gauge(StringBuilder sb, string name, string help, long value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(" gauge\n")
          .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>A cumulative Prometheus histogram with fixed buckets.</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private long _sumMicros;

        public void Observe(double seconds)
        {
            var i = 0;
            while (i < bounds.Length && seconds > bounds[i]) i++;
            Interlocked.Increment(ref _counts[i]);
            Interlocked.Add(ref _sumMicros, (long)(seconds * 1e6));
        }

        public void Write(StringBuilder sb, string name, string help)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" histogram\n");
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                sb.Append(name).Append("_bucket{le=\"").Append(bounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ")
                  .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            cumulative += Interlocked.Read(ref _counts[^1]);
            sb.Append(name).Append("_bucket{le=\"+Inf\"} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(name).Append("_sum ").Append((Interlocked.Read(ref _sumMicros) / 1e6).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(name).Append("_count ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
