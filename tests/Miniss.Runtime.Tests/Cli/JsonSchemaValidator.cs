using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// Checks a JSON document against the schemas in docs/schemas, for the subset of JSON Schema (2020-12) those schemas use:
/// <c>type</c> (one or a list), <c>const</c>, <c>required</c>, <c>properties</c>, <c>items</c>, <c>allOf</c>,
/// <c>$ref</c> (within a file, or to another file of the folder), <c>minimum</c>, <c>minLength</c>, <c>pattern</c> and
/// <c>format: date-time</c>. Any other keyword in a schema is reported as an error, so a schema never holds a rule this
/// check would silently skip.
/// </summary>
internal sealed class JsonSchemaValidator
{
    private static readonly HashSet<string> s_annotations = ["$schema", "$id", "$defs", "title", "description"];

    private readonly string _folder;
    private readonly Dictionary<string, JsonDocument> _schemas = [];

    private JsonSchemaValidator(string folder) => _folder = folder;

    /// <summary>The schemas committed in docs/schemas of this checkout.</summary>
    public static JsonSchemaValidator ForCommittedSchemas()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string schemas = Path.Combine(folder.FullName, "docs", "schemas");
            if (File.Exists(Path.Combine(folder.FullName, "Miniss.sln")) && Directory.Exists(schemas))
            {
                return new JsonSchemaValidator(schemas);
            }
        }

        throw new DirectoryNotFoundException($"no docs/schemas above {AppContext.BaseDirectory}");
    }

    /// <summary>Every way <paramref name="json"/> breaks the schema in <paramref name="schemaFile"/>; empty when it holds.</summary>
    public IReadOnlyList<string> Validate(string json, string schemaFile)
    {
        var errors = new List<string>();
        using JsonDocument document = JsonDocument.Parse(json);
        Check(Load(schemaFile), document.RootElement, "$", schemaFile, errors);
        return errors;
    }

    private JsonElement Load(string file)
    {
        if (!_schemas.TryGetValue(file, out JsonDocument? schema))
        {
            schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, file)));
            _schemas[file] = schema;
        }

        return schema.RootElement;
    }

    private void Check(JsonElement schema, JsonElement value, string path, string file, List<string> errors)
    {
        foreach (JsonProperty keyword in schema.EnumerateObject())
        {
            JsonElement rule = keyword.Value;
            switch (keyword.Name)
            {
                case "type":
                    CheckType(rule, value, path, errors);
                    break;
                case "const":
                    if (!JsonElement.DeepEquals(rule, value))
                    {
                        errors.Add($"{path}: {value.GetRawText()} is not {rule.GetRawText()}");
                    }

                    break;
                case "required" when value.ValueKind == JsonValueKind.Object:
                    foreach (JsonElement name in rule.EnumerateArray())
                    {
                        if (!value.TryGetProperty(name.GetString()!, out _))
                        {
                            errors.Add($"{path}: '{name.GetString()}' is missing");
                        }
                    }

                    break;
                case "properties" when value.ValueKind == JsonValueKind.Object:
                    foreach (JsonProperty property in rule.EnumerateObject())
                    {
                        if (value.TryGetProperty(property.Name, out JsonElement member))
                        {
                            Check(property.Value, member, $"{path}.{property.Name}", file, errors);
                        }
                    }

                    break;
                case "items" when value.ValueKind == JsonValueKind.Array:
                    int index = 0;
                    foreach (JsonElement item in value.EnumerateArray())
                    {
                        Check(rule, item, $"{path}[{index++}]", file, errors);
                    }

                    break;
                case "allOf":
                    foreach (JsonElement part in rule.EnumerateArray())
                    {
                        Check(part, value, path, file, errors);
                    }

                    break;
                case "$ref":
                    (JsonElement target, string targetFile) = Resolve(rule.GetString()!, file);
                    Check(target, value, path, targetFile, errors);
                    break;
                case "minimum" when value.ValueKind == JsonValueKind.Number:
                    if (value.GetDouble() < rule.GetDouble())
                    {
                        errors.Add($"{path}: {value.GetRawText()} is below {rule.GetRawText()}");
                    }

                    break;
                case "minLength" when value.ValueKind == JsonValueKind.String:
                    if (value.GetString()!.Length < rule.GetInt32())
                    {
                        errors.Add($"{path}: '{value.GetString()}' is shorter than {rule.GetInt32()}");
                    }

                    break;
                case "pattern" when value.ValueKind == JsonValueKind.String:
                    if (!Regex.IsMatch(value.GetString()!, rule.GetString()!, RegexOptions.CultureInvariant))
                    {
                        errors.Add($"{path}: '{value.GetString()}' does not match {rule.GetString()}");
                    }

                    break;
                case "format" when value.ValueKind == JsonValueKind.String:
                    if (rule.GetString() != "date-time")
                    {
                        errors.Add($"schema {file}: format '{rule.GetString()}' is not checked by this validator");
                    }
                    else if (!DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
                    {
                        errors.Add($"{path}: '{value.GetString()}' is not a date-time");
                    }

                    break;
                case "required" or "properties" or "items" or "minimum" or "minLength" or "pattern" or "format":
                    break;   // applies to another kind of value
                default:
                    if (!s_annotations.Contains(keyword.Name))
                    {
                        errors.Add($"schema {file}: keyword '{keyword.Name}' is not checked by this validator");
                    }

                    break;
            }
        }
    }

    private static void CheckType(JsonElement rule, JsonElement value, string path, List<string> errors)
    {
        if (rule.ValueKind == JsonValueKind.String)
        {
            if (!IsOfType(rule.GetString()!, value))
            {
                errors.Add($"{path}: {Kind(value)} is not {rule.GetString()}");
            }

            return;
        }

        foreach (JsonElement type in rule.EnumerateArray())
        {
            if (IsOfType(type.GetString()!, value))
            {
                return;
            }
        }

        errors.Add($"{path}: {Kind(value)} is none of {rule.GetRawText()}");
    }

    private static bool IsOfType(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new NotSupportedException($"type '{type}'"),
    };

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();

    /// <summary>A reference: <c>#/$defs/run</c> in <paramref name="file"/>, or <c>other.json#/$defs/run</c>.</summary>
    private (JsonElement Schema, string File) Resolve(string reference, string file)
    {
        int hash = reference.IndexOf('#', StringComparison.Ordinal);
        string targetFile = hash > 0 ? reference[..hash] : file;
        JsonElement target = Load(targetFile);
        foreach (string step in reference[(hash + 1)..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            target = target.GetProperty(step);
        }

        return (target, targetFile);
    }
}
