using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// <c>miniss</c> is a .NET tool: packed into a local folder feed, it installs with <c>dotnet tool install</c> from that
/// feed alone (no other source, a package folder of its own, so never a cached package of the same version) and the
/// installed command runs.
/// </summary>
[TestFixture]
[Platform("Linux")]
public sealed class ToolInstallTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromMinutes(5);

    /// <summary>The version every Miniss project is built with (Version in Directory.Build.props), this assembly's too.</summary>
    private static readonly string s_version =
        (typeof(ToolInstallTests).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "").Split('+')[0];

    private string _work = null!;
    private string _miniss = null!;

    [OneTimeSetUp]
    public void PackAndInstallTheTool()
    {
        _work = Directory.CreateTempSubdirectory("miniss-tool-").FullName;
        string feed = Path.Combine(_work, "feed");
        string configuration = typeof(ToolInstallTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        Run("dotnet", RepositoryRoot(), ["pack", "samples/Miniss.Cli/Miniss.Cli.csproj", "-c", configuration, "--no-build", "-o", feed]);
        Assert.That(File.Exists(Path.Combine(feed, $"miniss.{s_version}.nupkg")), Is.True, $"miniss.{s_version}.nupkg in the feed");

        // The feed is the only source: nuget.org is cleared away, so the miniss installed is the one just packed.
        string config = Path.Combine(_work, "nuget.config");
        File.WriteAllText(config, """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
              </packageSources>
            </configuration>
            """);
        string tools = Path.Combine(_work, "tools");
        Run("dotnet", _work, ["tool", "install", "--tool-path", tools, "miniss", "--add-source", feed, "--version", s_version, "--configfile", config],
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_work, "packages") });
        _miniss = Path.Combine(tools, "miniss");
        Assert.That(File.Exists(_miniss), Is.True, "the miniss command in the tool path");
    }

    [OneTimeTearDown]
    public void RemoveTheFeedAndTheTool()
    {
        if (_work is not null)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Test, CancelAfter(300_000)]
    public void Installed_tool_prints_its_version()
    {
        string output = Run(_miniss, _work, ["--version"]);

        Assert.That(output, Does.StartWith($"miniss {s_version} (commit "));
    }

    [Test, CancelAfter(300_000)]
    public void Installed_tool_prints_info_as_json()
    {
        string output = Run(_miniss, _work, ["info", "--json"]);

        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement root = document.RootElement;
        Assert.That(root.GetProperty("schema").GetString(), Is.EqualTo("miniss-info/1"));
        Assert.That(root.GetProperty("run").GetProperty("command").GetString(), Is.EqualTo("info"));
        Assert.That(root.GetProperty("run").GetProperty("minissVersion").GetString(), Is.EqualTo(s_version));
        Assert.That(root.GetProperty("run").GetProperty("cpus").GetInt32(), Is.EqualTo(Environment.ProcessorCount));
    }

    /// <summary>Runs <paramref name="file"/> to its end within <see cref="s_patience"/>; fails the test unless it exits 0.</summary>
    /// <returns>Its stdout (stderr goes into the failure message only: the tool's log and progress are not output).</returns>
    private static string Run(string file, string directory, IEnumerable<string> arguments, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The installed command finds the .NET this test runs on, wherever it is installed.
        start.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        start.Environment.Remove("MINISS_BACKEND");
        foreach ((string name, string value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using Process process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string command = $"{file} {string.Join(' ', start.ArgumentList)}";
        if (!process.WaitForExit(s_patience))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{command} did not finish within {s_patience.TotalMinutes} minutes:\n{Locked(stdout)}{Locked(stderr)}");
        }

        process.WaitForExit();   // drains the redirected output
        Assert.That(process.ExitCode, Is.Zero, $"{command} in {directory} failed:\n{Locked(stdout)}{Locked(stderr)}");
        return Locked(stdout);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.Append(line).Append('\n');
            }
        }
    }

    private static string Locked(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

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
