using System.Collections.Concurrent;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.IO.FaultInjection;

namespace Miniss.Internal.Linux;

/// <summary>An eventfd: how another thread wakes a shard that sleeps in <c>io_uring_enter</c>.</summary>
internal static unsafe class EventFd
{
    // Eventfds whose writes a test makes fail, and the schedule that decides when; null outside such tests.
    private static ConcurrentDictionary<int, FaultSchedule>? s_faults;

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

    /// <summary>
    /// Adds one to the counter: a pending read on the eventfd completes. One system call, repeated when interrupted:
    /// a wake-up that is lost leaves a shard asleep with work waiting. <c>EAGAIN</c> (the counter is full) needs no
    /// retry, since a full counter wakes the reader as well as one more would. Any thread.
    /// </summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        while (true)
        {
            int errno = s_faults is { } faults && faults.TryGetValue(fd, out FaultSchedule? schedule) && schedule.EventFdWriteFails(out int injected)
                ? InjectedFailure(fd, injected)
                : Libc.write(fd, &one, sizeof(ulong)) >= 0 ? 0 : Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return;
            }
        }
    }

    /// <summary>Tests only: writes to <paramref name="fd"/> fail when <paramref name="schedule"/> says so, until
    /// <see cref="StopInjecting"/>.</summary>
    internal static void InjectFaults(int fd, FaultSchedule schedule) =>
        LazyInitializer.EnsureInitialized(ref s_faults)[fd] = schedule;

    /// <summary>Tests only: writes to <paramref name="fd"/> no longer fail on purpose.</summary>
    internal static void StopInjecting(int fd) => s_faults?.TryRemove(fd, out _);

    private static int InjectedFailure(int fd, int errno)
    {
        if (errno == Errno.EAGAIN)
        {
            // Only a counter that is already non-zero answers EAGAIN; make it so, as the kernel's would be.
            ulong one = 1;
            _ = Libc.write(fd, &one, sizeof(ulong));
        }

        return errno;
    }
}
