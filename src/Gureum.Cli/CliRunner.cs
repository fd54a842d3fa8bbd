using System.CommandLine;

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
