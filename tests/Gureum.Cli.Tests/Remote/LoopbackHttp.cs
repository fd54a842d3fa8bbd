using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gureum.Cli.Tests.Remote;

/// <summary>
/// A tiny HTTP server on a real loopback port answering with a handler: the client's contract test
/// for answers the real server gives rarely or only on faults (problem documents, 5xx, slow bodies).
/// </summary>
internal sealed class LoopbackHttp : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public LoopbackHttp(Func<HttpListenerContext, Task> handler)
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                try { await handler(ctx); }
                finally { ctx.Response.Close(); }
            }
        });
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static async Task WriteAsync(HttpListenerContext ctx, int status, string contentType, string body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (ObjectDisposedException) { }
    }
}
