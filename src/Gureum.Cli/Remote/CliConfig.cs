using System.Text.Json;
using System.Text.Json.Serialization;
using Gureum.Contracts.Client;

namespace Gureum.Cli.Remote;

/// <summary>What <c>gureum login</c> saves: the server and the token.</summary>
internal sealed record CliConfig
{
    [JsonPropertyName("server")] public string? Server { get; init; }
    [JsonPropertyName("token")] public string? Token { get; init; }
}

/// <summary>
/// The CLI's config file: <c>$XDG_CONFIG_HOME/gureum/config.json</c>, else <c>~/.config/gureum/config.json</c>,
/// written with mode 0600 (it holds a token) in a 0700 directory. <c>GUREUM_SERVER</c> and
/// <c>GUREUM_TOKEN</c> override what it says.
/// </summary>
internal static class CliConfigStore
{
    /// <summary>Server used when none is configured: <c>gureum serve</c>'s default address.</summary>
    public const string DefaultServer = "http://127.0.0.1:8080";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Path of the config file.</summary>
    public static string FilePath
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var dir = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(dir, "gureum", "config.json");
        }
    }

    /// <summary>The saved config, or an empty one when there is no file.</summary>
    public static CliConfig Load()
    {
        var path = FilePath;
        if (!File.Exists(path)) return new CliConfig();
        try
        {
            return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path), Json) ?? new CliConfig();
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is not valid JSON: {e.Message}", $"log in again (gureum login --server URL --token TOKEN) to rewrite it, or delete {path}");
        }
    }

    /// <summary>Writes the config atomically, readable by its owner only.</summary>
    public static string Save(CliConfig config)
    {
        var path = FilePath;
        var dir = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
            else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var tmp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(tmp, options))
        {
            JsonSerializer.Serialize(stream, config, Json);
            stream.Flush(flushToDisk: true);
        }
        // A leftover tmp file from an older run may have had other bits: set them explicitly.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
        return path;
    }

    /// <summary>Server URL from <c>GUREUM_SERVER</c>, the config, or the default.</summary>
    public static Uri ResolveServer(CliConfig config) =>
        ParseServer(Environment.GetEnvironmentVariable("GUREUM_SERVER") is { Length: > 0 } s ? s : config.Server ?? DefaultServer,
            Environment.GetEnvironmentVariable("GUREUM_SERVER") is { Length: > 0 } ? "GUREUM_SERVER" : "the server in " + FilePath);

    /// <summary>Checks a server URL the user typed.</summary>
    public static Uri ParseServer(string text, string where)
    {
        if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
        throw new CliException($"{where} \"{text}\" is not an http(s) URL", "give the server's address, e.g. --server http://127.0.0.1:8080");
    }

    /// <summary>A client for the configured server and token; an error saying how to log in when there is no token.</summary>
    public static GureumClient CreateClient()
    {
        var config = Load();
        var server = ResolveServer(config);
        var token = Environment.GetEnvironmentVariable("GUREUM_TOKEN") is { Length: > 0 } t ? t : config.Token;
        if (string.IsNullOrWhiteSpace(token))
            throw new CliException("not logged in: no token in GUREUM_TOKEN or " + FilePath,
                "run gureum login --server URL --token TOKEN (the admin token is printed when gureum serve starts the first time)");
        return new GureumClient(server, token.Trim());
    }
}
