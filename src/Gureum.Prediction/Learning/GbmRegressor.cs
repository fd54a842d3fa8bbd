using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;

namespace Gureum.Prediction.Learning;

/// <summary>Hyper-parameters of <see cref="GbmRegressor"/>.</summary>
public sealed record GbmOptions
{
    /// <summary>Boosting rounds. Default 150.</summary>
    public int Iterations { get; init; } = 150;
    /// <summary>Shrinkage. Default 0.05.</summary>
    public double LearningRate { get; init; } = 0.05;
    /// <summary>Leaves per tree. Default 31.</summary>
    public int Leaves { get; init; } = 31;
    /// <summary>Minimum rows per leaf. Default 20.</summary>
    public int MinRowsPerLeaf { get; init; } = 20;
    /// <summary>Random seed (LightGBM is run single-threaded, so a seed fixes the model). Default 1.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>
/// A gradient-boosted regression tree ensemble (ML.NET LightGbm, L2 loss) over dense float
/// features. With a 0/1 label its output is a probability estimate that minimises the Brier score.
/// Immutable once trained; <see cref="Predict"/> is not thread-safe (one ML.NET prediction engine).
/// </summary>
public sealed class GbmRegressor
{
    private readonly PredictionEngine<Row, Score>? _engine;
    private readonly Row _row;
    private readonly double _constant;

    private GbmRegressor(PredictionEngine<Row, Score>? engine, int width, double constant)
    {
        _engine = engine;
        _row = new Row { Features = new float[width] };
        Width = width;
        _constant = constant;
    }

    /// <summary>True when the labels left nothing to learn (all equal, or no split possible) and the
    /// model answers their mean.</summary>
    public bool IsConstant => _engine is null;

    /// <summary>Number of features a row must have.</summary>
    public int Width { get; }

    /// <summary>Trains on <paramref name="features"/> (one row per example, all of one width) and <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">No rows, or rows of different widths.</exception>
    public static GbmRegressor Train(IReadOnlyList<float[]> features, IReadOnlyList<float> labels, GbmOptions? options = null)
    {
        options ??= new GbmOptions();
        if (features.Count == 0 || features.Count != labels.Count) throw new ArgumentException("Need as many label values as feature rows, and at least one row.", nameof(features));
        var width = features[0].Length;
        var rows = new Row[features.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            if (features[i].Length != width) throw new ArgumentException($"Row {i} has {features[i].Length} features; expected {width}.", nameof(features));
            rows[i] = new Row { Features = features[i], Label = labels[i] };
        }

        var mean = labels.Average(l => (double)l);
        if (labels.All(l => l == labels[0])) return new GbmRegressor(null, width, mean);
        var ml = new MLContext(seed: options.Seed);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var trainer = ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
        {
            NumberOfIterations = options.Iterations,
            LearningRate = options.LearningRate,
            NumberOfLeaves = options.Leaves,
            MinimumExampleCountPerLeaf = options.MinRowsPerLeaf,
            NumberOfThreads = 1,
            Seed = options.Seed,
            Silent = true,
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
        });
        try
        {
            var model = trainer.Fit(data);
            var engine = ml.Model.CreatePredictionEngine<Row, Score>(model, inputSchemaDefinition: schema);
            return new GbmRegressor(engine, width, mean);
        }
        catch (ArgumentNullException)
        {
            // ML.NET cannot wrap a LightGBM ensemble whose trees have no split (nothing to learn).
            return new GbmRegressor(null, width, mean);
        }
    }

    /// <summary>The model's output for one row of <see cref="Width"/> features.</summary>
    public double Predict(ReadOnlySpan<float> features)
    {
        if (features.Length != Width) throw new ArgumentException($"Expected {Width} features, got {features.Length}.", nameof(features));
        if (_engine is null) return _constant;
        features.CopyTo(_row.Features);
        return _engine.Predict(_row).Value;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    private sealed class Score
    {
        [ColumnName("Score")]
        public float Value { get; set; }
    }
}
