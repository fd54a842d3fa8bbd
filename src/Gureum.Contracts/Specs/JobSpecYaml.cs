using System.Globalization;
using System.Text.RegularExpressions;
using Gureum.Core.Domain;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gureum.Contracts.Specs;

/// <summary>One problem in a job spec: where it is, what is wrong, how to fix it.</summary>
/// <param name="Path">Field path, e.g. <c>resources.gpus</c>; <c>spec</c> for the document itself.</param>
/// <param name="Message">What is wrong, quoting the value.</param>
/// <param name="Line">1-based line of the offending node.</param>
/// <param name="Column">1-based column of the offending node.</param>
/// <param name="Fix">How to fix it.</param>
public sealed record SpecError(string Path, string Message, int Line, int Column, string? Fix)
{
    /// <summary><c>resources.gpus: "A100:x" is not a count (line 4, col 9). To fix: …</c></summary>
    public override string ToString() =>
        $"{Path}: {Message} (line {Line}, col {Column}).{(Fix is null ? "" : " To fix: " + Fix)}";
}

/// <summary>The outcome of <see cref="JobSpecYaml.Parse"/>: a draft, or every error found.</summary>
public sealed record JobSpecParseResult(JobSpecDraft? Draft, IReadOnlyList<SpecError> Errors)
{
    /// <summary>No errors: <see cref="Draft"/> is set.</summary>
    public bool IsValid => Draft is not null && Errors.Count == 0;

    /// <summary>Errors grouped by field path (the ProblemDetails <c>errors</c> member).</summary>
    public IReadOnlyDictionary<string, string[]> ErrorsByPath() =>
        Errors.GroupBy(e => e.Path).ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray());
}

/// <summary>What the parser checks against.</summary>
public sealed record JobSpecYamlOptions
{
    /// <summary>
    /// GPU models on offer (canonical or any spelling <see cref="GpuModels.Canonical"/> knows). A spec
    /// naming another model is an error listing these. Null: any model in <see cref="GpuModels.Speed"/>.
    /// </summary>
    public IReadOnlyCollection<string>? OfferedGpuModels { get; init; }
}

/// <summary>
/// Parses and validates the job spec YAML (TEAM.md contract D). Reports every error, each with its
/// field path, line, column and a fix; never throws on bad input.
/// </summary>
/// <remarks>
/// Grammar: <c>name, lab, project</c> (letters, digits, <c>.-_</c>, up to 63); <c>resources:
/// {gpus, cpus, memory, nodes, spot, zones}</c>; <c>run</c> (required); <c>image, workdir</c>;
/// <c>env</c> (map of NAME: value); <c>kind</c> (<c>batch</c>, the default, or <c>service</c>: a
/// long-running server that loses no work when preempted); <c>checkpoint: {dir, interval}</c>; <c>time_limit, duration</c>
/// (durations like <c>90s, 30m, 4h, 1d, 1h30m</c>); <c>priority</c> (integer); <c>deadline</c>
/// (ISO 8601 with a time zone). Memory: a number with a unit Ki/Mi/Gi/Ti (binary), K/M/G/T or
/// KB/MB/GB/TB (decimal), or KiB/MiB/GiB/TiB.
/// </remarks>
public static partial class JobSpecYaml
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly string[] TopKeys =
        ["name", "lab", "project", "kind", "resources", "run", "image", "workdir", "env", "checkpoint", "time_limit", "priority", "deadline", "duration"];
    private static readonly string[] ResourceKeys = ["gpus", "cpus", "memory", "nodes", "spot", "zones"];
    private static readonly string[] CheckpointKeys = ["dir", "interval"];

    // Spellings people bring from SkyPilot, Slurm, Kubernetes and docker-compose.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["accelerators"] = "gpus", ["gpu"] = "gpus", ["gres"] = "gpus", ["cpu"] = "cpus", ["vcpus"] = "cpus",
        ["mem"] = "memory", ["ram"] = "memory", ["use_spot"] = "spot", ["zone"] = "zones", ["node"] = "nodes",
        ["num_nodes"] = "nodes", ["command"] = "run", ["cmd"] = "run", ["script"] = "run", ["envs"] = "env",
        ["environment"] = "env", ["working_dir"] = "workdir", ["workdir_path"] = "workdir", ["container"] = "image",
        ["timelimit"] = "time_limit", ["time-limit"] = "time_limit", ["timeLimit"] = "time_limit", ["time"] = "time_limit",
        ["walltime"] = "time_limit", ["resource"] = "resources", ["team"] = "lab", ["group"] = "lab",
    };

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> names it in messages about the whole document.</summary>
    public static JobSpecParseResult Parse(string text, string source, JobSpecYamlOptions? options = null)
    {
        options ??= new JobSpecYamlOptions();
        var errors = new List<SpecError>();
        YamlNode? root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
            if (stream.Documents.Count > 1)
            {
                var second = stream.Documents[1].RootNode;
                errors.Add(new SpecError("spec", $"{source} holds {stream.Documents.Count} YAML documents", (int)second.Start.Line, (int)second.Start.Column,
                    "put one job in each file (remove the '---' separator)"));
            }
        }
        catch (YamlException e)
        {
            var msg = e.InnerException?.Message ?? e.Message;
            // YamlDotNet prefixes "(Lin: …, Col: …) - (…): " to its messages; the position is given separately.
            var cut = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith('(') && cut > 0) msg = msg[(cut + 3)..];
            errors.Add(new SpecError("spec", $"{source} is not valid YAML: {msg.TrimEnd('.')}", (int)e.Start.Line, (int)e.Start.Column,
                "fix the YAML syntax at that place (indent with spaces, 'key: value', quote values holding ': ' or '#')"));
            return new JobSpecParseResult(null, errors);
        }

        if (root is null || root is YamlScalarNode { Value: null or "" })
        {
            errors.Add(new SpecError("spec", $"{source} is empty", 1, 1, "write at least 'run: COMMAND', e.g. run: python train.py"));
            return new JobSpecParseResult(null, errors);
        }
        if (root is not YamlMappingNode map)
        {
            errors.Add(new SpecError("spec", $"{source} is not a mapping of keys to values", (int)root.Start.Line, (int)root.Start.Column,
                "write 'key: value' lines, e.g. run: python train.py"));
            return new JobSpecParseResult(null, errors);
        }

        var p = new Parser(errors, options);
        var draft = p.Top(map);
        return errors.Count == 0 ? new JobSpecParseResult(draft, errors) : new JobSpecParseResult(null, errors);
    }

    /// <summary>Parses a duration: <c>90s</c>, <c>30m</c>, <c>4h</c>, <c>1d</c>, <c>1h30m</c>, <c>1.5h</c>. Null when malformed.</summary>
    public static TimeSpan? ParseDuration(string s)
    {
        var m = DurationRegex().Match(s.Trim());
        if (!m.Success) return null;
        var total = 0.0;
        foreach (Capture c in m.Groups["part"].Captures)
        {
            var part = PartRegex().Match(c.Value);
            var n = double.Parse(part.Groups[1].Value, Inv);
            total += part.Groups[2].Value switch { "s" => n, "m" => n * 60, "h" => n * 3600, "d" => n * 86400, _ => double.NaN };
        }
        return total is > 0 and < 3.65e9 ? TimeSpan.FromSeconds(total) : (total == 0 ? TimeSpan.Zero : null);
    }

    /// <summary>Parses memory with a unit into GiB (<c>64Gi</c> = 64, <c>512Mi</c> = 0.5, <c>64G</c> = 59.6). Null when malformed or unit-less.</summary>
    public static double? ParseMemoryGiB(string s)
    {
        var m = MemoryRegex().Match(s.Trim());
        if (!m.Success) return null;
        var n = double.Parse(m.Groups[1].Value, Inv);
        const double Gi = 1024.0 * 1024 * 1024;
        double bytesPerUnit = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "KI" or "KIB" => 1024, "MI" or "MIB" => 1024.0 * 1024, "GI" or "GIB" => Gi, "TI" or "TIB" => Gi * 1024,
            "K" or "KB" => 1e3, "M" or "MB" => 1e6, "G" or "GB" => 1e9, "T" or "TB" => 1e12,
            _ => double.NaN,
        };
        return n * bytesPerUnit / Gi;
    }

    /// <summary>Closest known key within two edits (or a known alias), for "did you mean".</summary>
    internal static string? Suggest(string key, IReadOnlyList<string> known)
    {
        if (Aliases.TryGetValue(key, out var alias) && known.Contains(alias)) return alias;
        var norm = key.Replace('-', '_').ToLowerInvariant();
        if (known.Contains(norm)) return norm;
        string? best = null;
        var bestD = int.MaxValue;
        foreach (var k in known)
        {
            var d = Levenshtein(norm, k);
            if (d < bestD) (best, bestD) = (k, d);
        }
        return bestD <= Math.Max(1, Math.Min(2, key.Length / 3)) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?\s*[smhd])(?:\s*(?<part>\d+(?:\.\d+)?\s*[smhd]))*$")]
    private static partial Regex DurationRegex();

    [GeneratedRegex(@"(\d+(?:\.\d+)?)\s*([smhd])")]
    private static partial Regex PartRegex();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB|Ki|Mi|Gi|Ti|KB|MB|GB|TB|K|M|G|T)$", RegexOptions.IgnoreCase)]
    private static partial Regex MemoryRegex();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NameRegex();

    /// <summary>Whether <paramref name="name"/> is a valid job, lab, project or user name (the rule of <c>name:</c>).</summary>
    public static bool IsValidName(string? name) => name is not null && NameRegex().IsMatch(name);

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNameRegex();

    private sealed class Parser(List<SpecError> errors, JobSpecYamlOptions options)
    {
        private void Error(string path, YamlNode node, string message, string? fix) =>
            errors.Add(new SpecError(path, message, (int)node.Start.Line, (int)node.Start.Column, fix));

        private static string Show(YamlNode node) => node switch
        {
            YamlScalarNode s => $"\"{s.Value}\"",
            YamlSequenceNode => "a list",
            YamlMappingNode => "a mapping",
            _ => "this value",
        };

        /// <summary>Checks keys against the known ones; returns key → (key node, value node) of the known ones.</summary>
        private Dictionary<string, (YamlNode Key, YamlNode Value)> Keys(YamlMappingNode map, string prefix, IReadOnlyList<string> known)
        {
            var found = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var path = prefix.Length == 0 ? "?" : prefix;
                if (k is not YamlScalarNode { Value: { } key })
                {
                    Error(path, k, "a key must be a plain word", $"use one of: {string.Join(", ", known)}");
                    continue;
                }
                var full = prefix.Length == 0 ? key : $"{prefix}.{key}";
                if (!known.Contains(key))
                {
                    var hint = Suggest(key, known);
                    Error(full, k, $"unknown key \"{key}\"" + (hint is null ? "" : $"; did you mean \"{hint}\"?"),
                        hint is null ? $"remove it, or use one of: {string.Join(", ", known)}" : $"rename it to \"{hint}\"");
                    continue;
                }
                found[key] = (k, v);
            }
            return found;
        }

        private string? Scalar(string path, YamlNode node, string example)
        {
            if (node is YamlScalarNode s) return s.Value;
            Error(path, node, $"expected a single value, found {Show(node)}", $"write it like {example}");
            return null;
        }

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" };

        public JobSpecDraft? Top(YamlMappingNode map)
        {
            var k = Keys(map, "", TopKeys);
            string? Name(string key)
            {
                if (!k.TryGetValue(key, out var kv) || IsNull(kv.Value)) return null;
                var v = Scalar(key, kv.Value, $"{key}: my-{key}");
                if (v is null) return null;
                if (!NameRegex().IsMatch(v))
                {
                    Error(key, kv.Value, $"\"{v}\" is not a valid {key} name", "use letters, digits, '.', '-' or '_', starting with a letter or digit, at most 63 characters");
                    return null;
                }
                return v;
            }

            var name = Name("name");
            var lab = Name("lab");
            var project = Name("project");

            string? run = null;
            if (!k.TryGetValue("run", out var runKv))
            {
                Error("run", map, "is missing: a job needs a command", "add a line like run: python train.py --epochs 3");
            }
            else
            {
                run = Scalar("run", runKv.Value, "run: python train.py");
                if (run is not null && string.IsNullOrWhiteSpace(run))
                {
                    Error("run", runKv.Value, "is empty", "give the command to run, e.g. run: python train.py");
                    run = null;
                }
            }

            string? Text(string key, string example)
            {
                if (!k.TryGetValue(key, out var kv) || IsNull(kv.Value)) return null;
                var v = Scalar(key, kv.Value, example);
                if (v is not null && string.IsNullOrWhiteSpace(v))
                {
                    Error(key, kv.Value, "is empty", $"remove the line or write it like {example}");
                    return null;
                }
                return v;
            }

            var image = Text("image", "image: localhost/trainer:1");
            var workdir = Text("workdir", "workdir: ./");
            var env = k.TryGetValue("env", out var envKv) ? Env(envKv.Value) : new Dictionary<string, string>();
            var ckpt = k.TryGetValue("checkpoint", out var ckKv) && !IsNull(ckKv.Value) ? Checkpoint(ckKv.Value) : null;
            var timeLimit = k.TryGetValue("time_limit", out var tlKv) ? Duration("time_limit", tlKv.Value, allowZero: false) : null;
            var duration = k.TryGetValue("duration", out var duKv) ? Duration("duration", duKv.Value, allowZero: false) : null;

            var kind = JobKind.Batch;
            if (k.TryGetValue("kind", out var kiKv) && Scalar("kind", kiKv.Value, "kind: service") is { } ki)
            {
                switch (ki.Trim().ToLowerInvariant())
                {
                    case "batch" or "job": kind = JobKind.Batch; break;
                    case "service" or "serve" or "server": kind = JobKind.Service; break;
                    default:
                        Error("kind", kiKv.Value, $"\"{ki}\" is not a job kind", "write kind: batch (runs to completion, the default) or kind: service (serves until cancelled; a preemption loses no work)");
                        break;
                }
            }

            var priority = 0;
            if (k.TryGetValue("priority", out var prKv) && Scalar("priority", prKv.Value, "priority: 10") is { } pr)
            {
                if (!int.TryParse(pr, NumberStyles.AllowLeadingSign, Inv, out priority) || priority is < -1_000_000 or > 1_000_000)
                    Error("priority", prKv.Value, $"\"{pr}\" is not a whole number between -1000000 and 1000000", "write it like priority: 10 (larger runs first)");
            }

            DateTimeOffset? deadline = null;
            if (k.TryGetValue("deadline", out var dlKv) && Scalar("deadline", dlKv.Value, "deadline: 2026-12-01T00:00:00Z") is { } dl)
            {
                if (!DateTimeOffset.TryParse(dl, Inv, DateTimeStyles.None, out var d) ||
                    !(dl.EndsWith('Z') || dl.EndsWith('z') || Regex.IsMatch(dl, @"[+-]\d\d:?\d\d$")))
                    Error("deadline", dlKv.Value, $"\"{dl}\" is not a date and time with a time zone", "write ISO 8601 with Z or an offset, like deadline: 2026-12-01T00:00:00Z");
                else deadline = d;
            }

            var res = new Res();
            if (k.TryGetValue("resources", out var rKv) && !IsNull(rKv.Value))
            {
                if (rKv.Value is YamlMappingNode rmap) res = Resources(rmap);
                else Error("resources", rKv.Value, $"expected a mapping, found {Show(rKv.Value)}", "indent the resource keys under it, e.g.\n  resources:\n    gpus: A100:1");
            }

            if (res.Gpus.Milli > 0 && res.Nodes > 1 && k.TryGetValue("resources", out var rk2))
                Error("resources.nodes", rk2.Value, $"a share of a GPU ({res.Gpus}) cannot span {res.Nodes} nodes", "use whole GPUs for multi-node jobs, or nodes: 1");
            if (ckpt is not null && timeLimit is { } tl && ckpt.Interval > tl)
                Error("checkpoint.interval", ckKv.Value, $"{ckpt.Interval} is longer than time_limit {tl}", "checkpoint more often than the time limit, e.g. interval: 30m");

            if (errors.Count > 0 || run is null) return null;
            return new JobSpecDraft
            {
                Name = name, Lab = lab, Project = project, Run = run, Image = image, Workdir = workdir, Env = env,
                Checkpoint = ckpt, TimeLimit = timeLimit, Duration = duration, Priority = priority, Deadline = deadline, Kind = kind,
                Gpus = res.Gpus, Cpus = res.Cpus, MemoryGiB = res.MemoryGiB, Nodes = res.Nodes, Spot = res.Spot, Zones = res.Zones,
            };
        }

        private sealed record Res
        {
            public GpuRequest Gpus { get; init; } = GpuRequest.None;
            public double Cpus { get; init; } = JobSpecDraft.DefaultCpus;
            public double MemoryGiB { get; init; } = JobSpecDraft.DefaultMemoryGiB;
            public int Nodes { get; init; } = 1;
            public SpotPreference Spot { get; init; } = SpotPreference.Auto;
            public IReadOnlyList<string> Zones { get; init; } = [];
        }

        private Res Resources(YamlMappingNode map)
        {
            var k = Keys(map, "resources", ResourceKeys);
            var r = new Res();
            if (k.TryGetValue("gpus", out var g) && !IsNull(g.Value) && Scalar("resources.gpus", g.Value, "gpus: A100:4") is { } gv)
                r = r with { Gpus = Gpus(gv, g.Value) ?? GpuRequest.None };
            if (k.TryGetValue("cpus", out var c) && Scalar("resources.cpus", c.Value, "cpus: 8") is { } cv)
            {
                if (double.TryParse(cv, NumberStyles.Float, Inv, out var cpus) && cpus > 0 && cpus <= 4096) r = r with { Cpus = cpus };
                else Error("resources.cpus", c.Value, $"\"{cv}\" is not a positive number of CPUs", "write a number like cpus: 8 (0.5 for half a core)");
            }
            if (k.TryGetValue("memory", out var m) && Scalar("resources.memory", m.Value, "memory: 64Gi") is { } mv)
            {
                var gib = ParseMemoryGiB(mv);
                if (gib is null)
                    Error("resources.memory", m.Value,
                        double.TryParse(mv, NumberStyles.Float, Inv, out _) ? $"\"{mv}\" has no unit" : $"\"{mv}\" is not an amount of memory",
                        $"write a number and a unit Gi, G or Mi, like memory: {(double.TryParse(mv, NumberStyles.Float, Inv, out var bare) ? bare.ToString(Inv) : "64")}Gi");
                else if (gib <= 0 || gib > 1 << 20)
                    Error("resources.memory", m.Value, $"\"{mv}\" is out of range", "give more than zero and at most 1048576Gi, like memory: 64Gi");
                else r = r with { MemoryGiB = gib.Value };
            }
            if (k.TryGetValue("nodes", out var n) && Scalar("resources.nodes", n.Value, "nodes: 2") is { } nv)
            {
                if (int.TryParse(nv, NumberStyles.None, Inv, out var nodes) && nodes is >= 1 and <= 4096) r = r with { Nodes = nodes };
                else Error("resources.nodes", n.Value, $"\"{nv}\" is not a whole number of nodes from 1 to 4096", "write it like nodes: 2 (placed all or nothing)");
            }
            if (k.TryGetValue("spot", out var s) && Scalar("resources.spot", s.Value, "spot: auto") is { } sv)
            {
                // YAML 1.1 readers turn yes/no/true/false into booleans; accept them as always/never.
                SpotPreference? spot = sv.Trim().ToLowerInvariant() switch
                {
                    "auto" => SpotPreference.Auto,
                    "always" or "true" or "yes" => SpotPreference.Always,
                    "never" or "false" or "no" => SpotPreference.Never,
                    _ => null,
                };
                if (spot is { } sp) r = r with { Spot = sp };
                else Error("resources.spot", s.Value, $"\"{sv}\" is not a spot preference", "write spot: auto, spot: always or spot: never");
            }
            if (k.TryGetValue("zones", out var z) && !IsNull(z.Value))
            {
                var zones = new List<string>();
                if (z.Value is YamlScalarNode zs && !string.IsNullOrWhiteSpace(zs.Value)) zones.Add(zs.Value.Trim());
                else if (z.Value is YamlSequenceNode seq)
                {
                    var i = 0;
                    foreach (var item in seq)
                    {
                        if (item is YamlScalarNode { Value: { } zv } && !string.IsNullOrWhiteSpace(zv)) zones.Add(zv.Trim());
                        else Error($"resources.zones[{i}]", item, $"expected a zone name, found {Show(item)}", "write zones: [us-east-1a, us-east-1b]");
                        i++;
                    }
                }
                else Error("resources.zones", z.Value, $"expected a list of zones, found {Show(z.Value)}", "write zones: [us-east-1a, us-east-1b]");
                r = r with { Zones = zones };
            }
            return r;
        }

        private GpuRequest? Gpus(string text, YamlNode node)
        {
            const string Path = "resources.gpus";
            const string Fix = "write MODEL:COUNT like A100:4, a count like 2, or a share of one GPU like 0.5";
            var v = text.Trim();
            string modelsPart;
            string countPart;
            var colon = v.LastIndexOf(':');
            if (colon >= 0) (modelsPart, countPart) = (v[..colon], v[(colon + 1)..]);
            else if (v.Length > 0 && (char.IsDigit(v[0]) || v[0] is '.' or '-' or '+')) (modelsPart, countPart) = ("", v);
            else (modelsPart, countPart) = (v, "1");

            var ok = true;
            var models = new List<string>();
            if (colon >= 0 && string.IsNullOrWhiteSpace(modelsPart))
            {
                Error(Path, node, $"\"{text}\" names no GPU model before ':'", Fix);
                ok = false;
            }
            foreach (var raw in modelsPart.Split(',', StringSplitOptions.TrimEntries))
            {
                if (modelsPart.Length == 0) break;
                if (raw.Length == 0)
                {
                    Error(Path, node, $"\"{text}\" has an empty GPU model in its list", "separate models with single commas, like A100,H100:2");
                    ok = false;
                    continue;
                }
                var canonical = GpuModels.Canonical(raw);
                var offered = Offered();
                if (!offered.Contains(canonical, StringComparer.OrdinalIgnoreCase))
                {
                    Error(Path, node,
                        offered.Count == 0 ? $"\"{raw}\" is not on offer: no GPU model is offered" : $"\"{raw}\" is not a GPU model on offer",
                        offered.Count == 0 ? "ask for no GPU (remove resources.gpus), or ask an operator to add GPU offers" : $"use one of {string.Join(", ", offered)}");
                    ok = false;
                    continue;
                }
                if (!models.Contains(canonical, StringComparer.OrdinalIgnoreCase)) models.Add(offered.First(o => string.Equals(o, canonical, StringComparison.OrdinalIgnoreCase)));
            }

            if (!double.TryParse(countPart.Trim(), NumberStyles.AllowDecimalPoint, Inv, out var count) || !double.IsFinite(count))
            {
                Error(Path, node, $"\"{text}\" is not a count", Fix);
                return null;
            }
            int whole = 0, milli = 0;
            if (count == 0)
            {
                if (models.Count > 0)
                {
                    Error(Path, node, $"\"{text}\" asks for zero GPUs of a model", "give a count above zero like A100:1, or remove resources.gpus for a CPU-only job");
                    return null;
                }
            }
            else if (count < 1)
            {
                milli = (int)Math.Round(count * 1000);
                if (milli is < 1 or > 999)
                {
                    Error(Path, node, $"\"{text}\" is too small a share of a GPU", "give at least 0.001 of a GPU, like 0.5");
                    return null;
                }
            }
            else if (count != Math.Floor(count))
            {
                Error(Path, node, $"\"{text}\" is not a whole number of GPUs", "use whole GPUs (like 2), or a share of one GPU below 1 (like 0.5)");
                return null;
            }
            else if (count > 1024)
            {
                Error(Path, node, $"\"{text}\" asks for more than 1024 GPUs on one node", "give GPUs per node and use resources.nodes for more nodes, like gpus: A100:8 with nodes: 4");
                return null;
            }
            else whole = (int)count;
            return ok ? new GpuRequest(whole, milli, models) : null;
        }

        private List<string>? offeredCache;

        private List<string> Offered() => offeredCache ??= (options.OfferedGpuModels ?? GpuModels.Speed.Keys.ToList())
            .Select(GpuModels.Canonical).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();

        private Dictionary<string, string> Env(YamlNode node)
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (IsNull(node)) return env;
            if (node is not YamlMappingNode map)
            {
                Error("env", node, $"expected a mapping of NAME: value, found {Show(node)}", "write env: {SEED: \"1\", WANDB_MODE: offline}");
                return env;
            }
            foreach (var (k, v) in map.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? "";
                if (!EnvNameRegex().IsMatch(key))
                {
                    Error($"env.{key}", k, $"\"{key}\" is not a valid environment variable name", "use letters, digits and '_', not starting with a digit, like MY_VAR");
                    continue;
                }
                if (key.StartsWith("GUREUM_", StringComparison.Ordinal) || key is "CUDA_VISIBLE_DEVICES" or "NVIDIA_VISIBLE_DEVICES")
                {
                    Error($"env.{key}", k, $"{key} is set by Gureum for every job (its id, attempt, work dir and the GPUs it was given)", $"remove {key} from env; read it in the job instead");
                    continue;
                }
                if (v is not YamlScalarNode { Value: var value })
                {
                    Error($"env.{key}", v, $"expected a single value, found {Show(v)}", $"write {key}: \"value\"");
                    continue;
                }
                env[key] = value ?? "";
            }
            return env;
        }

        private CheckpointSpec? Checkpoint(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error("checkpoint", node, $"expected a mapping, found {Show(node)}", "write checkpoint: {dir: /ckpt, interval: 30m}");
                return null;
            }
            var k = Keys(map, "checkpoint", CheckpointKeys);
            string? dir = null;
            if (k.TryGetValue("dir", out var d) && !IsNull(d.Value))
            {
                dir = Scalar("checkpoint.dir", d.Value, "dir: /ckpt");
                if (dir is not null && string.IsNullOrWhiteSpace(dir))
                {
                    Error("checkpoint.dir", d.Value, "is empty", "give a directory like dir: /ckpt, or remove it");
                    dir = null;
                }
            }
            if (!k.TryGetValue("interval", out var i))
            {
                Error("checkpoint.interval", map, "is missing", "say how often the job checkpoints, like interval: 30m");
                return null;
            }
            var interval = Duration("checkpoint.interval", i.Value, allowZero: false);
            return interval is { } iv ? new CheckpointSpec(dir, iv) : null;
        }

        private TimeSpan? Duration(string path, YamlNode node, bool allowZero)
        {
            if (IsNull(node)) return null;
            var v = Scalar(path, node, $"{path.Split('.')[^1]}: 4h");
            if (v is null) return null;
            var d = ParseDuration(v);
            if (d is null)
            {
                var bare = double.TryParse(v, NumberStyles.Float, Inv, out var n);
                Error(path, node, bare ? $"\"{v}\" has no unit" : $"\"{v}\" is not a duration",
                    bare ? $"add a unit s, m, h or d, like {n.ToString(Inv)}m" : "write a number and a unit s, m, h or d, like 30m, 4h, 1d or 1h30m");
                return null;
            }
            if (d == TimeSpan.Zero && !allowZero)
            {
                Error(path, node, $"\"{v}\" is zero", "give a duration above zero, like 30m");
                return null;
            }
            return d;
        }
    }
}
