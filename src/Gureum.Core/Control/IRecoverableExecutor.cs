namespace Gureum.Core.Control;

/// <summary>
/// An executor whose jobs can outlive the server (e.g. local processes). The host calls
/// <see cref="RecoverAsync"/> once at start-up, after the store is open and before the first
/// decision, so that jobs the store still believes running are re-adopted or ended.
/// </summary>
public interface IRecoverableExecutor : IExecutor
{
    /// <summary>
    /// Walk this backend's saved <see cref="RunHandle"/>s: re-adopt jobs that still run (their end
    /// is reported later as usual), report through <paramref name="observer"/> the jobs that ended
    /// while the server was down, and report the ones that cannot be found as lost. Each handle is
    /// reported at most once; calling it again after it returned does nothing new.
    /// </summary>
    ValueTask RecoverAsync(IClusterObserver observer, CancellationToken ct);
}
