using Gureum.Cli.Remote;

namespace Gureum.Cli.Tests.Remote;

/// <summary>Changes process environment variables, so runs alone.</summary>
[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection;

[Collection(nameof(EnvironmentCollection))]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gureum-config-").FullName;
    private readonly Dictionary<string, string?> _saved = new();

    public CliConfigTests()
    {
        foreach (var v in new[] { "XDG_CONFIG_HOME", "GUREUM_SERVER", "GUREUM_TOKEN" }) _saved[v] = Environment.GetEnvironmentVariable(v);
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", _dir);
        Environment.SetEnvironmentVariable("GUREUM_SERVER", null);
        Environment.SetEnvironmentVariable("GUREUM_TOKEN", null);
    }

    public void Dispose()
    {
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Save_WritesUnderXdgConfigHomeReadableByOwnerOnly()
    {
        var path = CliConfigStore.Save(new CliConfig { Server = "http://127.0.0.1:9", Token = "secret" });

        Assert.Equal(Path.Combine(_dir, "gureum", "config.json"), path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(new CliConfig { Server = "http://127.0.0.1:9", Token = "secret" }, CliConfigStore.Load());
    }

    [Fact]
    public void Save_ExistingWorldReadableFile_BecomesOwnerOnly()
    {
        var path = CliConfigStore.Save(new CliConfig { Token = "a" });
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);

        CliConfigStore.Save(new CliConfig { Token = "b" });

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void CreateClient_EnvironmentOverridesFile()
    {
        CliConfigStore.Save(new CliConfig { Server = "http://127.0.0.1:9", Token = "file-token" });
        Environment.SetEnvironmentVariable("GUREUM_SERVER", "http://127.0.0.1:7777");
        Environment.SetEnvironmentVariable("GUREUM_TOKEN", "env-token");

        using var client = CliConfigStore.CreateClient();

        Assert.Equal("http://127.0.0.1:7777/", client.Server.AbsoluteUri);
    }

    [Fact]
    public void CreateClient_NoToken_TellsHowToLogIn()
    {
        var e = Assert.Throws<CliException>(CliConfigStore.CreateClient);

        Assert.Contains("not logged in", e.Message);
        Assert.Contains("gureum login --server URL --token TOKEN", e.Fix);
    }

    [Fact]
    public void Load_CorruptFile_SaysWhichFileAndHowToFix()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "gureum"));
        File.WriteAllText(Path.Combine(_dir, "gureum", "config.json"), "{not json");

        var e = Assert.Throws<CliException>(CliConfigStore.Load);

        Assert.Contains("config.json is not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("ftp://x")]
    [InlineData("not a url")]
    public void ParseServer_NotHttpUrl_IsBadInput(string text) =>
        Assert.Contains("is not an http(s) URL", Assert.Throws<CliException>(() => CliConfigStore.ParseServer(text, "--server")).Message);
}
