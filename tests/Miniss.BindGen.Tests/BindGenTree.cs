using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace Miniss.BindGen.Tests;

/// <summary>What one run of BindGen returned and printed.</summary>
internal sealed record BindGenResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>
/// A throw-away <c>native-headers</c> tree in a fresh temporary folder, with an output folder beside it, on which
/// BindGen runs in-process. Disposing it deletes the folder.
/// </summary>
internal sealed class BindGenTree : IDisposable
{
    public const string X64 = "x86_64-linux-gnu";
    public const string Arm64 = "aarch64-linux-gnu";

    public BindGenTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "miniss-bindgen-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(HeadersRoot);
    }

    /// <summary>The temporary folder holding everything of this tree.</summary>
    public string Root { get; }

    /// <summary>The <c>native-headers</c> folder given to <c>--headers</c>.</summary>
    public string HeadersRoot => Path.Combine(Root, "native-headers");

    /// <summary>The folder given to <c>--out</c>.</summary>
    public string OutputRoot => Path.Combine(Root, "out");

    /// <summary>Writes <c>native-headers/FOLDER/NAME</c>; returns its path.</summary>
    public string WriteHeader(string name, string text, string folder = "linux") => Write(Path.Combine(HeadersRoot, folder, name), text);

    /// <summary>Writes <c>native-headers/FOLDER/NAME.recipe.json</c> verbatim; returns its path.</summary>
    public string WriteRecipeText(string name, string json, string folder = "linux") =>
        Write(Path.Combine(HeadersRoot, folder, name + ".recipe.json"), json);

    /// <summary>Writes the recipe <c>NAME.recipe.json</c> for the header <c>NAME.h</c> (default target: x86_64-linux-gnu).</summary>
    public string WriteRecipe(
        string name,
        string className,
        string[]? targets = null,
        string[]? records = null,
        string[]? constants = null,
        string[]? functions = null,
        string folder = "linux")
    {
        var recipe = new Dictionary<string, object>
        {
            ["header"] = name + ".h",
            ["class"] = className,
            ["targets"] = targets ?? [X64],
            ["records"] = records ?? [],
            ["constants"] = constants ?? [],
            ["functions"] = functions ?? [],
        };
        return WriteRecipeText(name, JsonSerializer.Serialize(recipe), folder);
    }

    /// <summary>Runs BindGen in-process with exactly these arguments.</summary>
    public static BindGenResult Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = Program.Run(args, output, error);
        return new BindGenResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Generates from this tree's headers into <paramref name="outputRoot"/> (default: <see cref="OutputRoot"/>).</summary>
    public BindGenResult Generate(string? outputRoot = null) => Run("--headers", HeadersRoot, "--out", outputRoot ?? OutputRoot);

    /// <summary>Verifies <see cref="OutputRoot"/> against this tree's headers.</summary>
    public BindGenResult Verify() => Run("--headers", HeadersRoot, "--out", OutputRoot, "--verify");

    /// <summary>The path of a file of the output folder, from its path relative to it (<c>Linux/X64/T.cs</c>).</summary>
    public string OutputPath(string relative) => Path.Combine(OutputRoot, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The text of a generated file.</summary>
    public string Read(string relative) => File.ReadAllText(OutputPath(relative));

    /// <summary>Every file under <paramref name="outputRoot"/> (default: <see cref="OutputRoot"/>), relative, forward slashes, sorted.</summary>
    public List<string> OutputFiles(string? outputRoot = null)
    {
        string folder = outputRoot ?? OutputRoot;
        return Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static string Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
