using Microsoft.AspNetCore.Http;

namespace Gureum.Server.Api;

/// <summary>RFC 9457 problem answers, the one error shape of the API.</summary>
public static class Problems
{
    /// <summary>A problem with a status, a title and a detail that says what and how to fix it.</summary>
    public static IResult Create(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);

    /// <summary>400 with every error keyed by field path (<c>resources.gpus</c>, <c>limit</c>).</summary>
    public static IResult Validation(IDictionary<string, string[]> errors, string detail = "The request has errors; see 'errors' (keyed by field path).") =>
        Results.ValidationProblem(errors, detail: detail, title: "Invalid request");

    /// <summary>400 for one field.</summary>
    public static IResult Field(string path, string message) =>
        Validation(new Dictionary<string, string[]> { [path] = [message] });

    /// <summary>404: not there, or another lab's (the two look the same on purpose).</summary>
    public static IResult NotFound(string what) =>
        Create(StatusCodes.Status404NotFound, "Not found", $"{what} was not found. To fix: check the id; you see only your own lab's resources.");

    /// <summary>403: visible but the caller's role may not do this.</summary>
    public static IResult Forbidden(string detail) =>
        Create(StatusCodes.Status403Forbidden, "Forbidden", detail);
}
