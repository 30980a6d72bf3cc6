using System;
using System.IO;

namespace Miniss.Net.Internal;

/// <summary>
/// How many connections a server may hold when its options set no <see cref="ShardServerOptions.MaxConnections"/>:
/// the descriptors the process may still open (<c>RLIMIT_NOFILE</c> less those open when the server starts) less a
/// headroom the process keeps for itself. Without it, a server under a flood of clients would take the last
/// descriptor, and the .NET runtime, which needs descriptors to start its own threads, aborts the process when it finds
/// none.
/// </summary>
internal static class DescriptorBudget
{
    /// <summary>The descriptors kept free beyond the connections: a sixteenth of the limit, at least 24.</summary>
    public static int Headroom(long limit) => (int)Math.Max(24, limit / 16);

    /// <summary>The default connection limit, or <see langword="null"/> when the descriptor limit is too large to
    /// matter (or cannot be read).</summary>
    public static int? DefaultMaxConnections()
    {
        long limit = SoftLimit();
        if (limit <= 0 || limit >= int.MaxValue)
        {
            return null;
        }

        int open = OpenDescriptors();
        return (int)Math.Max(1, limit - open - Headroom(limit));
    }

    /// <summary>RLIMIT_NOFILE's soft limit, from <c>/proc/self/limits</c>; -1 when unknown, long.MaxValue when
    /// unlimited.</summary>
    public static long SoftLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length == 0 ? -1
                    : fields[0] == "unlimited" ? long.MaxValue
                    : long.TryParse(fields[0], out long value) ? value : -1;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return -1;
    }

    private static int OpenDescriptors()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
