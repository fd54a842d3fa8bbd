using System.Globalization;
using System.Text.Json;
using Gureum.Contracts.Api;
using Spectre.Console;

namespace Gureum.Cli.Remote;

/// <summary>How the remote commands print: Spectre tables for people, indented JSON for scripts.</summary>
internal static class CliOutput
{
    private static readonly JsonSerializerOptions Indented = new(GureumJson.Options) { WriteIndented = true };

    /// <summary>The <c>--json</c> option every remote command has.</summary>
    public static System.CommandLine.Option<bool> JsonOption() => new("--json") { Description = "Print JSON (camelCase, the API's shapes) for scripts instead of tables." };

    /// <summary>Writes a value as indented JSON to standard output.</summary>
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>A table with the given headers.</summary>
    public static Table Table(params string[] headers)
    {
        var t = new Table().Border(TableBorder.Simple);
        foreach (var h in headers) t.AddColumn(new TableColumn(Markup.Escape(h)).NoWrap());
        return t;
    }

    /// <summary>Adds a row of plain text (no markup interpretation).</summary>
    public static void Row(Table table, params string?[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c ?? "-")).ToArray());

    /// <summary>Writes a table, wide enough not to wrap when output goes to a file or pipe.</summary>
    public static void Write(Table table)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
        AnsiConsole.Write(table);
    }

    /// <summary>A UTC time as <c>2026-11-27 12:00:05</c>.</summary>
    public static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";

    /// <summary>A duration as <c>45s</c>, <c>12m05s</c>, <c>3h02m</c>, <c>2d04h</c>.</summary>
    public static string Span(TimeSpan d)
    {
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d.TotalSeconds < 60 ? $"{d.TotalSeconds:0}s"
            : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s"
            : d.TotalHours < 24 ? $"{(int)d.TotalHours}h{d.Minutes:00}m"
            : $"{(int)d.TotalDays}d{d.Hours:00}h";
    }

    /// <summary>Number without trailing zeros.</summary>
    public static string Num(double? v) => v is { } x ? x.ToString("0.##", CultureInfo.InvariantCulture) : "-";

    /// <summary>Money in USD.</summary>
    public static string Usd(decimal? v) => v is { } x ? "$" + x.ToString("0.####", CultureInfo.InvariantCulture) : "-";
}
