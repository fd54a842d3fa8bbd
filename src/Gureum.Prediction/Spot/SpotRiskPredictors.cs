using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Spot;

/// <summary>Shared bookkeeping: one <see cref="SpotHistory"/> per zone × model.</summary>
public abstract class SpotRiskPredictorBase : ISpotRiskPredictor
{
    /// <summary>Prior hazard: one loss per 48 up-hours, weighted as half a loss (so a market seen for a
    /// day without a loss is not taken as riskless).</summary>
    protected const double PriorDowns = 0.5, PriorUpHours = 24;

    private readonly Dictionary<string, SpotHistory> _markets = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract string Version { get; }

    /// <summary>Markets observed so far.</summary>
    public int Markets => _markets.Count;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An observation older than the market's last one.</exception>
    public void Observe(string zone, string? gpuModel, DateTimeOffset at, bool available)
    {
        var key = Key(zone, gpuModel);
        if (!_markets.TryGetValue(key, out var h)) _markets[key] = h = new SpotHistory();
        h.Add(at, available);
    }

    /// <inheritdoc />
    public double SurvivalProbability(string zone, string? gpuModel, TimeSpan horizon, DateTimeOffset now)
    {
        if (horizon <= TimeSpan.Zero) return 1;
        var h = _markets.GetValueOrDefault(Key(zone, gpuModel));
        var i = h?.IndexAt(now) ?? -1;
        var p = i < 0 ? Math.Exp(-PriorDowns / PriorUpHours * horizon.TotalHours) : Predict(h!, i, now, horizon.TotalHours);
        return Math.Clamp(p, 0, 1);
    }

    /// <summary>Survival from the market's history up to observation <paramref name="i"/> (the last at or before now).</summary>
    internal abstract double Predict(SpotHistory history, int i, DateTimeOffset now, double horizonHours);

    internal IEnumerable<SpotHistory> Histories => _markets.Values;

    private static string Key(string zone, string? model) => zone + "|" + (model ?? "cpu");
}

/// <summary>
/// Baseline: a constant hazard per zone × model, λ = losses (up → down) per up-hour observed so far
/// (with the prior of <see cref="SpotRiskPredictorBase"/>); survival over T hours = exp(−λT).
/// </summary>
public sealed class ConstantHazardSpotRiskPredictor : SpotRiskPredictorBase
{
    /// <inheritdoc />
    public override string Name => "constant-hazard";

    /// <inheritdoc />
    public override string Version => "1";

    internal override double Predict(SpotHistory history, int i, DateTimeOffset now, double horizonHours) =>
        Math.Exp(-history.Hazard(i, PriorDowns, PriorUpHours) * horizonHours);
}

/// <summary>Settings of <see cref="GbmSpotRiskPredictor"/>.</summary>
public sealed record SpotRiskOptions
{
    /// <summary>Horizons (hours) training examples are made for; others are interpolated. Default 1, 2, 4, 8, 12, 24.</summary>
    public IReadOnlyList<double> TrainHorizonsHours { get; init; } = [1, 2, 4, 8, 12, 24];
    /// <summary>Retrain when this much time has passed since the last training. Default 6 h; null = train once, on first use.</summary>
    public TimeSpan? RetrainInterval { get; init; } = TimeSpan.FromHours(6);
    /// <summary>Cap on training examples (origins are strided per market to fit). Default 60,000.</summary>
    public int MaxTrainRows { get; init; } = 60_000;
    /// <summary>Tree ensemble settings.</summary>
    public GbmOptions Gbm { get; init; } = new() { Iterations = 150, LearningRate = 0.05, Leaves = 15, MinRowsPerLeaf = 50 };
}

/// <summary>
/// Spot survival from gradient-boosted trees (ML.NET LightGbm, L2 on the 0/1 outcome, so the output
/// is a Brier-minimising probability). Features as of now: horizon, age of the current up-run, the
/// constant-hazard survival (so the trees start from the baseline), the empirical chance that runs
/// as old as this one lasted the horizon more, availability share over the last 1, 6 and 24 h,
/// losses in the last 24 h and 7 days. No feature grows with the length of the history (a cumulative count would let the trees key on elapsed time and extrapolate badly). Examples: every observed up
/// instant whose outcome over the horizon was known by training time. Hazard is not constant:
/// markets cluster their losses, and a node that has survived long tends to keep surviving.
/// </summary>
public sealed class GbmSpotRiskPredictor(SpotRiskOptions? options = null) : SpotRiskPredictorBase
{
    private const int Width = 9;
    private readonly SpotRiskOptions _o = options ?? new SpotRiskOptions();
    private GbmRegressor? _model;
    private DateTimeOffset _trainedAt = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public override string Name => "spot-lgbm";

    /// <inheritdoc />
    public override string Version => "1";

    /// <summary>Trainings so far.</summary>
    public int Trainings { get; private set; }

    /// <summary>Examples in the last training.</summary>
    public int TrainRows { get; private set; }

    /// <summary>Trains on every example whose outcome is known at <paramref name="now"/>.</summary>
    public void Train(DateTimeOffset now)
    {
        var x = new List<float[]>();
        var y = new List<float>();
        var nowTicks = now.UtcTicks;
        var histories = Histories.ToList();
        var totalUp = histories.Sum(h => h.Count);
        var stride = Math.Max(1, (int)Math.Ceiling(totalUp * (double)_o.TrainHorizonsHours.Count / _o.MaxTrainRows));
        foreach (var h in histories)
        {
            var last = h.IndexAt(now);
            // Next down index after each observation, scanning backwards over what is known by now.
            var nextDown = new int[last + 1];
            var next = int.MaxValue;
            for (var i = last; i >= 0; i--)
            {
                nextDown[i] = next;
                if (!h.UpAt(i)) next = i;
            }

            for (var i = 0; i <= last; i += stride)
            {
                if (!h.UpAt(i)) continue;
                var t = h.TickAt(i);
                foreach (var hours in _o.TrainHorizonsHours)
                {
                    var end = t + (long)(hours * TimeSpan.TicksPerHour);
                    if (end > nowTicks) continue; // outcome not known yet
                    var survived = nextDown[i] == int.MaxValue || h.TickAt(nextDown[i]) > end;
                    x.Add(Features(h, i, t, hours));
                    y.Add(survived ? 1 : 0);
                }
            }
        }

        _trainedAt = now;
        TrainRows = x.Count;
        if (x.Count < 200 || y.Distinct().Count() < 2) return;
        _model = GbmRegressor.Train(x, y, _o.Gbm);
        Trainings++;
    }

    internal override double Predict(SpotHistory history, int i, DateTimeOffset now, double horizonHours)
    {
        if (_model is null || (_o.RetrainInterval is { } every && now - _trainedAt >= every)) Train(now);
        if (_model is null) return Math.Exp(-history.Hazard(i, PriorDowns, PriorUpHours) * horizonHours);
        return _model.Predict(Features(history, i, now.UtcTicks, horizonHours));
    }

    private static float[] Features(SpotHistory h, int i, long now, double hours)
    {
        var age = h.AgeHours(i, now);
        var f = new float[Width];
        f[0] = (float)hours;
        f[1] = (float)age;
        f[2] = (float)Math.Exp(-h.Hazard(i, PriorDowns, PriorUpHours) * hours);
        f[3] = h.RunSurvival(i, age, hours) is { } s ? (float)s : float.NaN;
        f[4] = (float)h.UpShare(i, 1);
        f[5] = (float)h.UpShare(i, 6);
        f[6] = (float)h.UpShare(i, 24);
        f[7] = h.DownsWithin(i, 24);
        f[8] = h.DownsWithin(i, 24 * 7);
        return f;
    }
}
