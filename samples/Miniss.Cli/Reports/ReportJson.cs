using System.Text.Json.Serialization;

namespace Miniss.Cli.Reports;

/// <summary>The JSON of <c>miniss</c>'s reports, written by System.Text.Json's source generator (no reflection, so the
/// contract is fixed at build time): camelCase names, indented, nulls written out so every field is always present.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(InfoReport))]
internal sealed partial class ReportJson : JsonSerializerContext;
