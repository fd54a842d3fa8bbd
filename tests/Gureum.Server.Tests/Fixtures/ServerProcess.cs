using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Gureum.Server.Tests.Fixtures;

/// <summary>
/// A real <c>gureum serve</c> process started from the built CLI (<c>dotnet gureum.dll serve</c>)
/// on a free loopback port. Captures its output, reads the admin token it prints on first start,
/// and can be killed with SIGKILL to test crash safety.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string?> _token = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process, Uri baseAddress, string dataDir)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDir = dataDir;
    }

    /// <summary>The server's root URL.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The data directory it was started with.</summary>
    public string DataDir { get; }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Everything it printed so far (stdout and stderr).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The admin token printed on first start, or null when the database already had one.</summary>
    public Task<string?> AdminToken => _token.Task;

    /// <summary>Path of the CLI assembly the tests run.</summary>
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "gureum.dll");

    /// <summary>A free loopback TCP port (bound, read, released).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>gureum serve</c> and waits until <c>/healthz</c> answers.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, string? db = null, string backend = "local",
        int? port = null, IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null)
    {
        var p = port ?? FreePort();
        var url = new Uri($"http://127.0.0.1:{p}/");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(CliDll);
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add("--urls"); psi.ArgumentList.Add($"http://127.0.0.1:{p}");
        psi.ArgumentList.Add("--data"); psi.ArgumentList.Add(dataDir);
        psi.ArgumentList.Add("--backend"); psi.ArgumentList.Add(backend);
        if (db is not null) { psi.ArgumentList.Add("--db"); psi.ArgumentList.Add(db); }
        foreach (var a in extraArgs ?? []) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new ServerProcess(process, url, dataDir);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        const string marker = "Admin token (shown once): ";
        var i = line.IndexOf(marker, StringComparison.Ordinal);
        if (i >= 0) _token.TrySetResult(line[(i + marker.Length)..].Trim());
        if (line.Contains("Now listening on", StringComparison.Ordinal)) _token.TrySetResult(null);
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"gureum serve exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var r = await http.GetAsync("healthz");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"gureum serve did not answer /healthz within {timeout}:\n{Output}");
    }

    /// <summary>An HTTP client on this server, with a bearer token when given.</summary>
    public HttpClient Client(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash.</summary>
    public void Kill9()
    {
        if (_process.HasExited) return;
        using var kill = Process.Start("kill", ["-9", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill!.WaitForExit();
        _process.WaitForExit();
    }

    /// <summary>Graceful stop (SIGTERM), then SIGKILL after 10 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) term!.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Kill9(); }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
