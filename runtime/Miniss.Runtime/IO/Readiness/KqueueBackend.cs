using System;
using System.IO;
using System.Runtime.InteropServices;
using Darwin = Miniss.Bindings.Darwin;

namespace Miniss.IO.Readiness;

/// <summary>
/// The macOS readiness backend: the shared <see cref="ReadinessBackend"/> over one kqueue, with a read and a write
/// filter per descriptor (<c>EV_CLEAR</c>: edge-triggered, as epoll's <c>EPOLLET</c>) and an <c>EVFILT_USER</c> event
/// through which the blocking pool wakes a waiting <c>kevent</c>. Only the system-call layer lives here.
/// </summary>
/// <remarks>
/// Built in every build and never run by the test suite, which runs on Linux: see the README's backend matrix for
/// what is and is not verified on macOS.
/// </remarks>
internal sealed unsafe class KqueueBackend : ReadinessBackend
{
    /// <summary>The identifier of the user event that wakes a waiting <c>kevent</c>.</summary>
    private static readonly nuint NotifyIdent = nuint.MaxValue;

    private readonly Darwin.kevent* _events;
    private readonly int _capacity;
    private int _kqueue = -1;

    /// <exception cref="IOException">The kqueue could not be created.</exception>
    public KqueueBackend(BlockingIoPool pool, int batch = 256)
        : base(pool, batch)
    {
        _capacity = Math.Max(16, batch);
        _kqueue = Darwin.Libc.kqueue();
        if (_kqueue < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Dispose();
            throw new IOException($"kqueue failed with errno {errno}", errno);
        }

        _events = (Darwin.kevent*)NativeMemory.AllocZeroed((nuint)_capacity, (nuint)sizeof(Darwin.kevent));
        Darwin.kevent user = Change(NotifyIdent, Darwin.Kqueue.EVFILT_USER, Darwin.Kqueue.EV_ADD | Darwin.Kqueue.EV_CLEAR, 0);
        if (Darwin.Libc.kevent(_kqueue, &user, 1, null, 0, null) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Dispose();
            throw new IOException($"kevent failed to add the wake-up event with errno {errno}", errno);
        }
    }

    /// <inheritdoc/>
    public override IoBackendKind Kind => IoBackendKind.Kqueue;

    /// <inheritdoc/>
    protected override int Register(int fd)
    {
        Darwin.kevent* changes = stackalloc Darwin.kevent[2];
        changes[0] = Change((nuint)fd, Darwin.Kqueue.EVFILT_READ, Darwin.Kqueue.EV_ADD | Darwin.Kqueue.EV_CLEAR, 0);
        changes[1] = Change((nuint)fd, Darwin.Kqueue.EVFILT_WRITE, Darwin.Kqueue.EV_ADD | Darwin.Kqueue.EV_CLEAR, 0);
        return Darwin.Libc.kevent(_kqueue, changes, 2, null, 0, null) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <inheritdoc/>
    protected override int WaitForEvents(long timeoutNanoseconds, Span<ReadyEvent> events)
    {
        Darwin.timespec timeout = default;
        Darwin.timespec* limit = null;
        if (timeoutNanoseconds >= 0)
        {
            timeout.tv_sec = (nint)(timeoutNanoseconds / 1_000_000_000);
            timeout.tv_nsec = (nint)(timeoutNanoseconds % 1_000_000_000);
            limit = &timeout;
        }

        int count = Darwin.Libc.kevent(_kqueue, null, 0, _events, Math.Min(_capacity, events.Length), limit);
        if (count < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Darwin.Errno.EINTR ? 0 : throw new IOException($"kevent failed with errno {errno}", errno);
        }

        int written = 0;
        for (int i = 0; i < count; i++)
        {
            Darwin.kevent* e = &_events[i];
            if (e->filter == Darwin.Kqueue.EVFILT_USER)
            {
                continue;
            }

            // EV_EOF and EV_ERROR come on the filter concerned: the operation itself reports the error.
            bool read = e->filter == Darwin.Kqueue.EVFILT_READ;
            events[written++] = new ReadyEvent { Fd = (int)e->ident, Readable = read, Writable = !read, HangUp = (e->flags & Darwin.Kqueue.EV_EOF) != 0 };
        }

        return written;
    }

    /// <inheritdoc/>
    protected override void Notify()
    {
        Darwin.kevent trigger = Change(NotifyIdent, Darwin.Kqueue.EVFILT_USER, 0, (uint)Darwin.Kqueue.NOTE_TRIGGER);
        _ = Darwin.Libc.kevent(_kqueue, &trigger, 1, null, 0, null);
    }

    /// <inheritdoc/>
    protected override void CloseEvents()
    {
        if (_kqueue >= 0)
        {
            _ = Darwin.Libc.close(_kqueue);
            _kqueue = -1;
        }

        NativeMemory.Free(_events);
    }

    private static Darwin.kevent Change(nuint ident, int filter, int flags, uint filterFlags) => new()
    {
        ident = ident,
        filter = (short)filter,
        flags = (ushort)flags,
        fflags = filterFlags,
    };
}
