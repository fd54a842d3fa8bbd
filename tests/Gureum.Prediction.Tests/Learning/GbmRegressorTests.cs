using Gureum.Prediction.Learning;

namespace Gureum.Prediction.Tests.Learning;

public sealed class GbmRegressorTests
{
    [Fact]
    public void Train_StepFunctionOfOneFeature_PredictsBothLevels()
    {
        var rng = new Random(1);
        var x = new List<float[]>();
        var y = new List<float>();
        for (var i = 0; i < 2000; i++)
        {
            var f = new[] { (float)rng.NextDouble(), (float)rng.NextDouble(), float.NaN };
            x.Add(f);
            y.Add(f[0] > 0.5 ? 0.9f : 0.1f);
        }

        var m = GbmRegressor.Train(x, y);
        Assert.InRange(m.Predict([0.9f, 0.3f, float.NaN]), 0.85, 0.95);
        Assert.InRange(m.Predict([0.1f, 0.7f, float.NaN]), 0.05, 0.15);
    }

    [Fact]
    public void Train_ConstantLabels_AnswersTheConstant()
    {
        var m = GbmRegressor.Train([[1f], [2f], [3f]], [4f, 4f, 4f]);
        Assert.True(m.IsConstant);
        Assert.Equal(4, m.Predict([10f]));
    }
}
