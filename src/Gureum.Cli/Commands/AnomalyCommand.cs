using System.CommandLine;
using System.Globalization;
using Gureum.Prediction.Anomaly;

namespace Gureum.Cli.Commands;

/// <summary><c>gureum anomaly</c>: streaming anomaly detection on metric series.</summary>
internal static class AnomalyCommand
{
    public static Command Create()
    {
        var cmd = new Command("anomaly", "Streaming anomaly detection on metric series.");
        cmd.Subcommands.Add(CreateNab());
        return cmd;
    }

    private static Command CreateNab()
    {
        var data = new Option<string>("--data")
        {
            Description = "Folder of NAB series (timestamp,value CSVs): one family folder, or NAB's data folder with one sub-folder per family.",
            Required = true,
        };
        var labels = new Option<string>("--labels")
        {
            Description = "NAB windows file, e.g. labels/combined_windows.json (keys 'family/file.csv').",
            Required = true,
        };
        var output = new Option<string?>("--out") { Description = "Write per-series results here in NAB's layout (<detector>/<family>/<detector>_<file>.csv)." };
        var profiles = new Option<string?>("--profiles") { Description = "NAB profiles.json; NAB's three built-in profiles when omitted." };
        var scoreboard = new Option<string?>("--scoreboard")
        {
            Description = "Folder holding NAB's published per-file scores (per_file_scores*.csv); looked for next to --labels and --data when omitted.",
        };
        var cmd = new Command("nab", "Run the streaming detector over a NAB corpus and score it with the NAB protocol (windows, three profiles, corpus-wide threshold, normalised to null = 0 and perfect = 100).");
        cmd.Options.Add(data);
        cmd.Options.Add(labels);
        cmd.Options.Add(output);
        cmd.Options.Add(profiles);
        cmd.Options.Add(scoreboard);
        cmd.SetAction(parse => Run(parse.GetValue(data)!, parse.GetValue(labels)!, parse.GetValue(output), parse.GetValue(profiles), parse.GetValue(scoreboard)));
        return cmd;
    }

    private static int Run(string dataDir, string labelsFile, string? outDir, string? profilesFile, string? scoreboardDir)
    {
        if (!Directory.Exists(dataDir))
            throw new CliException($"data folder not found: {dataDir}", "pass --data the folder holding the series CSVs, e.g. shared/data/nab/realAWSCloudwatch");
        if (!File.Exists(labelsFile))
            throw new CliException($"labels file not found: {labelsFile}", "pass --labels NAB's windows JSON, e.g. shared/data/nab/labels/combined_windows_realAWSCloudwatch.json");
        if (scoreboardDir is not null && !Directory.Exists(scoreboardDir))
            throw new CliException($"scoreboard folder not found: {scoreboardDir}", "pass --scoreboard the folder holding per_file_scores*.csv, or leave it out");

        IReadOnlyList<NabSeries> corpus;
        IReadOnlyList<NabProfile> profileList;
        try
        {
            profileList = profilesFile is null ? NabProfile.All : NabProfile.Load(profilesFile);
            corpus = NabCorpus.Load(dataDir, labelsFile);
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message, "fix or replace that file; series are 'timestamp,value' CSVs and labels NAB's {\"family/file.csv\": [[start, end], ...]} windows");
        }

        Console.Error.WriteLine($"loaded {corpus.Count} series, {corpus.Sum(s => s.Windows.Count)} windows from {dataDir}");
        var progress = new SyncProgress(line => Console.Error.WriteLine(line));
        var run = NabRunner.Run(corpus, () => new RobustEnsembleDetector(), profileList, progress);

        IReadOnlyDictionary<string, NabPublishedScore> best = new Dictionary<string, NabPublishedScore>();
        var board = scoreboardDir ?? FindScoreboard(labelsFile, dataDir);
        var perFile = board is null ? null : Directory.EnumerateFiles(board, NabScoreboard.PerFileScoresPattern).Order(StringComparer.Ordinal).FirstOrDefault();
        if (perFile is not null)
        {
            try
            {
                best = NabScoreboard.Best(NabScoreboard.Load(perFile, corpus, profileList));
            }
            catch (InvalidDataException e)
            {
                throw new CliException(e.Message, "pass --scoreboard a folder whose per_file_scores*.csv has NAB's columns Detector,Profile,File,Threshold,Score,...");
            }
        }
        else if (scoreboardDir is not null)
        {
            throw new CliException($"no {NabScoreboard.PerFileScoresPattern} in {scoreboardDir}", "pass --scoreboard the folder holding NAB's published per-file scores");
        }

        var families = string.Join(", ", corpus.Select(s => s.Family).Distinct(StringComparer.Ordinal));
        Console.WriteLine($"NAB scores of {run.Detector} v{run.Version} on {families} ({corpus.Count} series, {corpus.Sum(s => s.Windows.Count)} windows)");
        Console.WriteLine(best.Count > 0
            ? $"{"profile",-20} {"score",8} {"threshold",10} {"raw",8} {"null",7} {"perfect",8}   best published (same files)"
            : $"{"profile",-20} {"score",8} {"threshold",10} {"raw",8} {"null",7} {"perfect",8}");
        foreach (var p in run.Profiles)
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{p.Profile.Name,-20} {p.NormalizedScore,8:F2} {p.Threshold,10:F4} {p.RawScore,8:F2} {p.NullScore,7:F2} {p.PerfectScore,8:F2}");
            if (best.TryGetValue(p.Profile.Name, out var b))
                line += string.Create(CultureInfo.InvariantCulture, $"   {b.NormalizedScore:F2} ({b.Detector})");
            Console.WriteLine(line);
        }
        if (best.Count > 0)
            Console.WriteLine($"published: per-file scores in {perFile}, summed over these files at each detector's whole-corpus threshold and normalised the same way.");

        if (outDir is not null)
        {
            var written = NabResultsWriter.Write(outDir, run);
            Console.Error.WriteLine($"wrote {written.Count} result files under {Path.Combine(outDir, run.Detector)}");
        }
        return ExitCodes.Ok;
    }

    // NAB's own layout has labels/, data/ and results/ side by side; the shared copy adds scoreboard/.
    private static string? FindScoreboard(string labelsFile, string dataDir)
    {
        var candidates = new[]
        {
            Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(labelsFile))),
            Path.GetDirectoryName(Path.GetFullPath(dataDir).TrimEnd(Path.DirectorySeparatorChar)),
        };
        foreach (var c in candidates)
        {
            if (c is null) continue;
            var dir = Path.Combine(c, "scoreboard");
            if (Directory.Exists(dir) && Directory.EnumerateFiles(dir, NabScoreboard.PerFileScoresPattern).Any()) return dir;
        }
        return null;
    }

    // Progress<T> posts to the thread pool; progress lines must come out in order.
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
