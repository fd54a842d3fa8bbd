using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Tests.Learning;

public sealed class RollingMedianTests
{
    [Fact]
    public void DensestCenter_ClusterAndOutliers_ReturnsClusterCentre()
    {
        var m = new RollingMedian(10);
        foreach (var v in new[] { 9.0, 1.0, 1.2, 1.1, 5.0 }) m.Add(v);
        Assert.Equal(1.1, m.DensestCenter(0.5), 9);
        Assert.Equal(1.2, m.Median, 9); // the median is pulled towards the outliers
    }

    [Fact]
    public void DensestCenter_WindowDropsOldValues_FollowsRecentCluster()
    {
        var m = new RollingMedian(3);
        foreach (var v in new[] { 1.0, 1.1, 1.2, 7.0, 7.2, 7.1 }) m.Add(v);
        Assert.Equal(7.1, m.DensestCenter(0.5), 9);
        Assert.True(double.IsNaN(new RollingMedian(3).DensestCenter(1)));
    }
}
