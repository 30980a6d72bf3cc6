using System;
using System.Reflection;

namespace Miniss.Cli;

/// <summary>What this <c>miniss</c> was built from: the Miniss version and the git commit, both read from the assembly's
/// informational version (<c>0.1.0-preview.1+&lt;commit&gt;</c>, the commit added at build time from
/// <c>git rev-parse HEAD</c> when the build runs in a git checkout).</summary>
internal static class BuildInfo
{
    private static readonly string s_informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The Miniss version (<c>Version</c> in Directory.Build.props).</summary>
    public static string Version { get; } = s_informational.Split('+')[0];

    /// <summary>The full hash of the commit this was built from, or <see langword="null"/> for a build outside git.</summary>
    public static string? Commit { get; } = s_informational.IndexOf('+', StringComparison.Ordinal) is int at and >= 0 && at + 1 < s_informational.Length
        ? s_informational[(at + 1)..]
        : null;
}
