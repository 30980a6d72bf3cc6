using System;
using System.Threading;
using Miniss.Bindings.Linux;

namespace Miniss.Internal;

/// <summary>
/// A few descriptors the process holds in reserve (opened on <c>/dev/null</c>) and gives back the moment an operation of
/// Miniss reports that the process is out of descriptors (EMFILE, ENFILE).
/// </summary>
/// <remarks>
/// The .NET runtime itself needs descriptors at moments nobody chooses: every thread it starts (the tiered-compilation
/// thread, which it ends after a few idle seconds and starts again on demand, thread-pool workers) takes a pipe. When
/// such a start finds the table full, the process aborts ("Out of memory.", exit 134). A server out of descriptors
/// stops accepting for a while (see <c>ShardServerOptions.AcceptRetryDelay</c>); the reserve makes sure the room it
/// leaves is really there. It is taken again, one descriptor per descriptor Miniss closes, once connections end.
/// Process-wide and thread-safe: every path is a few interlocked operations, and nothing here allocates.
/// </remarks>
internal static class DescriptorReserve
{
    /// <summary>How many descriptors are held: enough for a few threads' pipes (two each) and a log file.</summary>
    public const int Size = 16;

    private static readonly int[] s_fds = CreateEmpty();
    private static int s_missing = Size;
    private static int s_exhaustions;

    /// <summary>How many times the reserve was given back because the process ran out of descriptors.</summary>
    public static int Exhaustions => Volatile.Read(ref s_exhaustions);

    /// <summary>How many reserve descriptors are held now.</summary>
    public static int Held => Size - Volatile.Read(ref s_missing);

    /// <summary>Opens what is missing of the reserve (when a runtime starts). Cheap when nothing is missing.</summary>
    public static void Acquire()
    {
        while (Volatile.Read(ref s_missing) > 0 && TryRestoreOne())
        {
        }
    }

    /// <summary>Called by the error path when an operation failed with EMFILE or ENFILE: closes every reserve
    /// descriptor, so the .NET runtime finds room for what it must open next.</summary>
    public static void Release()
    {
        Interlocked.Increment(ref s_exhaustions);
        for (int i = 0; i < s_fds.Length; i++)
        {
            int fd = Interlocked.Exchange(ref s_fds[i], -1);
            if (fd >= 0)
            {
                _ = Libc.close(fd);
                Interlocked.Increment(ref s_missing);
            }
        }
    }

    /// <summary>Called after Miniss closed a descriptor: takes one back into the reserve if it is short.</summary>
    public static void OnDescriptorClosed()
    {
        if (Volatile.Read(ref s_missing) > 0)
        {
            _ = TryRestoreOne();
        }
    }

    private static bool TryRestoreOne()
    {
        for (int i = 0; i < s_fds.Length; i++)
        {
            if (Volatile.Read(ref s_fds[i]) >= 0)
            {
                continue;
            }

            int fd = OpenDevNull();
            if (fd < 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref s_fds[i], fd, -1) == -1)
            {
                Interlocked.Decrement(ref s_missing);
                return true;
            }

            // Another thread filled this slot meanwhile: try the next one with the same descriptor.
            _ = Libc.close(fd);
        }

        return false;
    }

    private static unsafe int OpenDevNull()
    {
        byte* path = stackalloc byte[] { (byte)'/', (byte)'d', (byte)'e', (byte)'v', (byte)'/', (byte)'n', (byte)'u', (byte)'l', (byte)'l', 0 };
        return Libc.open(path, Files.O_RDONLY | Files.O_CLOEXEC, 0);
    }

    private static int[] CreateEmpty()
    {
        var fds = new int[Size];
        fds.AsSpan().Fill(-1);
        return fds;
    }
}
