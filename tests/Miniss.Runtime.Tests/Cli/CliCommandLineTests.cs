using System;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// The command line of <c>miniss</c> as a user meets it: <c>--version</c> names the version and the commit, every command
/// has its own help (with the environment variables it reads), and a command line that cannot run is refused in one
/// line naming the command's help, exit code 2.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed partial class CliCommandLineTests
{
    [Test]
    public void Version_prints_the_miniss_version_and_the_commit_it_was_built_from()
    {
        var run = MinissProcess.Run(["--version"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Match match = VersionLine().Match(run.Stdout);
        Assert.That(match.Success, Is.True, $"'miniss <version> (commit <hash>)'\n{run.Transcript}");
        string runtimeVersion = typeof(MinissRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.That(match.Groups["version"].Value, Is.EqualTo(runtimeVersion), "the version of the Miniss it ships");
        if (Git("rev-parse", "HEAD") is not null)
        {
            // Built in this checkout: the commit is one of its own (HEAD when built and tested together, as CI does).
            Assert.That(match.Groups["commit"].Value, Does.Match("^[0-9a-f]{40}$"), run.Transcript);
            Assert.That(Git("cat-file", "-t", match.Groups["commit"].Value), Is.EqualTo("commit"), run.Transcript);
        }
    }

    [TestCase(new string[0], "miniss [command] [options]", "bench", "MINISS_BACKEND")]
    [TestCase(new[] { "bench" }, "miniss bench [options]", "--duration", "MINISS_BACKEND")]
    [TestCase(new[] { "bench" }, "miniss bench [options]", "--report <PATH.html>", "MINISS_BACKEND")]
    [TestCase(new string[0], "miniss [command] [options]", "dotnet tool install --global miniss", "MINISS_BACKEND")]
    [TestCase(new[] { "info" }, "miniss info [options]", "--json", "MINISS_BACKEND")]
    [TestCase(new[] { "serve" }, "miniss serve [command] [options]", "aspnet", "Miniss__")]
    [TestCase(new[] { "serve", "echo" }, "miniss serve echo [options]", "--address", "Miniss__")]
    [TestCase(new[] { "serve", "http" }, "miniss serve http [options]", "[default: 8080]", "Miniss__")]
    [TestCase(new[] { "serve", "aspnet" }, "miniss serve aspnet [options]", "--reuse-port", "Miniss__")]
    public void Help_of_each_command_shows_its_usage_options_and_environment(string[] command, string usage, string option, string environment)
    {
        var run = MinissProcess.Run([.. command, "--help"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stdout, Does.Contain(usage).And.Contain(option).And.Contain(environment), run.Transcript);
        Assert.That(run.Stderr, Is.Empty, run.Transcript);
    }

    [TestCase(new[] { "frob" }, "unknown command 'frob': use bench, serve or info", "miniss --help")]
    [TestCase(new[] { "info", "--frob" }, "unknown info option '--frob'", "miniss info --help")]
    [TestCase(new[] { "serve" }, "'serve' needs 'echo', 'http' or 'aspnet'", "miniss serve --help")]
    [TestCase(new[] { "serve", "http", "--shards", "0" }, "'--shards' needs a whole number from 1 to", "miniss serve http --help")]
    [TestCase(new[] { "bench", "--backend", "dpdk" }, "'--backend dpdk': 'dpdk' is not a Miniss backend", "miniss bench --help")]
    [TestCase(new[] { "bench", "--connections" }, "--connections", "miniss bench --help")]
    public void A_command_line_that_cannot_run_exits_2_with_one_line_naming_the_help_to_read(string[] arguments, string expected, string help)
    {
        var run = MinissProcess.Run(arguments);

        Assert.That(run.Exit, Is.EqualTo(2), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), $"one usage line, no help dump\n{run.Transcript}");
        Assert.That(run.Stderr, Does.Contain(expected).And.Contain($"(see '{help}')"), run.Transcript);
        Assert.That(run.Stdout, Is.Empty, run.Transcript);
    }

    /// <summary>What git prints for <paramref name="arguments"/> in the checkout the tests run in; null when git fails or is missing.</summary>
    private static string? Git(params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using Process git = Process.Start(start)!;
            string output = git.StandardOutput.ReadToEnd().Trim();
            git.StandardError.ReadToEnd();
            return git.WaitForExit(30_000) && git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no git on this machine
        }
    }

    [GeneratedRegex(@"^miniss (?<version>\d+\.\d+\.\d+\S*) \(commit (?<commit>[^)]+)\)\n$")]
    private static partial Regex VersionLine();
}
