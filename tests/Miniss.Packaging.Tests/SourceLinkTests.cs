using System;
using System.IO;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// Source Link names each source file of a library by its URL at the built commit when the checkout has a GitHub
/// remote, and stays silent when it has none (or one that is a local path, as a CI clone's is). Runs in a clone of
/// this repository, so the checkout's own remote is left alone; only the Source Link targets run, no compilation.
/// </summary>
[TestFixture]
[Platform("Linux")]
public sealed class SourceLinkTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);
    private string _clone = null!;

    [SetUp]
    public void Clone()
    {
        string work = Directory.CreateTempSubdirectory("miniss-sourcelink-").FullName;
        _clone = Path.Combine(work, "miniss");
        Git(Path.GetTempPath(), $"clone --quiet \"{Commands.RepositoryRoot()}\" \"{_clone}\"");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_clone)!, recursive: true);

    [Test, CancelAfter(600_000)]
    public void A_GitHub_remote_maps_the_sources_to_their_URLs_at_the_built_commit()
    {
        Git(_clone, "remote set-url origin https://github.com/example/miniss.git");
        string commit = Git(_clone, "rev-parse HEAD").Trim();

        string output = SourceLink();

        string map = File.ReadAllText(Path.Combine(_clone, "bindings/Miniss.Bindings/obj/Release/net10.0/Miniss.Bindings.sourcelink.json"));
        Assert.That(map, Does.Contain($"https://raw.githubusercontent.com/example/miniss/{commit}/*"), output);
    }

    [Test, CancelAfter(600_000)]
    public void A_checkout_without_a_remote_builds_without_a_warning()
    {
        Git(_clone, "remote remove origin");

        string output = SourceLink();

        Assert.That(output, Does.Not.Match(@"\bwarning [A-Z]*[0-9]*\s*:"));
        Assert.That(output, Does.Contain("0 Warning(s)"));
    }

    private string SourceLink() => Commands.Dotnet(_clone,
        "msbuild bindings/Miniss.Bindings/Miniss.Bindings.csproj -restore -nologo -v:n -p:Configuration=Release \"-t:PrepareForBuild;InitializeSourceControlInformation;_GenerateSourceLinkFile\"",
        Limit);

    private static string Git(string directory, string arguments)
    {
        CommandResult result = Commands.Run("git", arguments, directory, Limit);
        Assert.That(result.ExitCode, Is.Zero, $"git {arguments}: {result.Output}");
        return result.StandardOutput;
    }
}
