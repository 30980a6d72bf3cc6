using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Miniss.Cli.Reports;

/// <summary>
/// The <c>run</c> block of every JSON document <c>miniss</c> writes: what ran (Miniss version and commit, backend, shards),
/// where (CPU model, kernel, .NET), when (start time, UTC), and with which options. Enough to tell two documents apart and
/// to rerun the same command.
/// </summary>
/// <typeparam name="TOptions">The command's options, as given or defaulted.</typeparam>
internal sealed record RunDescription<TOptions>(
    string Command,
    string MinissVersion,
    string? Commit,
    IReadOnlyList<string> Backends,
    int Shards,
    string? CpuModel,
    int Cpus,
    string Kernel,
    string Os,
    string Architecture,
    string DotnetVersion,
    DateTime StartedUtc,
    TOptions Options)
{
    /// <summary>Describes a run of <paramref name="command"/> on this machine that started at <paramref name="startedUtc"/>.</summary>
    public static RunDescription<TOptions> Describe(string command, IReadOnlyList<string> backends, int shards, DateTime startedUtc, TOptions options) => new(
        command,
        BuildInfo.Version,
        BuildInfo.Commit,
        backends,
        shards,
        MachineFacts.CpuModel(),
        Environment.ProcessorCount,
        MachineFacts.Kernel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        Environment.Version.ToString(),
        startedUtc.ToUniversalTime(),
        options);
}

/// <summary>What the run block says about this machine, read from /proc on Linux.</summary>
internal static class MachineFacts
{
    /// <summary>The first CPU's model name from /proc/cpuinfo (<c>model name</c> on x86, <c>Model</c> or
    /// <c>CPU part</c> elsewhere), or <see langword="null"/> when it does not say.</summary>
    public static string? CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line.AsSpan(0, colon).Trim() is "model name" or "Model" or "cpu model" && line[(colon + 1)..].Trim() is { Length: > 0 } model)
                {
                    return model;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc is not mounted: the model is unknown.
        }

        return null;
    }

    /// <summary>The kernel release (<c>uname -r</c>, from /proc/sys/kernel/osrelease), or .NET's OS version elsewhere.</summary>
    public static string Kernel()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Environment.OSVersion.Version.ToString();
        }
    }

    /// <summary>A count in bytes for JSON, <see langword="null"/> meaning unlimited.</summary>
    public static long? Limit(ulong value, ulong infinity) => value == infinity || value > long.MaxValue ? null : (long)value;
}
