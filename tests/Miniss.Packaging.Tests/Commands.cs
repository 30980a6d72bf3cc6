using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>What a command printed (stdout and stderr interleaved as they arrived) and how it ended.</summary>
internal sealed record CommandResult(int ExitCode, string Output, string StandardOutput);

/// <summary>Runs dotnet and the programs it builds, bounded in time, and finds the repository.</summary>
internal static class Commands
{
    /// <summary>Runs <paramref name="program"/> in <paramref name="directory"/>; a run longer than
    /// <paramref name="limit"/> is killed with its children and fails the test.</summary>
    public static CommandResult Run(string program, string arguments, string directory, TimeSpan limit, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using Process process = Process.Start(start)!;
        var output = new StringBuilder();
        var standardOutput = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
                standardOutput.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{program} {arguments} did not finish within {limit.TotalMinutes:0} minutes:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return new CommandResult(process.ExitCode, output.ToString(), standardOutput.ToString());
        }
    }

    /// <summary>Runs dotnet and fails the test unless it exits with 0.</summary>
    public static string Dotnet(string directory, string arguments, TimeSpan limit, IDictionary<string, string>? environment = null)
    {
        CommandResult result = Run("dotnet", arguments, directory, limit, environment);
        Assert.That(result.ExitCode, Is.Zero, $"dotnet {arguments} in {directory} failed:\n{result.Output}");
        return result.Output;
    }

    /// <summary>The folder of Miniss.sln.</summary>
    public static string RepositoryRoot([CallerFilePath] string here = "")
    {
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
