using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Gureum.Cli.Tests.Remote;

namespace Gureum.Cli.Tests.EndToEnd;

/// <summary>Output and exit code of one <c>gureum</c> process.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// <c>gureum serve</c> as a real process on a free loopback port with a temporary data directory,
/// and the CLI as real processes against it, each with its own config directory (XDG_CONFIG_HOME).
/// </summary>
internal sealed partial class GureumServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private GureumServer(string root, int port, Process process)
    {
        Root = root;
        Port = port;
        _process = process;
    }

    /// <summary>Temporary directory holding the server's data and the CLI's config.</summary>
    public string Root { get; }
    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The admin token the first start printed.</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>Everything the server printed so far (for failure messages).</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>The <c>gureum</c> program built next to the tests.</summary>
    public static string Program => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "gureum.exe" : "gureum");

    /// <summary>Starts the server and waits until it answers <c>/healthz</c> and has printed its admin token.</summary>
    public static async Task<GureumServer> StartAsync(TimeSpan timeout)
    {
        var root = Directory.CreateTempSubdirectory("gureum-e2e-").FullName;
        var port = LoopbackHttp.FreePort();
        var psi = Start("serve", "--urls", $"http://127.0.0.1:{port}", "--data", Path.Combine(root, "data"));
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(root, "server-config");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start gureum serve");
        var server = new GureumServer(root, port, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        var healthy = false;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"gureum serve exited with {process.ExitCode}:\n{server.Output}");
            if (!healthy)
            {
                try { healthy = (await http.GetAsync($"{server.Url}/healthz")).IsSuccessStatusCode; }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
            }
            var token = server._output.Select(l => TokenLine().Match(l)).LastOrDefault(m => m.Success);
            if (healthy && token is not null)
            {
                server.AdminToken = token.Groups["token"].Value;
                return server;
            }
            await Task.Delay(100);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"gureum serve did not become healthy with an admin token within {timeout}:\n{server.Output}");
    }

    // The first start prints the admin token once, on a line naming it a token; the token is the
    // last word of that line (no spaces in tokens).
    [GeneratedRegex(@"token\b.*?[:=]?\s*(?<token>[A-Za-z0-9_\-\.]{16,})\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TokenLine();

    private static ProcessStartInfo Start(params string[] args)
    {
        var psi = new ProcessStartInfo(Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The CLI must find its server and token through login, not through the test's environment.
        psi.Environment.Remove("GUREUM_SERVER");
        psi.Environment.Remove("GUREUM_TOKEN");
        psi.Environment["NO_COLOR"] = "1";
        return psi;
    }

    /// <summary>Runs <c>gureum ARGS</c> with the CLI config under <see cref="Root"/>; kills it after <paramref name="timeout"/>.</summary>
    public async Task<CliRun> CliAsync(TimeSpan timeout, params string[] args)
    {
        var psi = Start(args);
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(Root, "cli-config");
        psi.WorkingDirectory = Root;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"gureum {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}\n{await stderr}\n--- server\n{Output}");
        }
        return new CliRun(p.ExitCode, await stdout, await stderr);
    }

    public Task<CliRun> CliAsync(params string[] args) => CliAsync(TimeSpan.FromSeconds(60), args);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
