using System;
using System.IO;
using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>The bindings committed in the repository are exactly what BindGen generates from its native-headers.</summary>
[TestFixture]
public sealed class RepositoryBindingsTests
{
    [Test]
    public void The_committed_bindings_match_the_repository_native_headers()
    {
        string root = RepositoryRoot();

        BindGenResult result = BindGenTree.Run(
            "--headers", Path.Combine(root, "native-headers"),
            "--out", Path.Combine(root, "bindings", "Miniss.Bindings", "Generated"),
            "--verify");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("match"));
    }

    /// <summary>The folder holding <c>Miniss.sln</c>, above this source file.</summary>
    private static string RepositoryRoot([CallerFilePath] string here = "")
    {
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
