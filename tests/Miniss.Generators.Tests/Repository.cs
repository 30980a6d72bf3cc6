using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace Miniss.Generators.Tests;

/// <summary>The source tree the tests were built from: its catalog sources and the committed baselines.</summary>
internal static class Repository
{
    /// <summary>The folder holding <c>Miniss.sln</c>, above this source file.</summary>
    public static string Root { get; } = Find();

    /// <summary>The text of <paramref name="relativePath"/> (with <c>/</c> separators) under the repository root.</summary>
    public static string Read(string relativePath) => File.ReadAllText(PathOf(relativePath));

    /// <summary>The full path of <paramref name="relativePath"/> (with <c>/</c> separators) under the repository root.</summary>
    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    private static string Find([CallerFilePath] string here = "")
    {
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
