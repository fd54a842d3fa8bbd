using System.Reflection;
using System.Text.Json.Serialization;
using Gureum.Contracts.Api;
using Gureum.Persistence;
using Gureum.Server.Api;
using Gureum.Server.Auth;
using Gureum.Server.Hosting;
using Gureum.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gureum.Server;

/// <summary>The server could not start for a reason the operator can fix (a message and a "To fix").</summary>
public sealed class ServerStartException(string message, string? fix = null, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>How to fix it.</summary>
    public string? Fix { get; } = fix;
}

/// <summary>A started server: the web app plus what its first start printed.</summary>
/// <param name="App">The running app; dispose to stop.</param>
/// <param name="AdminToken">The admin token when this start created the admin, else null.</param>
public sealed record StartedServer(WebApplication App, string? AdminToken) : IAsyncDisposable
{
    /// <summary>The addresses Kestrel listens on.</summary>
    public IReadOnlyList<Uri> Addresses =>
        App.Urls.Select(u => new Uri(u.EndsWith('/') ? u : u + "/")).ToList();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The composition root of <c>gureum serve</c>: opens and migrates the store, creates the admin on
/// first start, and hosts the REST API, <c>/healthz</c>, <c>/metrics</c>, <c>/openapi/v1.json</c>
/// and the control loop (<see cref="ControlLoopService"/>) in one Kestrel process.
/// </summary>
public static class GureumServer
{
    /// <summary>The server's version (the assembly's informational version).</summary>
    public static string Version { get; } =
        typeof(GureumServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs until <paramref name="ct"/> is cancelled (SIGINT/SIGTERM).</summary>
    public static async Task RunAsync(ServerOptions options, TextWriter console, CancellationToken ct)
    {
        await using var server = await StartAsync(options, console, ct).ConfigureAwait(false);
        try
        {
            await server.App.WaitForShutdownAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>Opens the store, builds and starts the server; returns once it listens.</summary>
    public static async Task<StartedServer> StartAsync(ServerOptions options, TextWriter console, CancellationToken ct)
    {
        Directory.CreateDirectory(options.DataDir);
        var store = await OpenStoreAsync(options, ct).ConfigureAwait(false);
        var adminToken = await EnsureAdminAsync(store, options.Time.GetUtcNow(), ct).ConfigureAwait(false);
        if (adminToken is not null)
        {
            console.WriteLine("Created user 'admin' (lab 'default', role Admin).");
            console.WriteLine($"Admin token (shown once): {adminToken}");
            console.WriteLine($"Log in with: gureum login --server {options.Urls.Split(';')[0]} --token {adminToken}");
        }
        var app = Build(options, store);
        await app.StartAsync(ct).ConfigureAwait(false);
        console.WriteLine($"Gureum {Version} serving on {string.Join(", ", app.Urls)} (db {Redact(options.EffectiveDb)}, backend {options.Backend}, policy {options.EffectivePolicy}, data {options.DataDir})");
        return new StartedServer(app, adminToken);
    }

    private static string Redact(string db) =>
        System.Text.RegularExpressions.Regex.Replace(db, @"(://[^:/@]+:)[^@]*@|(?i)(password=)[^;]*", m => m.Groups[1].Success ? m.Groups[1].Value + "***@" : m.Groups[2].Value + "***");

    private static async Task<IControlPlaneStore> OpenStoreAsync(ServerOptions options, CancellationToken ct)
    {
        try
        {
            return await ControlPlaneStore.OpenAsync(options.EffectiveDb, new ControlPlaneStoreOptions { Time = options.Time }, ct).ConfigureAwait(false);
        }
        catch (SchemaVersionException e)
        {
            throw new ServerStartException(e.Message, "Run a Gureum at least as new as the one that last wrote this database, or point --db/--data elsewhere.", e);
        }
        catch (ArgumentException e)
        {
            throw new ServerStartException($"--db '{Redact(options.EffectiveDb)}' is not usable: {e.Message}", "Use sqlite:PATH or postgres://user:password@host:port/database.", e);
        }
        catch (StoreUnavailableException e)
        {
            throw new ServerStartException($"The database {Redact(options.EffectiveDb)} cannot be reached: {e.Message}", "Check that it runs and that --db names the right host, port, database and user.", e);
        }
    }

    /// <summary>First start: a lab 'default', a user 'admin' (Admin) and a token, returned in plain text once.</summary>
    /// <remarks>Two replicas starting at once on one database: only the one whose insert of the
    /// user wins prints a token.</remarks>
    private static async Task<string?> EnsureAdminAsync(IControlPlaneStore store, DateTimeOffset now, CancellationToken ct)
    {
        var users = await store.ListUsersAsync(null, ct).ConfigureAwait(false);
        if (users.Any(u => u.Role == Role.Admin)) return null;
        await store.AddLabAsync(new Lab("default"), ct).ConfigureAwait(false); // false when it exists: fine
        if (await store.AddUserAsync(new User("admin", "default", Role.Admin), ct).ConfigureAwait(false) != AddUserResult.Added) return null;
        var token = await store.CreateTokenAsync("admin", now, ct).ConfigureAwait(false);
        return token?.Token;
    }

    /// <summary>Builds (does not start) the web app over an open store.</summary>
    public static WebApplication Build(ServerOptions options, IControlPlaneStore store)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, GureumJsonContext.Default);
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(options.Time);
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<LoopSignal>();
        builder.Services.AddSingleton<BackendFactory>();
        builder.Services.AddSingleton<ControlPlaneRuntime>();
        builder.Services.AddSingleton<DurationModel>();
        builder.Services.AddHostedService<ControlLoopService>();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(15));

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A body over the limit or a malformed request is the client's problem, not a 500.
            StatusCodeSelector = e => e is BadHttpRequestException b ? b.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.MapOpenApi();

        var metrics = app.Services.GetRequiredService<ServerMetrics>();
        app.MapGet("/healthz", () => new HealthDto("ok", metrics.IsLeader, Version)).WithTags("health");
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8")).WithTags("health");

        var auth = new BearerAuth(async (token, ct) => await store.AuthenticateAsync(token, ct) is { } u ? new Caller(u.Name, u.Lab, u.Role.ToString()) : null,
            app.Services.GetRequiredService<TimeProvider>());
        var api = app.MapGroup("/api/v1").AddEndpointFilter(auth);
        Endpoints.Map(api);
        return app;
    }
}
