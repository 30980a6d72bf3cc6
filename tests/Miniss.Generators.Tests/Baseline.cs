using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// Committed baselines of generated files, one file per generated source under
/// <c>tests/Miniss.Generators.Tests/Snapshots/SET/</c>, named by its hint name. A reviewer sees any change to the
/// generated code as a diff there. After an intended change, run the tests once with
/// <c>MINISS_UPDATE_SNAPSHOTS=1</c>, review the rewritten baselines and commit them.
/// </summary>
internal static class Baseline
{
    public const string UpdateVariable = "MINISS_UPDATE_SNAPSHOTS";

    private static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <summary>Fails unless <paramref name="actual"/> equals the baseline <paramref name="set"/>/<paramref name="hintName"/>
    /// (rewritten first when <see cref="UpdateVariable"/> is 1).</summary>
    public static void AssertMatches(string set, string hintName, string actual)
    {
        string path = Path.Combine(Folder(set), hintName);
        if (Updating)
        {
            Directory.CreateDirectory(Folder(set));
            File.WriteAllText(path, actual);
        }

        Assert.That(File.Exists(path), Is.True,
            $"no baseline at {path}; run the tests once with {UpdateVariable}=1 to create it, then review and commit it");

        // A checkout may have turned the baseline's line ends into CRLF; the generator writes LF.
        string expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.That(actual, Is.EqualTo(expected),
            $"{hintName} differs from its baseline {path}; if the change is intended, run the tests with {UpdateVariable}=1 and commit the new baseline");
    }

    /// <summary>Fails when <paramref name="set"/> holds a baseline for a file no longer generated (deleted first when
    /// <see cref="UpdateVariable"/> is 1).</summary>
    public static void AssertNoneStale(string set, IEnumerable<string> generatedHintNames)
    {
        var generated = new HashSet<string>(generatedHintNames, StringComparer.Ordinal);
        string[] stale = Directory.Exists(Folder(set))
            ? Directory.GetFiles(Folder(set)).Where(path => !generated.Contains(Path.GetFileName(path))).ToArray()
            : [];
        if (Updating)
        {
            foreach (string path in stale)
            {
                File.Delete(path);
            }

            return;
        }

        Assert.That(stale, Is.Empty,
            $"baselines of files the generator no longer writes; delete them, or run the tests with {UpdateVariable}=1");
    }

    private static string Folder(string set) => Repository.PathOf("tests/Miniss.Generators.Tests/Snapshots/" + set);
}
