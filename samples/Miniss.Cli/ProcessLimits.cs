using System;
using System.IO;
using Miniss.Bindings.Linux;

namespace Miniss.Cli;

/// <summary>The descriptor limit (RLIMIT_NOFILE) of this process: raised to its hard limit at start, as servers commonly
/// do, and checked against what a command will open before it opens anything.</summary>
internal static unsafe class ProcessLimits
{
    /// <summary>Raises the soft RLIMIT_NOFILE to the hard one. Returns the soft limit now in force (or
    /// <see cref="long.MaxValue"/> when it cannot be read, or off Linux).</summary>
    public static long RaiseDescriptorLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return long.MaxValue;
        }

        rlimit limit;
        if (Libc.getrlimit(Files.RLIMIT_NOFILE, &limit) != 0)
        {
            return long.MaxValue;
        }

        if (limit.rlim_cur < limit.rlim_max)
        {
            rlimit raised = limit;
            raised.rlim_cur = limit.rlim_max;
            if (Libc.setrlimit(Files.RLIMIT_NOFILE, &raised) == 0)
            {
                limit = raised;
            }
        }

        return limit.rlim_cur >= long.MaxValue ? long.MaxValue : (long)limit.rlim_cur;
    }

    /// <summary>How many descriptors this process has open now (the entries of <c>/proc/self/fd</c>), or a cautious
    /// guess of 64 when that cannot be read.</summary>
    public static int OpenDescriptors()
    {
        try
        {
            int count = 0;
            foreach (string _ in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                count++;
            }

            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 64;
        }
    }
}
