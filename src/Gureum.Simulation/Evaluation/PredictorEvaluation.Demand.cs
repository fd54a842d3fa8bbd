using System.Globalization;
using Gureum.Prediction;
using Gureum.Prediction.Demand;

namespace Gureum.Simulation.Evaluation;

public static partial class PredictorEvaluation
{
    /// <summary>A regular series to forecast; <paramref name="Readings"/>, when given, are the readings
    /// behind it (<paramref name="ReadingsPerStep"/> per step, each step value their mean).</summary>
    internal sealed record DemandSeries(string Name, double[] Values, TimeSpan Step, int Season, double[]? Readings = null, int ReadingsPerStep = 1);

    private static void EvaluateDemand(PredictorEvaluationOptions o, List<PredictorComparison> into, List<string> notes)
    {
        var series = new List<DemandSeries>();
        var helios = Path.Combine(o.DataRoot, "traces", "helios-earth-vc");
        if (Directory.Exists(helios))
        {
            foreach (var f in Directory.GetFiles(helios, "*_cluster_sequence_vc.csv").Order(StringComparer.Ordinal))
            {
                var vc = Path.GetFileName(f).Split('_')[0];
                var perMinute = ReadColumns(f, ["running_gpu_num", "pending_gpu_num"]);
                var fiveMinute = Enumerable.Range(0, perMinute.Length / 5).Select(i => perMinute.AsSpan(i * 5, 5).ToArray().Average()).ToArray();
                series.Add(new DemandSeries($"helios/{vc} gpus", fiveMinute, TimeSpan.FromMinutes(5), 288, perMinute[..(fiveMinute.Length * 5)], 5));
            }
        }
        else
        {
            notes.Add($"demand: {helios} not found; skipped.");
        }

        var dc = Path.Combine(o.DataRoot, "utilization", "datacenter_aggregates_5min");
        foreach (var (file, column, name) in new[]
                 {
                     ("alibaba2018_machine_usage_days_1_to_8_grouped_300_seconds.csv", "cpu_util_percent", "alibaba2018 cpu"),
                     ("google2019_instance_usage_grouped_300_seconds_month.csv", "avg_cpu", "google2019 cpu"),
                     ("azure_v2_vm_cpu_readings_month_aggregated_cpu_mem.csv", "cpu_usage", "azure2019 cpu"),
                 })
        {
            var path = Path.Combine(dc, file);
            if (File.Exists(path)) series.Add(new DemandSeries(name, ReadColumns(path, [column]), TimeSpan.FromMinutes(5), 288));
            else notes.Add($"demand: {path} not found; skipped.");
        }

        foreach (var s in series) into.AddRange(ScoreDemand(s, o.TrainFraction, notes.Add));
        if (series.Count > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"demand: each series split in time ({o.TrainFraction:P0} / {1 - o.TrainFraction:P0}); the model is fitted once on the earlier part and forecasts every later origin from the history up to it; MASE = test MAE / in-sample MAE of the daily seasonal naive forecast (Hyndman & Koehler), per horizon. Helios demand = running + pending GPUs, averaged over 5-minute steps (the autoscaler's grid; a step series that rarely moves within an hour, so last value is hard to beat; a 5-minute mean shows only part of a step taken inside it); datacenter series are CPU utilisation (no GPU series at 5 min exists in the data). Helios is read per minute: the model is also given the per-minute readings up to the forecast origin (the end of the current 5-minute step) and, per horizon, anchors on the last reading or the last 5-minute mean, whichever had the smaller error on the first 80% of the training part, and adds the trees' correction only where the same fit on the first 70% of the training part beat its anchor on the rest of it; the baselines use the 5-minute series as defined."));
        }
    }

    /// <summary>Scores model and baselines on the later part of one series at 5, 15, 30 and 60 minutes
    /// ahead. With readings, <paramref name="note"/> also gets the anchors the model chose and the
    /// score of the last reading alone (a reference, not a baseline of the issue).</summary>
    internal static IReadOnlyList<PredictorComparison> ScoreDemand(DemandSeries s, double trainFraction, Action<string>? note = null)
    {
        var minutes = new[] { 5, 15, 30, 60 };
        var horizons = minutes.Select(m => (int)Math.Round(TimeSpan.FromMinutes(m) / s.Step)).ToArray();
        var split = (int)(s.Values.Length * trainFraction);
        var train = s.Values.AsSpan(0, split);
        var model = new GbmDemandForecaster(new DemandForecastOptions
        {
            Step = s.Step,
            Season = s.Season,
            TrainHorizons = horizons,
            RetrainEvery = int.MaxValue,
            ReadingsPerStep = s.ReadingsPerStep,
        });
        var per = s.ReadingsPerStep;
        ReadOnlySpan<double> Readings(int steps) => s.Readings is null ? [] : s.Readings.AsSpan(0, steps * per);
        model.Fit(train, Readings(split));
        IDemandForecaster[] all = [model, new LastValueForecaster(s.Step), new SeasonalNaiveForecaster(s.Step, s.Season)];
        var scale = PredictionMetrics.SeasonalNaiveScale(train, s.Season);
        var result = new List<PredictorComparison>();
        var (anchors, lastReading) = (new List<string>(), new List<string>());
        for (var k = 0; k < horizons.Length; k++)
        {
            var h = horizons[k];
            var errors = new double[all.Length];
            double lastReadingError = 0;
            var n = 0;
            for (var t = split - 1; t + h < s.Values.Length; t++)
            {
                var history = s.Values.AsSpan(0, t + 1);
                var readings = Readings(t + 1);
                var actual = s.Values[t + h];
                for (var p = 0; p < all.Length; p++) errors[p] += Math.Abs(all[p].Forecast(history, readings, h).Estimate - actual);
                if (!readings.IsEmpty) lastReadingError += Math.Abs(readings[^1] - actual);
                n++;
            }

            if (s.Readings is not null)
            {
                anchors.Add((model.AnchorsOnReading.TryGetValue(h, out var r) && r ? "last reading" : "last step mean")
                    + (model.CorrectsAnchor.TryGetValue(h, out var c) && c ? " + trees" : " alone"));
                lastReading.Add(string.Create(CultureInfo.InvariantCulture, $"{lastReadingError / n / scale:0.0000}"));
            }

            var scores = all.Select((p, i) => new PredictorScore(p.Name, errors[i] / n / scale)).ToList();
            result.Add(new PredictorComparison("demand", s.Name, $"MASE@{minutes[k]}m", true, n, scores[0], scores.Skip(1).ToList()));
        }

        if (s.Readings is not null)
        {
            note?.Invoke($"demand/{s.Name}: chosen on the training part at {string.Join(" / ", minutes)} min: {string.Join(", ", anchors)}; "
                + $"MASE of the last per-minute reading alone (a reference, not a baseline of the issue): {string.Join(" / ", lastReading)}.");
        }

        return result;
    }

    /// <summary>Reads a CSV and sums the named columns per row.</summary>
    private static double[] ReadColumns(string path, string[] columns)
    {
        using var reader = new StreamReader(path);
        var header = (reader.ReadLine() ?? throw new FormatException($"{path}: the file is empty.")).Split(',');
        var idx = columns.Select(c => Array.IndexOf(header, c)).ToArray();
        for (var i = 0; i < idx.Length; i++)
            if (idx[i] < 0) throw new FormatException($"{path}: no column '{columns[i]}' in the header. To fix: use the file as published (see SOURCE.md).");
        var values = new List<double>();
        var line = 1;
        while (reader.ReadLine() is { } row)
        {
            line++;
            if (row.Length == 0) continue;
            var f = row.Split(',');
            double sum = 0;
            foreach (var i in idx)
            {
                if (i >= f.Length || !double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new FormatException($"{path}:{line}: column '{header[i]}' is not a number. To fix: use the file as published (see SOURCE.md).");
                sum += v;
            }

            values.Add(sum);
        }

        return [.. values];
    }
}
