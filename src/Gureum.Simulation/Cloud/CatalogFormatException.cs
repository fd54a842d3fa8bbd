namespace Gureum.Simulation.Cloud;

/// <summary>
/// A catalog file that cannot be read: wrong header, wrong number of fields, a value that is not a
/// number. The message names the file, the 1-based line and column (and the column's header name)
/// and ends with a "To fix:" hint. Retrying cannot help; the file has to change.
/// </summary>
public sealed class CatalogFormatException : FormatException
{
    /// <summary>Creates the exception; <paramref name="column"/> is 0 when the whole line is at fault.</summary>
    public CatalogFormatException(string file, int line, int column, string problem, string fix)
        : base(Compose(file, line, column, problem, fix))
    {
        File = file;
        Line = line;
        Column = column;
    }

    /// <summary>The file (as given to the loader).</summary>
    public string File { get; }

    /// <summary>1-based line number.</summary>
    public int Line { get; }

    /// <summary>1-based CSV column (field) number; 0 when the whole line is at fault.</summary>
    public int Column { get; }

    private static string Compose(string file, int line, int column, string problem, string fix) =>
        column > 0
            ? $"{file}: line {line}, column {column}: {problem} To fix: {fix}"
            : $"{file}: line {line}: {problem} To fix: {fix}";
}
