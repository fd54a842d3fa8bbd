using Gureum.Core.Cloud;
using Gureum.Core.Domain;
using Gureum.Core.Planning;

namespace Gureum.Autoscaling.Operator;

// Memos for Best, which runs for every job that needs a node and, every move check, for every
// shape of running service or checkpointing job, over every offer in both markets (openb: ~75,000 calls × 979 offers).
// Each memo holds exactly what recomputing would give, and is dropped when an input changes:
// - the offers that pass the shape-only filters, per job shape and reference GPU: while the offer
//   list is the same object;
// - a zone's spot hazard per GPU model: while the hazard model has learned nothing new
//   (SpotHazardEstimator.Revision);
// - a zone's spot cooldown per GPU model: while the spot signals object and the instant are the same;
// - the least price per unit of GPU speed per job shape (offers unchanged), which lets the service
//   check skip Best for a service or checkpointing job no new node could save enough on.
// Tests compare decisions with the memos on and off (UseMemos).
public sealed partial class GureumPolicy
{
    private IReadOnlyList<Offer>? _memoOffers;
    private readonly Dictionary<(ShapeKey Shape, string ReferenceGpu, bool Fast), Candidate[]> _candidates = [];
    private int[] _zoneModelOf = []; // offer index → index of its (zone, GPU model)
    private double[] _hazardOf = []; // by (zone, model) index; NaN = not yet asked
    private long _hazardVersion = -1;
    private byte[] _coolingOf = []; // by (zone, model) index: 0 not yet asked, 1 no, 2 in cooldown
    private SpotSignals? _coolingSignals;
    private DateTimeOffset _coolingNow;

    private readonly Dictionary<JobSpec, int> _shapeIdOf = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(ShapeKey Shape, string ReferenceGpu, JobKind Kind, TimeSpan? Checkpoint), int> _shapeIds = [];

    /// <summary>Whether Best uses its memos (default true). Off only to test that they change nothing.</summary>
    internal bool UseMemos { get; init; } = true;

    /// <summary>An offer (index in the offer list) that passes Best's shape-only filters, and the
    /// markets it passes <see cref="Eligibility.Allows(JobSpec, Offer, Market)"/> in.</summary>
    private readonly record struct Candidate(int Index, bool OnDemand, bool Spot)
    {
        public bool Allows(Market m) => m == Market.Spot ? Spot : OnDemand;
    }

    /// <summary>The offers, in list order, a job of this shape may use at all: on GPUs fast enough when
    /// <paramref name="fast"/> (see <see cref="FastExists"/>) and eligible in at least one market.</summary>
    private Candidate[] Candidates(JobSpec spec, bool fast, IReadOnlyList<Offer> offers)
    {
        if (!UseMemos) return Filter(spec, fast, offers);
        Sync(offers);
        var key = (ShapeKey.Of(spec), spec.ReferenceGpu, fast);
        if (!_candidates.TryGetValue(key, out var list)) _candidates[key] = list = Filter(spec, fast, offers);
        return list;
    }

    private Candidate[] Filter(JobSpec spec, bool fast, IReadOnlyList<Offer> offers)
    {
        var list = new List<Candidate>();
        for (var i = 0; i < offers.Count; i++)
        {
            var o = offers[i];
            if (fast && spec.Resources.MilliGpusPerNode > 0 && SpeedRatio(spec, o) < Options.MinSpeedRatio) continue;
            var c = new Candidate(i, Eligibility.Allows(spec, o, Market.OnDemand), Eligibility.Allows(spec, o, Market.Spot));
            if (c.OnDemand || c.Spot) list.Add(c);
        }
        return [.. list];
    }

    /// <summary>The learned spot hazard of offer <paramref name="o"/> (index <paramref name="i"/> in the
    /// offer list last given to <see cref="Candidates"/>).</summary>
    private double HazardAt(int i, Offer o)
    {
        if (!UseMemos) return Models.Spot.Hazard(o.Zone, o.GpuModel);
        if (_hazardVersion != Models.Spot.Revision)
        {
            Array.Fill(_hazardOf, double.NaN);
            _hazardVersion = Models.Spot.Revision;
        }
        ref var h = ref _hazardOf[_zoneModelOf[i]];
        if (double.IsNaN(h)) h = Models.Spot.Hazard(o.Zone, o.GpuModel);
        return h;
    }

    /// <summary>Whether offer <paramref name="o"/> (index <paramref name="i"/>) is in spot cooldown now
    /// (<see cref="ElasticPolicy.SpotCooldownUntil"/> not null).</summary>
    private bool CoolingDown(int i, Offer o, ClusterSnapshot snapshot)
    {
        if (!UseMemos) return SpotCooldownUntil(snapshot, o) is not null;
        if (!ReferenceEquals(_coolingSignals, snapshot.Spot) || _coolingNow != snapshot.Now)
        {
            Array.Clear(_coolingOf);
            (_coolingSignals, _coolingNow) = (snapshot.Spot, snapshot.Now);
        }
        ref var c = ref _coolingOf[_zoneModelOf[i]];
        if (c == 0) c = SpotCooldownUntil(snapshot, o) is null ? (byte)1 : (byte)2;
        return c == 2;
    }

    private readonly Dictionary<(ShapeKey Shape, string ReferenceGpu, bool Fast), double> _minPricePerSpeed = [];

    /// <summary>A lower bound of what moving a service or checkpointing job of this shape with <paramref name="refSeconds"/>
    /// left (on its reference GPU) to any new node costs: the least price ÷ GPU speed over the offers
    /// and markets Best may choose from, × the time left, × its nodes (no boot, no losses; a service's or
    /// checkpointing job's expected time on spot is at least its loss-free time, and the work a
    /// checkpointing job redoes after moving only adds to it). <see cref="CostModel.Estimate"/> of the
    /// node Best picks, alone on it, is never below it.</summary>
    private double MoveCostLowerBound(JobSpec spec, double refSeconds, ClusterSnapshot snapshot)
    {
        var fast = FastExists(spec, snapshot.Offers);
        var candidates = Candidates(spec, fast, snapshot.Offers);
        var key = (ShapeKey.Of(spec), spec.ReferenceGpu, fast);
        if (!_minPricePerSpeed.TryGetValue(key, out var min))
        {
            min = double.PositiveInfinity;
            foreach (var c in candidates)
            {
                var o = snapshot.Offers[c.Index];
                var speed = CostModel.Speed(spec, o);
                foreach (var m in (ReadOnlySpan<Market>)[Market.OnDemand, Market.Spot])
                    if (c.Allows(m)) min = Math.Min(min, (double)(o.PricePerHour(m) ?? 0) / speed);
            }
            _minPricePerSpeed[key] = min;
        }
        return refSeconds / 3600 * min * spec.Resources.Nodes;
    }

    /// <summary>Whether no new node can cost at most (1 − <see cref="GureumOptions.ServiceMoveMinSaving"/>)
    /// × <paramref name="stayUsd"/> for a job with <paramref name="refSeconds"/> left, so that the
    /// move check need not ask Best (<see cref="MoveCostLowerBound"/>, with a margin for rounding).
    /// Always false without memos (the check then asks Best as it did before).</summary>
    private bool NoMoveCanSaveEnough(JobSpec spec, double refSeconds, double stayUsd, ClusterSnapshot snapshot) =>
        UseMemos && MoveCostLowerBound(spec, refSeconds, snapshot) * (1 - 1e-9) > (1 - Options.ServiceMoveMinSaving) * stayUsd;

    /// <summary>A number that is the same for two specs exactly when their (<see cref="ShapeKey"/>,
    /// reference GPU, kind, checkpoint interval) are: the move check memoizes Best by it. Kept per spec object, since a running
    /// job keeps its spec from snapshot to snapshot.</summary>
    private int MoveShapeId(JobSpec spec)
    {
        if (_shapeIdOf.TryGetValue(spec, out var id)) return id;
        if (_shapeIdOf.Count > 100_000) _shapeIdOf.Clear(); // specs of jobs long gone
        var key = (ShapeKey.Of(spec), spec.ReferenceGpu, spec.Kind, spec.CheckpointInterval);
        if (!_shapeIds.TryGetValue(key, out id)) _shapeIds[key] = id = _shapeIds.Count;
        return _shapeIdOf[spec] = id;
    }

    /// <summary>Starts the memos over for a new offer list.</summary>
    private void Sync(IReadOnlyList<Offer> offers)
    {
        if (ReferenceEquals(_memoOffers, offers)) return;
        _memoOffers = offers;
        _candidates.Clear();
        _minPricePerSpeed.Clear();
        // Hazard and cooldown are both keyed by zone and GPU model (SpotSignals.Key).
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        _zoneModelOf = new int[offers.Count];
        for (var i = 0; i < offers.Count; i++)
        {
            var k = SpotSignals.Key(offers[i].Zone, offers[i].GpuModel);
            if (!groups.TryGetValue(k, out var g)) groups[k] = g = groups.Count;
            _zoneModelOf[i] = g;
        }
        _hazardOf = new double[groups.Count];
        Array.Fill(_hazardOf, double.NaN);
        _hazardVersion = Models.Spot.Revision;
        _coolingOf = new byte[groups.Count];
        _coolingSignals = null;
    }
}
