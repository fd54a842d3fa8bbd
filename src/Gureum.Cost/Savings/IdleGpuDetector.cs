namespace Gureum.Cost.Savings;

/// <summary>The idle rule's settings.</summary>
public sealed record IdleRule
{
    /// <summary>A window is idle when every sample in it is at or below this duty cycle (%). Default 5.</summary>
    public double MaxDutyPercent { get; init; } = 5;
    /// <summary>Window length. Default 1 hour.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);
    /// <summary>A window counts only with at least this many samples. Default 10.</summary>
    public int MinSamples { get; init; } = 10;
    /// <summary>A GPU is reported as idle (release it) when at least this share of its windows is idle. Default 0.8.</summary>
    public double IdleShareToRelease { get; init; } = 0.8;

    public override string ToString() =>
        $"a GPU is idle in a {Window.TotalMinutes:F0}-min window when every sample (≥ {MinSamples} in the window) is ≤ {MaxDutyPercent}% duty cycle; release it when ≥ {IdleShareToRelease:P0} of its windows are idle; otherwise stop it in its idle windows";
}

/// <summary>One GPU container's idle finding.</summary>
public sealed record IdleFinding(string Container, int Windows, int IdleWindows, double MeanDutyPercent, bool Release)
{
    public double IdleShare => Windows == 0 ? 0 : (double)IdleWindows / Windows;
}

/// <summary>Finds idle GPUs by <see cref="IdleRule"/> over tumbling windows from each series' first sample.</summary>
public static class IdleGpuDetector
{
    public static IReadOnlyList<IdleFinding> Detect(IEnumerable<ContainerSeries> series, IdleRule rule)
    {
        var w = rule.Window.TotalSeconds;
        var list = new List<IdleFinding>();
        foreach (var s in series)
        {
            if (s.Times.Length == 0) continue;
            var t0 = s.Times[0];
            var byWindow = new SortedDictionary<long, (int N, bool AllLow)>();
            for (var i = 0; i < s.Times.Length; i++)
            {
                var k = (long)Math.Floor((s.Times[i] - t0) / w);
                var (n, low) = byWindow.GetValueOrDefault(k, (0, true));
                byWindow[k] = (n + 1, low && s.DutyPercent[i] <= rule.MaxDutyPercent);
            }
            var counted = byWindow.Values.Where(v => v.N >= rule.MinSamples).ToList();
            var idle = counted.Count(v => v.AllLow);
            list.Add(new IdleFinding(s.Container, counted.Count, idle, s.DutyPercent.Average(), counted.Count > 0 && (double)idle / counted.Count >= rule.IdleShareToRelease));
        }
        return list;
    }
}
