using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Gureum.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Gureum.Server.Auth;

/// <summary>
/// Bearer-token authentication for every <c>/api</c> route: no token or an unknown token → 401
/// ProblemDetails with a <c>WWW-Authenticate: Bearer</c> header; otherwise the <see cref="Caller"/>
/// is put on the request (<see cref="CallerOf"/>). Tokens are checked by the store (which keeps only
/// their SHA-256); answers are cached for <see cref="CacheFor"/> keyed by the token's hash, so a
/// burst of submissions does not cost a database read each.
/// </summary>
public sealed class BearerAuth(Func<string, CancellationToken, ValueTask<Caller?>> authenticate, TimeProvider time) : IEndpointFilter
{
    /// <summary>How long a positive answer is reused. 10 s: a deleted user stops working within that.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (Caller Caller, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    /// <summary>The caller of an authenticated request.</summary>
    public static Caller CallerOf(HttpContext context) =>
        context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException("Route is not behind BearerAuth.");

    /// <inheritdoc />
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
            return Unauthorized(http, "No token given.", "Send 'Authorization: Bearer <token>' (gureum login --server URL --token T stores one for the CLI).");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            return Unauthorized(http, "The Authorization header is not 'Bearer <token>'.", "Send 'Authorization: Bearer <token>'.");
        var token = header[7..].Trim();
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var now = time.GetUtcNow();
        Caller? caller = null;
        if (_cache.TryGetValue(key, out var hit) && hit.Until > now) caller = hit.Caller;
        else
        {
            caller = await authenticate(token, http.RequestAborted);
            if (caller is not null) _cache[key] = (caller, now + CacheFor);
        }
        if (caller is null)
            return Unauthorized(http, "The token is not valid.", "Use a token printed by 'gureum serve' on first start or by POST /api/v1/users.");
        http.Items[typeof(Caller)] = caller;
        return await next(context);
    }

    private static IResult Unauthorized(HttpContext http, string detail, string fix)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Create(StatusCodes.Status401Unauthorized, "Unauthorized", $"{detail} To fix: {fix}");
    }
}
