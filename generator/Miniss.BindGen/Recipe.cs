using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miniss.BindGen;

/// <summary>
/// What BindGen emits from one header: read from <c>NAME.recipe.json</c> beside it (format in native-headers/README.md).
/// </summary>
internal sealed class Recipe
{
    public required string RecipePath { get; init; }
    public required string HeaderPath { get; init; }
    public required string ClassName { get; init; }
    public required IReadOnlyList<TargetTriple> Targets { get; init; }
    public required IReadOnlyList<string> Records { get; init; }
    public required IReadOnlyList<string> Constants { get; init; }
    public required IReadOnlyList<string> Functions { get; init; }
    public required IReadOnlyList<string> CheckIncludes { get; init; }
    public required IReadOnlyList<string> CheckDefines { get; init; }

    /// <summary>
    /// The Linux release whose user-space ABI the header states (<c>"6.18"</c>), or null. The layout check compiles
    /// against kernel headers at least that new.
    /// </summary>
    public string? CheckKernel { get; init; }

    public string Family => Targets[0].Family;

    /// <summary>The recipe's file name without <c>.recipe.json</c>.</summary>
    public string Name => Path.GetFileName(RecipePath)[..^".recipe.json".Length];

    public static IReadOnlyList<Recipe> LoadAll(string headersRoot)
    {
        if (!Directory.Exists(headersRoot))
        {
            throw new BindGenException($"headers folder '{headersRoot}' does not exist.");
        }

        var recipes = new List<Recipe>();
        string[] files = Directory.GetFiles(headersRoot, "*.recipe.json", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (string file in files)
        {
            recipes.Add(Load(file));
        }

        if (recipes.Count == 0)
        {
            throw new BindGenException($"no *.recipe.json under '{headersRoot}'.");
        }

        return recipes;
    }

    public static Recipe Load(string recipePath)
    {
        RecipeFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(recipePath), RecipeJsonContext.Default.RecipeFile);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $"line {line + 1}: " : string.Empty;
            string what = e.Message.Split(" Path:", 2)[0].Replace("Miniss.BindGen.RecipeFile", "the recipe", StringComparison.Ordinal);
            throw new BindGenException($"{recipePath}: not a valid recipe: {where}{what} (keys: header, class, targets, records, constants, functions, check).");
        }

        if (file is null || string.IsNullOrWhiteSpace(file.Header) || string.IsNullOrWhiteSpace(file.Class))
        {
            throw new BindGenException($"{recipePath}: a recipe needs \"header\" and \"class\".");
        }

        if (!IsIdentifier(file.Class))
        {
            throw new BindGenException($"{recipePath}: class '{file.Class}' is not a C# identifier.");
        }

        if (file.Targets is not { Count: > 0 })
        {
            throw new BindGenException($"{recipePath}: \"targets\" must name at least one target.");
        }

        var targets = new List<TargetTriple>();
        foreach (string triple in file.Targets)
        {
            targets.Add(TargetTriple.Parse(triple, recipePath));
        }

        foreach (TargetTriple target in targets)
        {
            if (target.Family != targets[0].Family)
            {
                throw new BindGenException($"{recipePath}: targets {targets[0]} and {target} belong to different OS families; write one recipe per family.");
            }
        }

        string? kernel = file.Check?.Kernel;
        if (kernel is not null && !IsKernelRelease(kernel))
        {
            throw new BindGenException($"{recipePath}: check.kernel '{kernel}' is not a kernel release of the form MAJOR.MINOR (e.g. \"6.18\").");
        }

        string header = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipePath))!, file.Header));
        if (!File.Exists(header))
        {
            throw new BindGenException($"{recipePath}: header '{file.Header}' does not exist.");
        }

        return new Recipe
        {
            RecipePath = Path.GetFullPath(recipePath),
            HeaderPath = header,
            ClassName = file.Class,
            Targets = targets,
            Records = file.Records ?? [],
            Constants = file.Constants ?? [],
            Functions = file.Functions ?? [],
            CheckIncludes = file.Check?.Includes ?? [],
            CheckDefines = file.Check?.Defines ?? [],
            CheckKernel = kernel,
        };
    }

    private static bool IsKernelRelease(string text)
    {
        string[] parts = text.Split('.');
        return parts.Length == 2 && byte.TryParse(parts[0], out _) && byte.TryParse(parts[1], out _) && parts[0].Length > 0 && !text.Contains(' ', StringComparison.Ordinal);
    }

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class RecipeFile
{
    public string? Header { get; set; }
    public string? Class { get; set; }
    public List<string>? Targets { get; set; }
    public List<string>? Records { get; set; }
    public List<string>? Constants { get; set; }
    public List<string>? Functions { get; set; }
    public RecipeCheck? Check { get; set; }
}

internal sealed class RecipeCheck
{
    public List<string>? Includes { get; set; }
    public List<string>? Defines { get; set; }
    public string? Kernel { get; set; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(RecipeFile))]
internal sealed partial class RecipeJsonContext : JsonSerializerContext;
