using Gureum.Contracts.Specs;
using Gureum.Core.Domain;

namespace Gureum.Contracts.Tests.Specs;

public sealed class JobSpecYamlTests
{
    private static readonly JobSpecYamlOptions Offered = new() { OfferedGpuModels = ["A100", "H100", "T4", "V100"] };

    private static JobSpecParseResult Parse(string yaml) => JobSpecYaml.Parse(yaml.Replace("\r", ""), "job.yaml", Offered);

    private static JobSpecDraft Valid(string yaml)
    {
        var r = Parse(yaml);
        Assert.True(r.IsValid, string.Join("\n", r.Errors));
        return r.Draft!;
    }

    private static SpecError Single(string yaml)
    {
        var r = Parse(yaml);
        Assert.False(r.IsValid);
        Assert.Null(r.Draft);
        return Assert.Single(r.Errors);
    }

    private const string Full = """
        name: bert-finetune
        lab: nlp
        project: qa
        resources:
          gpus: A100:4
          cpus: 8
          memory: 64Gi
          spot: always
          zones: [us-east-1a, us-east-1b]
        run: python train.py --epochs 3
        image: localhost/trainer:1
        workdir: ./
        env: {SEED: "1", MODE: offline}
        checkpoint: {dir: /ckpt, interval: 30m}
        time_limit: 4h
        priority: 10
        deadline: 2026-12-01T00:00:00Z
        duration: 20m
        """;

    [Fact]
    public void Parse_FullContractExample_ReadsEveryField()
    {
        var d = Valid(Full);
        Assert.Equal("bert-finetune", d.Name);
        Assert.Equal("nlp", d.Lab);
        Assert.Equal("qa", d.Project);
        Assert.Equal(new GpuRequest(4, 0, ["A100"]), d.Gpus);
        Assert.Equal(8, d.Cpus);
        Assert.Equal(64, d.MemoryGiB);
        Assert.Equal(SpotPreference.Always, d.Spot);
        Assert.Equal(["us-east-1a", "us-east-1b"], d.Zones);
        Assert.Equal("python train.py --epochs 3", d.Run);
        Assert.Equal("localhost/trainer:1", d.Image);
        Assert.Equal("./", d.Workdir);
        Assert.Equal("1", d.Env["SEED"]);
        Assert.Equal("offline", d.Env["MODE"]);
        Assert.Equal(new CheckpointSpec("/ckpt", TimeSpan.FromMinutes(30)), d.Checkpoint);
        Assert.Equal(TimeSpan.FromHours(4), d.TimeLimit);
        Assert.Equal(10, d.Priority);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), d.Deadline);
        Assert.Equal(TimeSpan.FromMinutes(20), d.Duration);
    }

    [Fact]
    public void Parse_OnlyRun_UsesDefaults()
    {
        var d = Valid("run: echo hello");
        Assert.Equal(GpuRequest.None, d.Gpus);
        Assert.Equal(JobSpecDraft.DefaultCpus, d.Cpus);
        Assert.Equal(JobSpecDraft.DefaultMemoryGiB, d.MemoryGiB);
        Assert.Equal(1, d.Nodes);
        Assert.Equal(SpotPreference.Auto, d.Spot);
        Assert.Null(d.Lab);
        Assert.Empty(d.Env);
    }

    [Fact]
    public void ToJobSpec_FullExample_MapsToCoreSpec()
    {
        var spec = Valid(Full).ToJobSpec("j-1", "alice", "vision", new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal("nlp", spec.Lab); // the spec's lab wins over the submitter's
        Assert.Equal(new ResourceRequest(4, 0, 8, 64, 1), spec.Resources);
        Assert.Equal(["A100"], spec.GpuModels);
        Assert.Equal("A100", spec.ReferenceGpu);
        Assert.Equal(TimeSpan.FromMinutes(30), spec.CheckpointInterval);
        Assert.Equal("python train.py --epochs 3", spec.Command);
        Assert.Equal(SpotPreference.Always, spec.Spot);
        Assert.Equal("1", spec.Env["SEED"]);
        Assert.Equal("offline", spec.Env["MODE"]);
        var noLab = Valid("run: x").ToJobSpec("j-2", "bob", "vision", DateTimeOffset.UnixEpoch);
        Assert.Equal("vision", noLab.Lab);
        Assert.Equal("default", noLab.Project);
    }

    [Theory]
    [InlineData("A100:4", 4, 0, "A100")]
    [InlineData("a100:2", 2, 0, "A100")]
    [InlineData("A100-40GB:1", 1, 0, "A100")]
    [InlineData("\"0.5\"", 0, 500, "")]
    [InlineData("0.25", 0, 250, "")]
    [InlineData("2", 2, 0, "")]
    [InlineData("T4", 1, 0, "T4")]
    [InlineData("\"A100,H100:2\"", 2, 0, "A100,H100")]
    [InlineData("T4:0.5", 0, 500, "T4")]
    [InlineData("0", 0, 0, "")]
    public void Parse_GpuForms_GiveCountShareAndModels(string gpus, int count, int milli, string models)
    {
        var d = Valid($"resources:\n  gpus: {gpus}\nrun: x");
        Assert.Equal(count, d.Gpus.Count);
        Assert.Equal(milli, d.Gpus.Milli);
        Assert.Equal(models, string.Join(',', d.Gpus.Models));
    }

    [Theory]
    [InlineData("", JobKind.Batch)]
    [InlineData("kind: batch\n", JobKind.Batch)]
    [InlineData("kind: service\n", JobKind.Service)]
    [InlineData("kind: Service\n", JobKind.Service)]
    public void Parse_Kind_MapsToCoreKind(string line, JobKind expected)
    {
        var d = Valid(line + "run: python serve.py\n");
        Assert.Equal(expected, d.Kind);
        Assert.Equal(expected, d.ToJobSpec("j1", "ana", "nlp", DateTimeOffset.UnixEpoch).Kind);
    }

    [Fact]
    public void Parse_UnknownKind_ReportsPathLineColumnAndFix()
    {
        var e = Single("run: x\nkind: daemon\n");
        Assert.Equal("kind", e.Path);
        Assert.Equal((2, 7), (e.Line, e.Column));
        Assert.Contains("\"daemon\" is not a job kind", e.ToString());
        Assert.Contains("kind: service", e.ToString());
    }

    [Fact]
    public void Parse_GpuCountNotANumber_ReportsPathLineColumnAndFix()
    {
        var e = Single("name: x\nrun: y\nresources:\n  gpus: A100:x\n");
        Assert.Equal("resources.gpus", e.Path);
        Assert.Equal((4, 9), (e.Line, e.Column));
        Assert.Equal("resources.gpus: \"A100:x\" is not a count (line 4, col 9). To fix: write MODEL:COUNT like A100:4, a count like 2, or a share of one GPU like 0.5", e.ToString());
    }

    [Fact]
    public void Parse_UnknownGpuModel_ListsModelsOnOffer()
    {
        var e = Single("resources:\n  gpus: A900:2\nrun: x");
        Assert.Equal("resources.gpus", e.Path);
        Assert.Contains("\"A900\" is not a GPU model on offer", e.Message);
        Assert.Equal("use one of A100, H100, T4, V100", e.Fix);
    }

    [Fact]
    public void Parse_KnownModelNotOffered_IsAnError()
    {
        var e = Single("resources:\n  gpus: B200:1\nrun: x");
        Assert.Contains("B200", e.Message);
        Assert.Contains("A100, H100, T4, V100", e.Fix);
    }

    [Fact]
    public void Parse_NoGpuOffered_SaysSoAndHowToFix()
    {
        var r = JobSpecYaml.Parse("resources: {gpus: A100:1}\nrun: x", "job.yaml", new JobSpecYamlOptions { OfferedGpuModels = [] });
        var e = Assert.Single(r.Errors);
        Assert.Contains("no GPU model is offered", e.Message);
    }

    [Theory]
    [InlineData("1.5", "not a whole number")]
    [InlineData("A100:0", "zero GPUs")]
    [InlineData("0.0001", "too small")]
    [InlineData(":2", "names no GPU model")]
    [InlineData("\"A100,,H100:2\"", "empty GPU model")]
    [InlineData("2000", "more than 1024")]
    [InlineData("-1", "not a count")]
    public void Parse_BadGpuValues_AreErrors(string gpus, string expected)
    {
        var r = Parse($"resources:\n  gpus: {gpus}\nrun: x");
        Assert.False(r.IsValid);
        Assert.Contains(r.Errors, e => e.Path == "resources.gpus" && e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("64Gi", 64)]
    [InlineData("512Mi", 0.5)]
    [InlineData("1Ti", 1024)]
    [InlineData("64GiB", 64)]
    [InlineData("2G", 2e9 / 1073741824.0)]
    [InlineData("500M", 5e8 / 1073741824.0)]
    [InlineData("1.5Gi", 1.5)]
    public void Parse_MemoryUnits_ConvertToGiB(string memory, double gib)
    {
        var d = Valid($"resources:\n  memory: {memory}\nrun: x");
        Assert.Equal(gib, d.MemoryGiB, 9);
    }

    [Fact]
    public void Parse_MemoryWithoutUnit_SuggestsTheUnit()
    {
        var e = Single("resources:\n  memory: 64\nrun: x");
        Assert.Equal("resources.memory", e.Path);
        Assert.Equal("\"64\" has no unit", e.Message);
        Assert.Contains("memory: 64Gi", e.Fix);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("64 parsecs")]
    [InlineData("0Gi")]
    public void Parse_BadMemory_IsAnError(string memory) =>
        Assert.Equal("resources.memory", Single($"resources:\n  memory: {memory}\nrun: x").Path);

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("4h", 14400)]
    [InlineData("1d", 86400)]
    [InlineData("90s", 90)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5h", 5400)]
    public void ParseDuration_Forms_GiveSeconds(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), JobSpecYaml.ParseDuration(text));

    [Theory]
    [InlineData("time_limit: 4 hours", "time_limit", "is not a duration")]
    [InlineData("time_limit: 240", "time_limit", "has no unit")]
    [InlineData("duration: 0m", "duration", "is zero")]
    [InlineData("checkpoint: {interval: soon}", "checkpoint.interval", "is not a duration")]
    public void Parse_BadDurations_AreErrors(string line, string path, string expected)
    {
        var e = Single($"run: x\n{line}");
        Assert.Equal(path, e.Path);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Parse_DurationWithoutUnit_SuggestsMinutes() =>
        Assert.Equal("add a unit s, m, h or d, like 240m", Single("run: x\ntime_limit: 240").Fix);

    [Theory]
    [InlineData("gpu", "gpus")]
    [InlineData("accelerators", "gpus")]
    [InlineData("memroy", "memory")]
    [InlineData("cpu", "cpus")]
    public void Parse_UnknownResourceKey_SuggestsTheKnownOne(string key, string suggestion)
    {
        var e = Single($"run: x\nresources:\n  {key}: 1\n");
        Assert.Equal($"resources.{key}", e.Path);
        Assert.Equal($"unknown key \"{key}\"; did you mean \"{suggestion}\"?", e.Message);
        Assert.Equal((3, 3), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("time-limit", "time_limit")]
    [InlineData("timelimit", "time_limit")]
    [InlineData("command", "run")]
    [InlineData("priorty", "priority")]
    [InlineData("imag", "image")]
    public void Parse_UnknownTopKey_SuggestsTheKnownOne(string key, string suggestion)
    {
        var r = Parse($"run: x\n{key}: 1\n");
        Assert.Contains(r.Errors, e => e.Path == key && e.Message.Contains($"did you mean \"{suggestion}\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnknownKeyFarFromAll_ListsKnownKeys()
    {
        var e = Single("run: x\nzzzzzzzz: 1");
        Assert.DoesNotContain("did you mean", e.Message);
        Assert.StartsWith("remove it, or use one of: name, lab, project", e.Fix);
    }

    [Fact]
    public void Parse_ManyErrors_ReportsEveryOneInDocumentOrder()
    {
        var r = Parse("""
            name: "bad name!"
            resources:
              gpus: A100:x
              cpus: many
              memory: 64
              spot: sometimes
              nodes: 0
            time_limit: forever
            priority: high
            deadline: tomorrow
            colour: blue
            env: {1BAD: x}
            """);
        Assert.False(r.IsValid);
        var paths = r.Errors.Select(e => e.Path).ToHashSet();
        foreach (var p in new[] { "name", "run", "resources.gpus", "resources.cpus", "resources.memory", "resources.spot", "resources.nodes", "time_limit", "priority", "deadline", "colour", "env.1BAD" })
            Assert.Contains(p, paths);
        Assert.All(r.Errors, e => Assert.True(e.Line >= 1 && e.Column >= 1 && e.Fix is not null, e.ToString()));
        var byPath = r.ErrorsByPath();
        Assert.Contains("(line 3, col 9)", byPath["resources.gpus"][0]);
    }

    [Fact]
    public void Parse_MissingRun_IsAnError()
    {
        var e = Single("name: x");
        Assert.Equal("run", e.Path);
        Assert.Contains("run: python train.py", e.Fix);
    }

    [Fact]
    public void Parse_InvalidYaml_ReportsPosition()
    {
        var e = Single("run: x\nresources:\n  gpus: [A100\n");
        Assert.Equal("spec", e.Path);
        Assert.Contains("is not valid YAML", e.Message);
        Assert.True(e.Line >= 3, e.ToString());
    }

    [Fact]
    public void Parse_DuplicateKey_IsAnError()
    {
        var e = Single("run: x\nrun: y\n");
        Assert.Equal("spec", e.Path);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    public void Parse_Empty_SaysSo(string yaml) => Assert.Contains("is empty", Single(yaml).Message);

    [Fact]
    public void Parse_TopLevelList_IsAnError() => Assert.Contains("not a mapping", Single("- run: x").Message);

    [Fact]
    public void Parse_TwoDocuments_IsAnError() => Assert.Contains("2 YAML documents", Single("run: x\n---\nrun: y\n").Message);

    [Theory]
    [InlineData("auto", SpotPreference.Auto)]
    [InlineData("always", SpotPreference.Always)]
    [InlineData("never", SpotPreference.Never)]
    [InlineData("true", SpotPreference.Always)]
    [InlineData("no", SpotPreference.Never)]
    public void Parse_SpotValues_Map(string value, SpotPreference expected) =>
        Assert.Equal(expected, Valid($"resources: {{spot: {value}}}\nrun: x").Spot);

    [Fact]
    public void Parse_SingleZoneScalar_IsAListOfOne() =>
        Assert.Equal(["eu-west-1a"], Valid("resources: {zones: eu-west-1a}\nrun: x").Zones);

    [Fact]
    public void Parse_ZoneListWithMapping_ReportsTheItem() =>
        Assert.Equal("resources.zones[1]", Single("resources:\n  zones: [a, {b: c}]\nrun: x").Path);

    [Fact]
    public void Parse_ResourcesScalar_IsAnError() => Assert.Equal("resources", Single("resources: lots\nrun: x").Path);

    [Fact]
    public void Parse_RunAsList_IsAnError()
    {
        var e = Single("run: [a, b]");
        Assert.Equal("run", e.Path);
        Assert.Contains("found a list", e.Message);
    }

    [Fact]
    public void Parse_MultiLineRun_KeepsTheScript()
    {
        var d = Valid("run: |\n  echo one\n  echo two\n");
        Assert.Equal("echo one\necho two\n", d.Run);
    }

    [Fact]
    public void Parse_DeadlineWithoutZone_IsAnError() =>
        Assert.Contains("time zone", Single("run: x\ndeadline: 2026-12-01T00:00:00").Message);

    [Fact]
    public void Parse_DeadlineWithOffset_Parses() =>
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.FromHours(9)), Valid("run: x\ndeadline: 2026-12-01T09:00:00+09:00").Deadline);

    [Fact]
    public void Parse_CheckpointWithoutInterval_IsAnError() =>
        Assert.Equal("checkpoint.interval", Single("run: x\ncheckpoint: {dir: /ckpt}").Path);

    [Fact]
    public void Parse_CheckpointIntervalLongerThanTimeLimit_IsAnError() =>
        Assert.Equal("checkpoint.interval", Single("run: x\ntime_limit: 1h\ncheckpoint: {interval: 2h}").Path);

    [Fact]
    public void Parse_FractionalGpuOnSeveralNodes_IsAnError() =>
        Assert.Equal("resources.nodes", Single("run: x\nresources: {gpus: 0.5, nodes: 2}").Path);

    [Fact]
    public void Parse_EnvValueMapping_IsAnError() => Assert.Equal("env.A", Single("run: x\nenv: {A: {b: c}}").Path);

    [Theory]
    [InlineData("GUREUM_JOB_ID")]
    [InlineData("CUDA_VISIBLE_DEVICES")]
    [InlineData("NVIDIA_VISIBLE_DEVICES")]
    public void Parse_EnvNameGureumSets_IsAnErrorNamingIt(string name)
    {
        var e = Single($"run: x\nenv: {{{name}: \"0\"}}");
        Assert.Equal($"env.{name}", e.Path);
        Assert.Contains("set by Gureum", e.Message);
    }

    [Fact]
    public void Parse_NoOfferList_ChecksAgainstKnownModels()
    {
        Assert.True(JobSpecYaml.Parse("resources: {gpus: B200:8}\nrun: x", "job.yaml").IsValid);
        Assert.False(JobSpecYaml.Parse("resources: {gpus: X9:8}\nrun: x", "job.yaml").IsValid);
    }

    [Theory]
    [InlineData(4, 0, "A100", "A100:4")]
    [InlineData(0, 500, "", "0.5")]
    [InlineData(2, 0, "A100,H100", "A100,H100:2")]
    [InlineData(0, 0, "", "0")]
    public void GpuRequestFormat_RoundTripsThroughTheParser(int count, int milli, string models, string text)
    {
        var list = models.Length == 0 ? Array.Empty<string>() : models.Split(',');
        Assert.Equal(text, GpuRequest.Format(count, milli, list));
        Assert.Equal(new GpuRequest(count, milli, list), Valid($"resources: {{gpus: \"{text}\"}}\nrun: x").Gpus);
    }
}
