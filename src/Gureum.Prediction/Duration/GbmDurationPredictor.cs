using System.Globalization;
using Gureum.Core.Domain;
using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Duration;

/// <summary>Settings of <see cref="GbmDurationPredictor"/>.</summary>
public sealed record GbmDurationOptions
{
    /// <summary>Jobs that must have ended before the first model is trained. Default 200.</summary>
    public int MinTrainRows { get; init; } = 200;
    /// <summary>Retrain after this many more jobs have ended. Default 800.</summary>
    public int RetrainEvery { get; init; } = 800;
    /// <summary>Train on at most the most recent this many ended jobs. Default 6,000.</summary>
    public int MaxTrainRows { get; init; } = 6000;
    /// <summary>Jobs per key kept for the per-user, per-shape, … running medians. Default 50.</summary>
    public int KeyWindow { get; init; } = 50;
    /// <summary>Out-of-sample log residuals kept for the interval. Default 1,000.</summary>
    public int ResidualWindow { get; init; } = 1000;
    /// <summary>Which point of the predictive distribution <see cref="Interval.Estimate"/> is. Default <see cref="DurationPoint.MaxWithin2"/>.</summary>
    public DurationPoint Point { get; init; } = DurationPoint.MaxWithin2;
    /// <summary>Tree ensemble settings.</summary>
    public GbmOptions Gbm { get; init; } = new() { Iterations = 150, LearningRate = 0.06, Leaves = 31, MinRowsPerLeaf = 15 };
}

/// <summary>What the point estimate of <see cref="GbmDurationPredictor"/> aims at.</summary>
public enum DurationPoint
{
    /// <summary>The model's conditional mean of log run time (a geometric mean).</summary>
    LogMean,
    /// <summary>Shifted to minimise the median absolute percentage error on recent residuals.</summary>
    MinMedianApe,
    /// <summary>Shifted to maximise the share of recent jobs predicted within 2×.</summary>
    MaxWithin2,
}

/// <summary>
/// Run time at submission from gradient-boosted trees (ML.NET LightGbm) on log run time.
/// <para>Features, all known at submission: resources (GPUs, GPU share, CPUs, memory, nodes),
/// priority, declared time limit, GPU model speed, hour of day and day of week, and running
/// statistics of jobs that already ended: the global, per-user, per-lab, per-project, per-QoS,
/// per-name-stem and per-"shape" (identical resources and class: usually the same workload)
/// medians, counts and last values, and the user's modes (see below).</para>
/// <para>Training: on the features each job had when it was predicted (else as of its end) and its
/// log run time; first after <see cref="GbmDurationOptions.MinTrainRows"/> jobs ended, then every
/// <see cref="GbmDurationOptions.RetrainEvery"/> more. Before the first model: the shape's median,
/// then the user's, then the global one. Point estimate: w·trees + (1 − w)·mode + δ in log run time,
/// where the mode is the densest ×4 window of the user's last jobs of the same class (else all the
/// user's, else everyone's) and w and δ are chosen at each retraining to optimise
/// <see cref="GbmDurationOptions.Point"/> on the out-of-sample predictions of jobs that have ended
/// (a wide, many-peaked run-time distribution such as serving-instance lifetimes is better served
/// by its mode than by the trees' log mean). Interval: the 10th and 90th percentiles of the last
/// out-of-sample log residuals of that blend (prediction at submit vs actual).</para>
/// </summary>
public sealed class GbmDurationPredictor(GbmDurationOptions? options = null) : OnlineDurationPredictor
{
    private const int Width = 33;
    private readonly GbmDurationOptions _o = options ?? new GbmDurationOptions();
    private readonly RollingMedian _global = new(1000);
    private readonly Dictionary<string, RollingMedian>[] _keyed = [.. Enumerable.Range(0, 7).Select(_ => new Dictionary<string, RollingMedian>(StringComparer.Ordinal))];
    private readonly Dictionary<string, Seen> _atSubmit = new(StringComparer.Ordinal);
    private readonly List<(float[] Features, float Label)> _rows = [];
    private readonly RollingMedian _residuals = new((options ?? new GbmDurationOptions()).ResidualWindow);
    private readonly Queue<(double Model, double Mode, double Actual)> _outOfSample = new();
    private double _weight = 1;
    private GbmRegressor? _model;
    private int _sinceTrain;

    /// <inheritdoc />
    public override string Name => "duration-lgbm";

    /// <inheritdoc />
    public override string Version => "1";

    /// <summary>Models trained so far.</summary>
    public int Trainings { get; private set; }

    /// <inheritdoc />
    protected override void Apply(JobSpec spec, double seconds, DateTimeOffset endedAt)
    {
        var y = Math.Log(seconds + 1);
        float[] features;
        if (_atSubmit.Remove(spec.Id, out var seen) && seen.SubmitTime == spec.SubmitTime)
        {
            features = seen.Features;
            _residuals.Add(y - seen.Blend);
            _outOfSample.Enqueue((seen.Model, seen.Mode, y));
            while (_outOfSample.Count > _o.ResidualWindow) _outOfSample.Dequeue();
        }
        else
        {
            features = Features(spec);
        }

        _rows.Add((features, (float)y));
        _global.Add(y);
        var keys = Keys(spec);
        for (var k = 0; k < keys.Length; k++)
        {
            if (!_keyed[k].TryGetValue(keys[k], out var m)) _keyed[k][keys[k]] = m = new RollingMedian(_o.KeyWindow);
            m.Add(y);
        }

        if (++_sinceTrain >= (_model is null ? _o.MinTrainRows : _o.RetrainEvery) && _rows.Count >= _o.MinTrainRows)
        {
            Train();
        }
    }

    /// <inheritdoc />
    /// <remarks>The first prediction for a job (by id and submit time) is its prediction at submit:
    /// its features are kept for training and its answer is scored as out of sample when the job
    /// ends. Asking again (a policy re-ranks its queue at every decision) reuses those features and
    /// records nothing, so repeated questions neither count the job twice in the burst features nor
    /// change what the model learns; the answer follows the latest model (recomputed once per training).</remarks>
    protected override Interval Predict(JobSpec spec, DateTimeOffset now)
    {
        double raw;
        if (_atSubmit.TryGetValue(spec.Id, out var seen) && seen.SubmitTime == spec.SubmitTime)
        {
            if (seen.Generation != Trainings)
            {
                var (m, md) = Parts(seen.Features);
                seen.Current = _weight * m + (1 - _weight) * md;
                seen.Generation = Trainings;
            }

            raw = seen.Current;
        }
        else
        {
            var f = Features(spec);
            var (logEstimate, mode) = Parts(f);
            raw = _weight * logEstimate + (1 - _weight) * mode;
            _atSubmit[spec.Id] = new Seen(f, spec.SubmitTime, logEstimate, mode, raw) { Current = raw, Generation = Trainings };
            var keys = Keys(spec);
            Remember(_userSubmits, keys[0], spec.SubmitTime.UtcTicks);
            Remember(_shapeSubmits, keys[2], spec.SubmitTime.UtcTicks);
        }

        var lo = _residuals.Count >= 30 ? _residuals.Quantile(0.1) : -1.5;
        var hi = _residuals.Count >= 30 ? _residuals.Quantile(0.9) : 1.5;
        return new Interval(Exp(raw + _shift), Exp(raw + lo), Exp(raw + hi));
    }

    /// <summary>The trees' (else the medians') log run time and the group mode for one feature row.</summary>
    private (double Model, double Mode) Parts(float[] f)
    {
        var logEstimate = _model is not null
            ? _model.Predict(f)
            : FirstKnown(f[ShapeMedian], f[UserMedian], f[GlobalMedian], Math.Log(GlobalMedianDurationPredictor.Prior + 1));
        var mode = FirstKnown(f[GroupMode], f[UserMode], _global.DensestCenter(ModeWidth), Math.Log(GlobalMedianDurationPredictor.Prior + 1));
        return (logEstimate, mode);
    }

    /// <summary>A job as first predicted: its features and the parts of that answer (for training and
    /// residuals), and the answer under the latest model.</summary>
    private sealed class Seen(float[] features, DateTimeOffset submitTime, double model, double mode, double blend)
    {
        public float[] Features { get; } = features;
        public DateTimeOffset SubmitTime { get; } = submitTime;
        public double Model { get; } = model;
        public double Mode { get; } = mode;
        public double Blend { get; } = blend;
        public double Current { get; set; }
        public int Generation { get; set; }
    }

    private static double Exp(double log) => Math.Max(0, Math.Exp(log) - 1);

    private static double FirstKnown(params double[] values)
    {
        foreach (var v in values) if (!double.IsNaN(v)) return v;
        return double.NaN;
    }

    private void Train()
    {
        var from = Math.Max(0, _rows.Count - _o.MaxTrainRows);
        var x = new List<float[]>(_rows.Count - from);
        var y = new List<float>(_rows.Count - from);
        for (var i = from; i < _rows.Count; i++)
        {
            x.Add(_rows[i].Features);
            y.Add(_rows[i].Label);
        }

        _model = GbmRegressor.Train(x, y, _o.Gbm);
        _sinceTrain = 0;
        (_weight, _shift) = _o.Point switch
        {
            DurationPoint.MinMedianApe => BestBlend(r => Math.Abs(Math.Exp(-r) - 1), minimize: true),
            DurationPoint.MaxWithin2 => BestBlend(r => Math.Abs(r) <= Math.Log(2) ? 1 : 0, minimize: false),
            _ => (1, 0),
        };
        Trainings++;
        // The residual window keeps the previous model's residuals: they are still out of sample.
    }

    private double _shift;

    /// <summary>The blend weight w (of the trees against the group mode, from 0, ¼, …, 1) and the log
    /// shift δ (from a grid over −1.5..1) that optimise the point objective on the recent
    /// out-of-sample predictions: estimate = w·model + (1 − w)·mode + δ, each part as it was
    /// predicted at submit (so only jobs that ended before now are used). Ties keep the larger w.</summary>
    private (double Weight, double Shift) BestBlend(Func<double, double> score, bool minimize)
    {
        if (_outOfSample.Count < 100) return (1, 0);
        var rows = _outOfSample.ToArray();
        var values = new double[rows.Length];
        double bestW = 1, bestD = 0, bestValue = double.NaN;
        for (var w = 1.0; w >= -1e-9; w -= 0.25)
        {
            for (var d = -1.5; d <= 1.0001; d += 0.05)
            {
                for (var i = 0; i < rows.Length; i++) values[i] = score(rows[i].Actual - (w * rows[i].Model + (1 - w) * rows[i].Mode + d));
                var v = minimize ? Stats.Median(values) : values.Average();
                if (double.IsNaN(bestValue) || (minimize ? v < bestValue - 1e-9 : v > bestValue + 1e-9)) (bestW, bestD, bestValue) = (Math.Max(0, w), d, v);
            }
        }

        return (bestW, bestD);
    }

    /// <summary>Width (in log run time) of the window whose densest position is a group's mode: ×4, so
    /// an estimate at its centre is within 2× of every run time inside it.</summary>
    private static readonly double ModeWidth = Math.Log(4);

    private const int GroupMode = 31, UserMode = 32;

    private const int GlobalMedian = 9, UserMedian = 10, ShapeMedian = 14;

    private static string[] Keys(JobSpec s)
    {
        var r = s.Resources;
        var shape = string.Create(CultureInfo.InvariantCulture, $"{r.Gpus}|{r.GpuMilli}|{r.Cpus}|{r.MemoryGiB}|{r.Nodes}|{s.QosClass}|{string.Join(',', s.GpuModels)}|{s.Lab}");
        return [s.User, s.Lab, shape, s.Project, s.QosClass ?? "", NameStem(s), s.User + "|" + s.QosClass];
    }

    /// <summary>Name (else command) with digits, hex ids and separators dropped: "bert-ft-0032" → "bert-ft".</summary>
    internal static string NameStem(JobSpec s)
    {
        var text = s.Name ?? s.Command ?? "";
        Span<char> buf = stackalloc char[Math.Min(text.Length, 64)];
        var n = 0;
        foreach (var c in text)
        {
            if (n == buf.Length) break;
            if (char.IsAsciiLetter(c)) buf[n++] = char.ToLowerInvariant(c);
            else if (c is ' ' or '-' or '_' or '/' or '.' && n > 0 && buf[n - 1] != '-') buf[n++] = '-';
        }

        return new string(buf[..n]).Trim('-');
    }

    private float[] Features(JobSpec s)
    {
        var f = new float[Width];
        var r = s.Resources;
        f[0] = (float)r.TotalGpus;
        f[1] = r.GpuMilli;
        f[2] = (float)r.Cpus;
        f[3] = (float)r.MemoryGiB;
        f[4] = r.Nodes;
        f[5] = s.Priority;
        f[6] = s.TimeLimit is { } tl ? (float)Math.Log(tl.TotalSeconds + 1) : float.NaN;
        f[7] = s.SubmitTime.UtcDateTime.Hour + s.SubmitTime.UtcDateTime.Minute / 60f;
        f[8] = (int)s.SubmitTime.UtcDateTime.DayOfWeek;
        f[GlobalMedian] = _global.Count > 0 ? (float)_global.Median : float.NaN;
        var keys = Keys(s);
        // Per key: median, log count, last value — user(10..12), lab(13), shape(14..16), project(17), qos(18), name stem(19..21)
        Fill(f, 10, 0, keys[0], withLast: true);
        f[13] = Median(1, keys[1]);
        Fill(f, 14, 2, keys[2], withLast: true);
        f[17] = Median(3, keys[3]);
        f[18] = Median(4, keys[4]);
        Fill(f, 19, 5, keys[5], withLast: true);
        var shape = Window(2, keys[2]);
        f[22] = shape is { Count: >= 3 } ? (float)shape.Quantile(0.25) : float.NaN;
        f[23] = shape is { Count: >= 3 } ? (float)shape.Quantile(0.75) : float.NaN;
        var user = Window(0, keys[0]);
        f[24] = user is { Count: >= 3 } ? (float)(user.Quantile(0.75) - user.Quantile(0.25)) : float.NaN;
        f[25] = s.GpuModels.Count > 0 ? (float)GpuModels.SpeedOf(s.GpuModels[0]) : float.NaN;
        f[26] = (float)(r.Cpus / Math.Max(r.TotalGpus, 0.1));
        // Bursts: jobs of the same user and of the same shape submitted shortly before (known at submit).
        var t = s.SubmitTime.UtcTicks;
        f[27] = Recent(_userSubmits, keys[0], t, TimeSpan.TicksPerMinute * 10);
        f[28] = Recent(_userSubmits, keys[0], t, TimeSpan.TicksPerHour);
        f[29] = Recent(_shapeSubmits, keys[2], t, TimeSpan.TicksPerHour);
        // Modes (densest ×4 window of log run time) of the user's jobs of this class and of all the user's jobs.
        f[GroupMode] = Window(6, keys[6]) is { } g ? (float)g.DensestCenter(ModeWidth) : float.NaN;
        f[UserMode] = user is null ? float.NaN : (float)user.DensestCenter(ModeWidth);
        f[30] = _userSubmits.TryGetValue(keys[0], out var q) && q.Count > 0 ? (float)Math.Log((t - q.Last()) / (double)TimeSpan.TicksPerSecond + 1) : float.NaN;
        return f;
    }

    private readonly Dictionary<string, Queue<long>> _userSubmits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<long>> _shapeSubmits = new(StringComparer.Ordinal);

    private static float Recent(Dictionary<string, Queue<long>> d, string key, long now, long window) =>
        d.TryGetValue(key, out var q) ? q.Count(x => x > now - window && x <= now) : 0;

    private static void Remember(Dictionary<string, Queue<long>> d, string key, long at)
    {
        if (!d.TryGetValue(key, out var q)) d[key] = q = new Queue<long>();
        q.Enqueue(at);
        while (q.Count > 0 && q.Peek() < at - TimeSpan.TicksPerHour) q.Dequeue();
        while (q.Count > 500) q.Dequeue();
    }

    private RollingMedian? Window(int table, string key) => _keyed[table].TryGetValue(key, out var m) && m.Count > 0 ? m : null;

    private float Median(int table, string key) => Window(table, key) is { } m ? (float)m.Median : float.NaN;

    private void Fill(float[] f, int at, int table, string key, bool withLast)
    {
        var m = Window(table, key);
        f[at] = m is null ? float.NaN : (float)m.Median;
        f[at + 1] = m is null ? 0 : (float)Math.Log(m.Count + 1);
        if (withLast) f[at + 2] = m is null ? float.NaN : (float)m.Last;
    }
}
