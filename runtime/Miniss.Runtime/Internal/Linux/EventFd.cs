using System.IO;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.Internal.Linux;

/// <summary>An eventfd: how another thread wakes a shard that sleeps in <c>io_uring_enter</c>.</summary>
internal static unsafe class EventFd
{
    public static int Create()
    {
        int fd = Libc.eventfd(0, Files.EFD_CLOEXEC | Files.EFD_NONBLOCK);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"eventfd failed: {ErrnoNames.Describe(errno)}", errno);
        }

        return fd;
    }

    /// <summary>Adds one to the counter: a pending read on the eventfd completes. One system call.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        _ = Libc.write(fd, &one, sizeof(ulong));
    }
}
