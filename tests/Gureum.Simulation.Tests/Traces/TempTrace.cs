namespace Gureum.Simulation.Tests.Traces;

/// <summary>A temporary folder holding hand-written trace files; deleted on dispose.</summary>
internal sealed class TempTrace : IDisposable
{
    public TempTrace() => Directory.CreateDirectory(Dir);

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "gureum-traces-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="content"/> (LF line ends) to <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, string content)
    {
        var path = Path.Combine(Dir, name);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { /* best effort: a temp folder */ }
    }
}
