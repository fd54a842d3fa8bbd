using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gureum.Contracts.Api;

/// <summary>The API's JSON: camelCase, nulls omitted, enums as names. Server and CLI both use it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(UserDto[]))]
[JsonSerializable(typeof(SubmitJobRequest))]
[JsonSerializable(typeof(JobDto))]
[JsonSerializable(typeof(JobDto[]))]
[JsonSerializable(typeof(PageDto<JobDto>))]
[JsonSerializable(typeof(EventDto))]
[JsonSerializable(typeof(PageDto<EventDto>))]
[JsonSerializable(typeof(NodeDto[]))]
[JsonSerializable(typeof(OfferDto[]))]
[JsonSerializable(typeof(LabDto))]
[JsonSerializable(typeof(LabDto[]))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(CreateUserResponse))]
[JsonSerializable(typeof(QuotaDto[]))]
[JsonSerializable(typeof(ProblemDto))]
[JsonSerializable(typeof(JobWhyDto))]
[JsonSerializable(typeof(DryRunDto))]
public sealed partial class GureumJsonContext : JsonSerializerContext;

/// <summary>Shared serializer options (source-generated metadata, reflection as fallback for types added later).</summary>
public static class GureumJson
{
    /// <summary>Options for the API's JSON; pass to <c>JsonSerializer</c> or ASP.NET Core's JSON options.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(GureumJsonContext.Default.Options)
        {
            TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
                GureumJsonContext.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
        };
        o.MakeReadOnly();
        return o;
    }
}

/// <summary>
/// RFC 9457 problem details as the API answers errors. <see cref="Errors"/> is keyed by field path
/// (<c>resources.gpus</c>), each with its messages (which include line, column and a "To fix:").
/// Also carries <see cref="Reason"/> for quota rejections (409/429).
/// </summary>
public sealed record ProblemDto
{
    public string? Type { get; init; }
    public string? Title { get; init; }
    public int? Status { get; init; }
    public string? Detail { get; init; }
    public string? Instance { get; init; }
    /// <summary>Messages per field path.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }
    /// <summary>Why a submission was refused (quota), when it was.</summary>
    public string? Reason { get; init; }
}
