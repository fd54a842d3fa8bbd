using Gureum.Core.Control;
using Gureum.Core.Domain;

namespace Gureum.Simulation.Tests.Replay;

/// <summary>A backend that takes every request and never answers: nodes stay booting, jobs never
/// report. For tests of what a decision says and buys, not of what happens after.</summary>
internal sealed class SilentBackend : INodeProvisioner, IExecutor
{
    public ValueTask RequestAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask ReleaseAsync(Node node, CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask StartAsync(JobView job, IReadOnlyList<Node> nodes, CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask StopAsync(JobView job, CancellationToken ct) => ValueTask.CompletedTask;
}
