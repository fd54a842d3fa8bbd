using System.CommandLine;
using System.Net;
using Gureum.Contracts.Client;

namespace Gureum.Cli;

/// <summary>Exit codes of every <c>gureum</c> command.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>Something failed while running (I/O, a backend, a bug).</summary>
    public const int Failure = 1;
    /// <summary>Bad input: options, files, specs. The message says what and how to fix it.</summary>
    public const int BadInput = 2;
    /// <summary><c>submit --wait</c>: the job ended Failed, Cancelled or Unschedulable.</summary>
    public const int JobFailed = 3;
    /// <summary>The server could not be reached (not running, wrong URL) or did not answer in time.</summary>
    public const int Unreachable = 4;
    /// <summary>The server refused the token (401) or the role may not do this (403).</summary>
    public const int AuthFailed = 5;
    /// <summary>No such job, lab or user among those you may see (404).</summary>
    public const int NotFound = 6;
    /// <summary>Refused by a quota or a conflicting state (409, 429); the message gives the reason.</summary>
    public const int Rejected = 7;

    /// <summary>The exit code for a failed API call.</summary>
    public static int Of(GureumApiException e) => e.Status switch
    {
        null => Unreachable,
        HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType => BadInput,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => AuthFailed,
        HttpStatusCode.NotFound => NotFound,
        HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests => Rejected,
        _ => Failure,
    };
}

/// <summary>
/// An expected user error: what went wrong, where, and a "To fix:" hint. Printed without a stack
/// trace; exits with <see cref="ExitCodes.BadInput"/>.
/// </summary>
public sealed class CliException(string message, string? fix = null) : Exception(message)
{
    /// <summary>How to fix it.</summary>
    public string? Fix { get; } = fix;
}

/// <summary>Runs the command tree and turns failures into messages and exit codes.</summary>
public static class CliRunner
{
    /// <summary>Parses and invokes; never lets an exception escape unreported.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (e.Fix is not null) Console.Error.WriteLine($"To fix: {e.Fix}");
            return ExitCodes.BadInput;
        }
        catch (GureumApiException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            foreach (var (path, messages) in e.Errors)
                foreach (var m in messages)
                    Console.Error.WriteLine(m.StartsWith(path, StringComparison.Ordinal) ? $"  {m}" : $"  {path}: {m}");
            if (e.Fix is not null) Console.Error.WriteLine($"To fix: {e.Fix}");
            return ExitCodes.Of(e);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine($"error: file not found: {e.FileName ?? e.Message}");
            Console.Error.WriteLine("To fix: check the path; relative paths are taken from the current directory.");
            return ExitCodes.BadInput;
        }
        catch (DirectoryNotFoundException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("To fix: check the path; relative paths are taken from the current directory.");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine(e.StackTrace);
            return ExitCodes.Failure;
        }
    }
}
