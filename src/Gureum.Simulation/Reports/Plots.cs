namespace Gureum.Simulation.Reports;

/// <summary>Plots for the HTML report, rendered by ScottPlot to inline SVG.</summary>
public static class Plots
{
    public static string Series(IReadOnlyList<(string Name, List<(double X, double Y)> Points)> series, string xLabel, string yLabel)
    {
        var plt = new ScottPlot.Plot();
        foreach (var (name, pts) in series)
        {
            if (pts.Count == 0) continue;
            var s = plt.Add.ScatterLine(pts.Select(p => p.X).ToArray(), pts.Select(p => p.Y).ToArray());
            s.LegendText = name;
            s.MarkerSize = 0;
        }
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        plt.ShowLegend();
        return plt.GetSvgXml(900, 320);
    }

    public static string Cdf(IReadOnlyList<(string Name, List<double> Values)> series, string xLabel)
    {
        var plt = new ScottPlot.Plot();
        foreach (var (name, values) in series)
        {
            if (values.Count == 0) continue;
            var sorted = values.Select(v => Math.Log10(Math.Max(v, 1))).Order().ToArray();
            var step = Math.Max(1, sorted.Length / 500);
            var xs = new List<double>();
            var ys = new List<double>();
            for (var i = 0; i < sorted.Length; i += step) { xs.Add(sorted[i]); ys.Add((i + 1.0) / sorted.Length); }
            xs.Add(sorted[^1]);
            ys.Add(1);
            var s = plt.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            s.LegendText = name;
        }
        plt.XLabel(xLabel);
        plt.YLabel("share of jobs");
        plt.ShowLegend();
        return plt.GetSvgXml(900, 320);
    }
}
