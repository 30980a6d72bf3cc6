using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>
/// The server side of TCP connections as the kernel lists them (/proc/net/tcp and tcp6): a socket whose local port is
/// one the server listens on and which is not the listener itself. One that some process still holds a descriptor of
/// has a non-zero inode; once every descriptor is closed the kernel keeps only an orphan (TIME_WAIT, FIN_WAIT...) with
/// inode 0. So "no connection left open" is: no such socket with a non-zero inode.
/// </summary>
internal static class ServerConnections
{
    private const string Listen = "0A";
    private static readonly TimeSpan s_ceiling = TimeSpan.FromSeconds(30);

    /// <summary>The server-side sockets on <paramref name="ports"/> that a descriptor still holds, each as /proc lists
    /// it: kernel state (hexadecimal: 01 established, 08 close-wait), local and remote address, inode.</summary>
    public static List<string> Open(IReadOnlyCollection<int> ports)
    {
        var open = new List<string>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[0] == "sl")
                {
                    continue;
                }

                string local = fields[1];
                int port = int.Parse(local.AsSpan(local.IndexOf(':', StringComparison.Ordinal) + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (fields[3] != Listen && fields[9] != "0" && Contains(ports, port))
                {
                    open.Add($"{fields[3]} {fields[1]} {fields[2]} {fields[9]}");
                }
            }
        }

        return open;
    }

    /// <summary>Waits (at most 30 s, which a correct server never comes near) until no server-side socket on
    /// <paramref name="ports"/> is held open, and fails naming the states of those still open.</summary>
    public static async Task AssertNoneLeftOpenAsync(IReadOnlyCollection<int> ports)
    {
        DateTime deadline = DateTime.UtcNow + s_ceiling;
        List<string> open;
        while ((open = Open(ports)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, CancellationToken.None);
        }

        Assert.That(open, Is.Empty, $"server-side connections still held open {s_ceiling.TotalSeconds:0} s after the test (state local remote inode; 01 established, 08 close-wait)");
    }

    private static bool Contains(IReadOnlyCollection<int> ports, int port)
    {
        foreach (int p in ports)
        {
            if (p == port)
            {
                return true;
            }
        }

        return false;
    }
}
