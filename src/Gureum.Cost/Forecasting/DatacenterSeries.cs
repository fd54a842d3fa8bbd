using System.Globalization;

namespace Gureum.Cost.Forecasting;

/// <summary>
/// The datacenter-level 5-minute utilization series of <c>shared/data/utilization/datacenter_aggregates_5min</c>
/// (Alibaba 2018, Google 2019, Azure 2019): the CPU column of each (Alibaba <c>cpu_util_percent</c>,
/// Google <c>avg_cpu</c>, Azure <c>cpu_usage</c>), rows 300 s apart.
/// </summary>
public static class DatacenterSeries
{
    /// <summary>File name → CPU column.</summary>
    public static IReadOnlyDictionary<string, string> Files { get; } = new Dictionary<string, string>
    {
        ["alibaba2018_machine_usage_days_1_to_8_grouped_300_seconds.csv"] = "cpu_util_percent",
        ["google2019_instance_usage_grouped_300_seconds_month.csv"] = "avg_cpu",
        ["azure_v2_vm_cpu_readings_month_aggregated_cpu_mem.csv"] = "cpu_usage",
    };

    /// <summary>Reads one column of a headed numeric CSV; a bad value names its line.</summary>
    public static double[] Load(string path, string column)
    {
        using var r = new StreamReader(path);
        var header = (r.ReadLine() ?? throw new FormatException($"{path}: empty file.")).Split(',');
        var i = Array.IndexOf(header, column);
        if (i < 0) throw new FormatException($"{path}: no column '{column}' (has {string.Join(", ", header)}).");
        var list = new List<double>();
        var line = 1;
        while (r.ReadLine() is { } l)
        {
            line++;
            if (l.Length == 0) continue;
            var f = l.Split(',');
            if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw new FormatException($"{path} line {line}, column {column}: '{f[i]}' is not a number.");
            list.Add(v);
        }
        return list.ToArray();
    }
}
