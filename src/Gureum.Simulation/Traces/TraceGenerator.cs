using Gureum.Core.Domain;

namespace Gureum.Simulation.Traces;

/// <summary>
/// Synthetic workloads in the style of Gavel and Pollux: Poisson (or diurnal) arrivals, heavy-tailed
/// run times, a GPU-count mix and Zipf-skewed lab and user activity. Deterministic: the same options
/// give the same jobs, drawn from one <see cref="System.Random"/>(seed) in a fixed order.
/// </summary>
public static class TraceGenerator
{
    /// <summary>
    /// Generates <see cref="TraceGeneratorOptions.Jobs"/> jobs lazily, in submit order (ids "job-0000001"…).
    /// Options are validated on the call, not on enumeration.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static IEnumerable<JobSpec> Generate(TraceGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Iterate(options, GpuMix.Parse(options.GpuMix));
    }

    private static IEnumerable<JobSpec> Iterate(TraceGeneratorOptions o, GpuMix mix)
    {
        var rng = new Random(o.Seed);
        var labNames = Enumerable.Range(1, o.Labs).Select(l => $"lab-{l:D2}").ToArray();
        var userNames = labNames.Select(l => Enumerable.Range(1, o.UsersPerLab).Select(u => $"{l}-u{u:D2}").ToArray()).ToArray();
        var labCdf = ZipfCdf(o.Labs, o.ZipfExponent);
        var userCdf = ZipfCdf(o.UsersPerLab, o.ZipfExponent);
        var mixCdf = Cdf(mix.Entries.Select(e => e.Share).ToArray());
        var ratePerSecond = o.RatePerHour / 3600.0;
        var maxRate = o.Arrival == ArrivalProcess.Diurnal ? ratePerSecond * (1 + o.DiurnalAmplitude) : ratePerSecond;
        var idWidth = Math.Max(7, o.Jobs.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var paretoScale = o.MedianDurationSeconds / Math.Pow(2, 1 / o.ParetoShape);
        var t = 0.0;
        for (var i = 1; i <= o.Jobs; i++)
        {
            // Arrival: exponential gaps at the peak rate, thinned to the diurnal rate (Lewis & Shedler).
            while (true)
            {
                t += -Math.Log(1 - rng.NextDouble()) / maxRate;
                if (o.Arrival == ArrivalProcess.Poisson) break;
                var hour = t / 3600.0 % 24;
                var rate = ratePerSecond * (1 + o.DiurnalAmplitude * Math.Cos(2 * Math.PI * (hour - o.DiurnalPeakHour) / 24));
                if (rng.NextDouble() * maxRate < rate) break;
            }

            double seconds = o.DurationDistribution switch
            {
                DurationDistribution.Pareto => paretoScale / Math.Pow(1 - rng.NextDouble(), 1 / o.ParetoShape),
                _ => o.MedianDurationSeconds * Math.Exp(o.LogNormalSigma * Normal(rng)),
            };
            seconds = Math.Round(Math.Clamp(seconds, o.MinDurationSeconds, o.MaxDurationSeconds));

            var lab = Pick(labCdf, rng);
            var user = userNames[lab][Pick(userCdf, rng)];
            var milli = mix.Entries[Pick(mixCdf, rng)].MilliGpus;
            var constrained = rng.NextDouble() < o.GpuModelConstraintShare;
            var model = o.ConstrainedModels.Count > 0 ? o.ConstrainedModels[rng.Next(o.ConstrainedModels.Count)] : null;
            var checkpoints = rng.NextDouble() < o.CheckpointShare;
            var limitFactor = 1 + rng.NextDouble() * ((o.TimeLimitFactor ?? 1) - 1);
            // Drawn only when asked for, so traces generated without services stay as they were.
            var service = o.ServiceShare > 0 && rng.NextDouble() < o.ServiceShare;

            var resources = milli == 0
                ? new ResourceRequest(0, 0, o.CpuOnlyCpus, o.CpuOnlyMemoryGiB)
                : ResourceRequest.FromTrace(milli >= 1000 ? milli / 1000 : 1, milli >= 1000 ? 0 : milli,
                    Math.Max(1, Math.Round(o.CpusPerGpu * milli / 1000.0)), o.MemoryGiBPerGpu * milli / 1000.0);
            var duration = TimeSpan.FromSeconds(seconds);
            yield return new JobSpec
            {
                Id = "job-" + i.ToString("D" + idWidth, System.Globalization.CultureInfo.InvariantCulture),
                User = user,
                Lab = labNames[lab],
                SubmitTime = o.Epoch.AddTicks((long)Math.Round(t * TimeSpan.TicksPerSecond)),
                Duration = duration,
                Resources = resources,
                GpuModels = milli > 0 && constrained && model is not null ? [model] : [],
                CheckpointInterval = checkpoints && !service ? TimeSpan.FromSeconds(o.CheckpointIntervalSeconds) : null,
                Kind = service ? JobKind.Service : JobKind.Batch,
                TimeLimit = o.TimeLimitFactor is null ? null : TimeSpan.FromMinutes(Math.Max(1, Math.Ceiling(seconds * limitFactor / 60 - 1e-9))),
            };
        }
    }

    /// <summary>Standard normal by Box–Muller (one of the pair, so every job draws the same count).</summary>
    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double[] ZipfCdf(int n, double s) =>
        Cdf(Enumerable.Range(1, n).Select(k => 1 / Math.Pow(k, s)).ToArray());

    private static double[] Cdf(double[] weights)
    {
        var total = weights.Sum();
        var cdf = new double[weights.Length];
        var acc = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            acc += weights[i] / total;
            cdf[i] = acc;
        }

        cdf[^1] = 1.0;
        return cdf;
    }

    private static int Pick(double[] cdf, Random rng)
    {
        var u = rng.NextDouble();
        var i = Array.BinarySearch(cdf, u);
        i = i < 0 ? ~i : i + 1;
        return Math.Min(i, cdf.Length - 1);
    }
}
