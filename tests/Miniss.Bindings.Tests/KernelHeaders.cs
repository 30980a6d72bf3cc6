using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Miniss.Bindings.Tests;

/// <summary>
/// The kernel user-space headers a recipe's layout check compiles against. A recipe that states the ABI of a given
/// Linux release (<c>check.kernel</c>) needs headers at least that new: the system's own when they are, otherwise the
/// ones <c>native-headers/fetch-kernel-headers.sh</c> unpacks (the test command runs it). The kernel's user-space ABI only
/// grows, so newer headers check every value stated for an older release, except the "one past the last" counts
/// (<c>IORING_OP_LAST</c>), which newer headers check as lower bounds.
/// </summary>
internal sealed record KernelHeaders(string? IncludeRoot, int VersionCode, string Description)
{
    public const string SystemRoot = "/usr/include";

    /// <summary>Extra compiler arguments that put these headers ahead of the system's (none for the system's own).</summary>
    public IReadOnlyList<string> CompilerArguments(string multiarch) => IncludeRoot is null
        ? []
        : ["-isystem", IncludeRoot, "-isystem", Path.Combine(IncludeRoot, multiarch)];

    /// <summary>The cache folder the fetch script unpacks into (<c>MINISS_KERNEL_HEADERS</c> overrides it).</summary>
    public static string CacheRoot()
    {
        string? explicitRoot = Environment.GetEnvironmentVariable("MINISS_KERNEL_HEADERS");
        if (!string.IsNullOrEmpty(explicitRoot))
        {
            return explicitRoot;
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string cache = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(cache, "miniss", "kernel-headers");
    }

    /// <summary>Finds headers at least as new as <paramref name="kernel"/> (null: the system's, whatever version).</summary>
    /// <exception cref="InvalidOperationException">No such headers are present; the message says how to get them.</exception>
    public static KernelHeaders For(string? kernel)
    {
        int system = VersionCodeOf(Path.Combine(SystemRoot, "linux", "version.h"));
        if (kernel is null)
        {
            return new KernelHeaders(null, system, $"the system's headers ({Release(system)})");
        }

        int wanted = ParseRelease(kernel);
        if (system >= wanted)
        {
            return new KernelHeaders(null, system, $"the system's headers ({Release(system)})");
        }

        string fetched = Path.Combine(CacheRoot(), "usr", "include");
        int fetchedCode = VersionCodeOf(Path.Combine(fetched, "linux", "version.h"));
        if (fetchedCode >= wanted)
        {
            return new KernelHeaders(fetched, fetchedCode, $"Debian's linux-libc-dev for {Release(fetchedCode)}, fetched by native-headers/fetch-kernel-headers.sh");
        }

        throw new InvalidOperationException(
            $"native-headers states the Linux {kernel} ABI, but the system's kernel headers are {Release(system)} and no newer ones are unpacked in {CacheRoot()}: " +
            "run native-headers/fetch-kernel-headers.sh (./test.sh does), or install linux-libc-dev " + kernel + " or newer.");
    }

    /// <summary><c>LINUX_VERSION_CODE</c> of a <c>linux/version.h</c>, or 0 when the file is missing.</summary>
    public static int VersionCodeOf(string versionHeader)
    {
        if (!File.Exists(versionHeader))
        {
            return 0;
        }

        const string prefix = "#define LINUX_VERSION_CODE ";
        string? line = File.ReadLines(versionHeader).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is not null && int.TryParse(line.AsSpan(prefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int code) ? code : 0;
    }

    public static int ParseRelease(string release)
    {
        string[] parts = release.Split('.');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture) << 16) + (int.Parse(parts[1], CultureInfo.InvariantCulture) << 8);
    }

    public static string Release(int code) => code == 0 ? "missing" : $"Linux {code >> 16}.{(code >> 8) & 0xff}";
}
