using System.Globalization;
using Gureum.Prediction;
using Gureum.Prediction.Demand;

namespace Gureum.Simulation.Evaluation;

public static partial class PredictorEvaluation
{
    /// <summary>A regular series to forecast.</summary>
    internal sealed record DemandSeries(string Name, double[] Values, TimeSpan Step, int Season);

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
                series.Add(new DemandSeries($"helios/{vc} gpus", fiveMinute, TimeSpan.FromMinutes(5), 288));
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

        foreach (var s in series) into.AddRange(ScoreDemand(s, o.TrainFraction));
        if (series.Count > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"demand: each series split in time ({o.TrainFraction:P0} / {1 - o.TrainFraction:P0}); the model is fitted once on the earlier part and forecasts every later origin from the history up to it; MASE = test MAE / in-sample MAE of the daily seasonal naive forecast (Hyndman & Koehler), per horizon. Helios demand = running + pending GPUs, averaged over 5-minute steps (the autoscaler's grid; a step series that rarely moves within an hour, so last value is hard to beat: the model's gain there is the validated share of a fresh step that follows, a 5-minute mean showing only part of a step taken inside it); datacenter series are CPU utilisation (no GPU series at 5 min exists in the data)."));
        }
    }

    /// <summary>Scores model and baselines on the later part of one series at 5, 15, 30 and 60 minutes ahead.</summary>
    internal static IReadOnlyList<PredictorComparison> ScoreDemand(DemandSeries s, double trainFraction)
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
        });
        model.Fit(train);
        IDemandForecaster[] all = [model, new LastValueForecaster(s.Step), new SeasonalNaiveForecaster(s.Step, s.Season)];
        var scale = PredictionMetrics.SeasonalNaiveScale(train, s.Season);
        var result = new List<PredictorComparison>();
        for (var k = 0; k < horizons.Length; k++)
        {
            var h = horizons[k];
            var errors = new double[all.Length];
            var n = 0;
            for (var t = split - 1; t + h < s.Values.Length; t++)
            {
                var history = s.Values.AsSpan(0, t + 1);
                var actual = s.Values[t + h];
                for (var p = 0; p < all.Length; p++) errors[p] += Math.Abs(all[p].Forecast(history, h).Estimate - actual);
                n++;
            }

            var scores = all.Select((p, i) => new PredictorScore(p.Name, errors[i] / n / scale)).ToList();
            result.Add(new PredictorComparison("demand", s.Name, $"MASE@{minutes[k]}m", true, n, scores[0], scores.Skip(1).ToList()));
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
