using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// A command line that cannot run as given ends, before any work, with one line on stderr and exit code 2: unknown
/// options, bad values, a <c>--json</c> target that cannot be written, more connections than descriptors.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CliUsageTests
{
    private const int Usage = 2;

    [Test]
    public void An_unknown_option_exits_2_with_one_line_naming_it()
    {
        var run = MinissProcess.Run(["bench", "--frob"]);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("unknown bench option '--frob'").And.Contain("miniss bench --help"));
    }

    [TestCase("serve", "echo", "--port", "99999", "'--port' needs a whole number from 0 to 65535, not '99999'")]
    [TestCase("bench", "--duration", "soon", "", "'--duration' needs a number of seconds")]
    [TestCase("serve", "echo", "--address", "example", "'--address' needs an IPv4 or IPv6 address")]
    [TestCase("serve", "ftp", "", "", "'serve' needs 'echo', 'http' or 'aspnet'")]
    public void A_bad_value_exits_2_with_one_line_naming_what_is_accepted(string a, string b, string c, string d, string expected)
    {
        var arguments = new List<string>();
        foreach (string argument in new[] { a, b, c, d })
        {
            if (argument.Length > 0)
            {
                arguments.Add(argument);
            }
        }

        var run = MinissProcess.Run(arguments);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain(expected));
    }

    [Test]
    public void Json_to_a_folder_is_refused_before_any_work()
    {
        string folder = Directory.CreateTempSubdirectory("miniss-json-").FullName;
        try
        {
            var run = MinissProcess.Run(["bench", "--json", folder, "--duration", "0.05", "--file-size", "1", "--connections", "2"]);

            Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
            MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
            Assert.That(run.Stderr, Does.Contain($"'--json {folder}' is a folder"));
            Assert.That(run.Stderr, Does.Not.Contain("creating the file"), "refused before the run, not after it");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Json_to_a_path_this_user_may_not_write_is_refused_before_any_work()
    {
        // A folder only root may write, and miniss run as nobody.
        string folder = Directory.CreateTempSubdirectory("miniss-json-").FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        string target = Path.Combine(folder, "figures.json");
        try
        {
            var run = MinissProcess.Run(["bench", "--json", target, "--duration", "0.05", "--file-size", "1", "--connections", "2"], Wrappers.Nobody);

            Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
            MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
            Assert.That(run.Stderr, Does.Contain($"'--json {target}' cannot be written"));
            Assert.That(run.Stderr, Does.Not.Contain("creating the file"), "refused before the run, not after it");
            Assert.That(File.Exists(target), Is.False);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCase(1000, 1024)]
    [TestCase(10000, 4096)]
    public void Connections_beyond_the_descriptor_limit_are_refused_in_one_line(int connections, int limit)
    {
        var run = MinissProcess.Run(["bench", "--connections", $"{connections}", "--duration", "0.1", "--file-size", "1"],
            ["prlimit", $"--nofile={limit}:{limit}"]);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"'--connections {connections}' needs about").And.Contain($"RLIMIT_NOFILE allows {limit}"));
        Assert.That(run.Stderr, Does.Not.Contain("creating the file"), "refused before the run");
    }

    /// <summary>Below what .NET needs to load miniss's libraries (it keeps each loaded assembly's file open), every
    /// command is refused at once in one line; before, these limits aborted with a loader exception and its trace.</summary>
    [TestCase("bench", 48)]
    [TestCase("serve", 64)]
    [TestCase("info", 100)]
    public void A_descriptor_limit_too_low_for_dotnet_itself_is_refused_in_one_line(string command, int limit)
    {
        var run = MinissProcess.Run([command], ["prlimit", $"--nofile={limit}:{limit}"]);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"RLIMIT_NOFILE allows {limit} descriptors").And.Contain("at least 128"));
    }

    [Test]
    public void The_soft_descriptor_limit_is_raised_to_the_hard_limit_before_the_check()
    {
        // 300 connections need about 700 descriptors: more than the soft limit, well within the hard one.
        var run = MinissProcess.Run(["bench", "--connections", "300", "--duration", "0.1", "--file-size", "1", "--backend", "epoll"],
            ["prlimit", "--nofile=256:4096"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stdout, Does.Contain("300 connections"));
        Assert.That(run.Stderr, Does.Not.Contain("   at "));
    }
}

/// <summary>Command prefixes that run miniss with less than root has.</summary>
internal static class Wrappers
{
    /// <summary>As the unprivileged user nobody.</summary>
    public static readonly string[] Nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

    /// <summary>Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at <paramref name="bytes"/>: what a service user meets.</summary>
    public static string[] Memlock(int bytes) =>
        ["setpriv", "--inh-caps=-all", "--bounding-set=-ipc_lock", "prlimit", $"--memlock={bytes}:{bytes}"];
}
