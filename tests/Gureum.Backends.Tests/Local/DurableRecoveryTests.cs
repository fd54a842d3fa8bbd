using Gureum.Backends.Local;
using Gureum.Persistence;

namespace Gureum.Backends.Tests.Local;

/// <summary>Contract A end to end: run handles kept in the real SQLite control-plane store survive a restart.</summary>
public sealed class DurableRecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RecoverAsync_HandlesInSqliteStore_ReadoptsAfterStoreAndExecutorRestart()
    {
        var db = "sqlite:" + Path.Combine(_dir.Path, "gureum.db");
        var options = new LocalExecutorOptions { Root = Path.Combine(_dir.Path, "jobs"), Isolation = LocalIsolation.None, UseCgroups = false, PollInterval = TimeSpan.FromMilliseconds(50) };
        string workDir;
        await using (var store1 = await ControlPlaneStore.OpenAsync(db, null, default))
        {
            var ex1 = new LocalExecutor(options, store1, TimeProvider.System);
            ex1.Attach(new RecordingObserver());
            await ex1.StartAsync(J.Running("durable", "echo started; while [ ! -f go ]; do sleep 0.05; done; exit 0"), [], default);
            var run = ex1.GetRun("durable")!;
            workDir = run.WorkDirectory;
            await LocalExecutorTests.WaitForFileText(run.StdoutPath, "started");
            await ex1.DisposeAsync(); // the server goes away; the job and the database stay
        }

        await using var store2 = await ControlPlaneStore.OpenAsync(db, null, default);
        Assert.Single(await store2.ListAsync("local", default));
        var observer = new RecordingObserver();
        await using var ex2 = new LocalExecutor(options, store2, TimeProvider.System);
        await ex2.RecoverAsync(observer, default);
        Assert.Empty(observer.Calls);

        File.WriteAllText(Path.Combine(workDir, "go"), "");
        Assert.Equal("exited durable ok", await observer.WaitForAsync("exited durable"));
        await ex2.WhenEndedAsync("durable", default).WaitAsync(TimeSpan.FromSeconds(30)); // the handle goes after the report
        Assert.Empty(await store2.ListAsync("local", default));
    }
}
