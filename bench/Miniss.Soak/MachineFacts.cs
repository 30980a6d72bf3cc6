using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Miniss.Soak;

/// <summary>What the report says of the machine: CPU model, logical cores, memory, kernel, .NET, date.</summary>
internal static class MachineFacts
{
    /// <summary>One line, e.g. "AMD EPYC 7B13, 2 logical cores, 7.8 GiB, Linux 6.8.0, .NET 10.0.0, 2026-12-05".</summary>
    public static string Describe()
    {
        string cpu = "unknown CPU";
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("model name", StringComparison.Ordinal))
            {
                cpu = line.Split(':', 2)[1].Trim();
                break;
            }
        }

        string memory = string.Empty;
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), out long kib))
            {
                memory = FormattableString.Invariant($", {kib / 1024.0 / 1024.0:0.0} GiB");
                break;
            }
        }

        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "unknown";
        return FormattableString.Invariant(
            $"{cpu}, {Environment.ProcessorCount} logical cores{memory}, Linux {kernel}, {RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd}");
    }
}
