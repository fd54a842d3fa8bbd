using Gureum.Core.Cloud;
using Gureum.Core.Domain;

namespace Gureum.Core.Tests.Domain;

public sealed class ResourceRequestTests
{
    private static Offer Node(int gpus, double vcpus, double mem) => new()
    {
        Cloud = "test", Region = "r", Zone = "z", InstanceType = "t", GpuModel = gpus > 0 ? "A100" : null, GpuCount = gpus,
        VCpus = vcpus, MemoryGiB = mem, OnDemandPerHour = 1m,
    };

    [Theory]
    [InlineData(1, 0, 4, 16, 8, 64, 256, 0.125)]  // GPUs bind: 1 of 8
    [InlineData(1, 0, 32, 16, 8, 64, 256, 0.5)]   // vCPUs bind: 32 of 64
    [InlineData(1, 0, 4, 192, 8, 64, 256, 0.75)]  // memory binds: 192 of 256 GiB
    [InlineData(0, 500, 2, 8, 1, 8, 64, 0.5)]     // half a GPU of a one-GPU node
    [InlineData(0, 0, 4, 8, 0, 16, 64, 0.25)]     // CPU-only node: GPUs do not count
    [InlineData(2, 0, 4, 16, 1, 8, 64, 2.0)]      // does not fit: above 1, not clamped
    public void ShareOf_BindingResource(int gpus, int milli, double cpus, double mem, int nodeGpus, double nodeCpus, double nodeMem, double expected) =>
        Assert.Equal(expected, ResourceRequest.FromTrace(gpus, milli, cpus, mem).ShareOf(Node(nodeGpus, nodeCpus, nodeMem)), 12);
}
