namespace Gureum.Tests;

/// <summary>
/// Locates the real public data (<c>shared/data</c>) for tests that run over it. Order: the
/// <c>GUREUM_DATA</c> environment variable; otherwise walk up from the test binary's directory and
/// take the first <c>shared/data</c> folder found beside an ancestor (so <c>/work/main/tests/…</c>
/// finds <c>/work/shared/data</c>). Tests over it use <see cref="RealDataFactAttribute"/>: they skip
/// when the data is absent, except when <c>CI=true</c>, where they run and fail.
/// </summary>
public static class TestData
{
    /// <summary>Environment variable naming the data root.</summary>
    public const string EnvironmentVariable = "GUREUM_DATA";

    /// <summary>The data root, or null when it cannot be found.</summary>
    public static string? Root { get; } = Locate();

    /// <summary>True when <c>CI=true</c>: missing data is then a failure, not a skip.</summary>
    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why real-data tests cannot run, with the fix.</summary>
    public static string MissingMessage
    {
        get
        {
            var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
            var why = string.IsNullOrEmpty(env)
                ? $"no shared/data folder was found above {AppContext.BaseDirectory}"
                : $"{EnvironmentVariable}={env} is not a directory";
            return $"Real data not found: {why}. To fix: set {EnvironmentVariable} to the shared/data folder (e.g. /work/shared/data).";
        }
    }

    /// <summary>The data root; throws with <see cref="MissingMessage"/> when absent (the CI=true path).</summary>
    public static string RequireRoot() => Root ?? throw new InvalidOperationException(MissingMessage);

    /// <summary>A path under the data root; throws when the root is absent.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([RequireRoot(), .. parts]);

    private static string? Locate()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env))
        {
            return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>
/// A fact over the real data: skipped with <see cref="TestData.MissingMessage"/> when the data is
/// absent, unless <c>CI=true</c>, in which case it runs (and fails through
/// <see cref="TestData.RequireRoot"/>). xunit v2 has no dynamic skip, so the decision is made here.
/// </summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (TestData.Root is null && !TestData.IsCi)
        {
            Skip = TestData.MissingMessage;
        }
    }
}
