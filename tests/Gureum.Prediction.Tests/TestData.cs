namespace Gureum.Prediction.Tests;

/// <summary>Finds the shared real-data folder (<c>shared/data</c>) used by real-data tests.</summary>
public static class TestData
{
    /// <summary>
    /// The data root: <c>GUREUM_DATA</c> if set, else the first <c>shared/data</c> found walking up
    /// from the test binary; null when neither exists.
    /// </summary>
    public static string? Root { get; } = FindRoot();

    /// <summary>True when CI=true: missing data is then a failure, not a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Path of <paramref name="relative"/> under the data root; throws (failing the test) when there is none.</summary>
    public static string PathOf(string relative) =>
        Root is null
            ? throw new InvalidOperationException("real data not found: set GUREUM_DATA to the folder holding nab/, or run from a checkout next to shared/data")
            : Path.Combine(Root, relative);

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("GUREUM_DATA");
        if (!string.IsNullOrWhiteSpace(env)) return Directory.Exists(env) ? env : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}

/// <summary>
/// A fact that needs the real data sets: skipped with a message when they are absent, unless
/// CI=true, where it runs (and fails) so a missing data mount cannot pass silently.
/// </summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the data root is missing outside CI.</summary>
    public RealDataFactAttribute()
    {
        if (TestData.Root is null && !TestData.IsCi)
            Skip = "real data not found (set GUREUM_DATA or place shared/data above the test binary); runs and fails when CI=true";
    }
}
