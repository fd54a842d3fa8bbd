using System.Reflection;
using Gureum.Simulation.Traces;

namespace Gureum.Cost.Focus;

/// <summary>One FOCUS column of one spec version, as the column reference states it.</summary>
public sealed record FocusColumn(string Version, string Id, string ColumnType, string FeatureLevel, bool AllowsNulls, string DataType, string ValueFormat)
{
    public bool IsMandatory => FeatureLevel.Equals("Mandatory", StringComparison.OrdinalIgnoreCase);
    /// <summary>The value format says "Allowed values" (values listed in the allowed-values table).</summary>
    public bool HasAllowedValues => ValueFormat.StartsWith("Allowed", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The FOCUS column reference (columns and allowed values of FOCUS 1.0, 1.1 and 1.2), read from the
/// tables derived from the specification (embedded copy of <c>shared/data/focus</c>, or a folder
/// given by the caller). The validator takes every rule from here, nothing from the exporter.
/// </summary>
public sealed class FocusReference
{
    private readonly Dictionary<string, Dictionary<string, FocusColumn>> _columns;
    private readonly Dictionary<(string Version, string Column), HashSet<string>> _allowed;

    private FocusReference(Dictionary<string, Dictionary<string, FocusColumn>> columns, Dictionary<(string, string), HashSet<string>> allowed)
    {
        _columns = columns;
        _allowed = allowed;
    }

    /// <summary>Versions in the reference ("1.0", "1.1", "1.2").</summary>
    public IReadOnlyList<string> Versions => _columns.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The columns of a version by id.</summary>
    public IReadOnlyDictionary<string, FocusColumn> Columns(string version) =>
        _columns.TryGetValue(version, out var c) ? c : throw new ArgumentException($"FOCUS version '{version}' is not in the reference (it has {string.Join(", ", Versions)}).", nameof(version));

    /// <summary>Allowed values of a column in a version, or null when the column lists none.</summary>
    public IReadOnlySet<string>? AllowedValues(string version, string column) => _allowed.TryGetValue((version, column), out var s) ? s : null;

    /// <summary>The embedded reference.</summary>
    public static FocusReference Embedded { get; } = Load(
        () => Resource("focus_columns_v1.0_v1.1_v1.2.csv"), () => Resource("focus_allowed_values_v1.0_v1.1_v1.2.csv"));

    /// <summary>The reference from a folder holding <c>focus_columns_v1.0_v1.1_v1.2.csv</c> and <c>focus_allowed_values_v1.0_v1.1_v1.2.csv</c>.</summary>
    public static FocusReference FromDirectory(string dir) => Load(
        () => new StreamReader(Path.Combine(dir, "focus_columns_v1.0_v1.1_v1.2.csv")), () => new StreamReader(Path.Combine(dir, "focus_allowed_values_v1.0_v1.1_v1.2.csv")));

    private static TextReader Resource(string name) =>
        new StreamReader(Assembly.GetExecutingAssembly().GetManifestResourceStream("Gureum.Cost.Focus." + name)
            ?? throw new InvalidOperationException($"Embedded FOCUS reference {name} is missing from the build."));

    private static FocusReference Load(Func<TextReader> columns, Func<TextReader> allowed)
    {
        var cols = new Dictionary<string, Dictionary<string, FocusColumn>>(StringComparer.Ordinal);
        using (var r = new CsvReader(columns(), "focus_columns"))
        {
            var h = Index(r.ReadHeader("use the FOCUS column reference file"));
            while (r.Read())
            {
                var c = new FocusColumn(r[h["Version"]].ToString(), r[h["ColumnId"]].ToString(), r[h["ColumnType"]].ToString(), r[h["FeatureLevel"]].ToString(),
                    r[h["AllowsNulls"]].Trim().Equals("True", StringComparison.OrdinalIgnoreCase), r[h["DataType"]].ToString(), r[h["ValueFormat"]].ToString());
                if (!cols.TryGetValue(c.Version, out var byId)) cols[c.Version] = byId = new Dictionary<string, FocusColumn>(StringComparer.Ordinal);
                byId[c.Id] = c;
            }
        }
        var allowedValues = new Dictionary<(string, string), HashSet<string>>();
        using (var r = new CsvReader(allowed(), "focus_allowed_values"))
        {
            var h = Index(r.ReadHeader("use the FOCUS allowed-values file"));
            while (r.Read())
            {
                var key = (r[h["Version"]].ToString(), r[h["ColumnId"]].ToString());
                if (!allowedValues.TryGetValue(key, out var set)) allowedValues[key] = set = new HashSet<string>(StringComparer.Ordinal);
                // The spec's ServiceSubcategory table has two columns (category, subcategory); the
                // derived file puts the category under Value and the subcategory under Description.
                set.Add((key.Item2 == "ServiceSubcategory" ? r[h["Description"]] : r[h["Value"]]).Trim().ToString());
            }
        }
        return new FocusReference(cols, allowedValues);
    }

    private static Dictionary<string, int> Index(string[] header)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++) d[header[i]] = i;
        return d;
    }
}
