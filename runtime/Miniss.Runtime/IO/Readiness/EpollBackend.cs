using System;
using System.IO;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;
using Miniss.Internal.Linux;

namespace Miniss.IO.Readiness;

/// <summary>
/// The Linux readiness backend: the shared <see cref="ReadinessBackend"/> over one epoll instance, edge-triggered,
/// with an eventfd through which the blocking pool wakes a waiting <c>epoll_wait</c>. Only this class knows
/// <c>epoll_event</c>, whose layout differs between x86_64 (packed, 12 bytes) and aarch64 (16 bytes).
/// </summary>
internal sealed unsafe class EpollBackend : ReadinessBackend
{
    /// <summary>The <c>data</c> of the eventfd's registration: no descriptor has this number.</summary>
    private const ulong NotifyData = ulong.MaxValue;

    private static readonly bool s_packedEvents = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    private byte* _events;
    private readonly int _capacity;
    private int _epoll = -1;
    private int _notify = -1;

    /// <exception cref="IOException">epoll or the eventfd could not be created.</exception>
    public EpollBackend(BlockingIoPool pool, int batch = 256)
        : base(pool, batch)
    {
        _capacity = Math.Max(16, batch);
        _epoll = Libc.epoll_create1(Epoll.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Dispose();
            throw new IOException($"epoll_create1 failed: {Internal.ErrnoNames.Describe(errno)}", errno);
        }

        _notify = EventFd.Create();
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(_capacity * EventSize));
        if (Control(Epoll.EPOLL_CTL_ADD, _notify, Epoll.EPOLLIN | Epoll.EPOLLET, NotifyData) is int failed and not 0)
        {
            Dispose();
            throw new IOException($"epoll_ctl failed for the eventfd: {Internal.ErrnoNames.Describe(failed)}", failed);
        }
    }

    private static int EventSize => s_packedEvents ? sizeof(Bindings.Linux.X64.epoll_event) : sizeof(Bindings.Linux.Arm64.epoll_event);

    /// <inheritdoc/>
    public override IoBackendKind Kind => IoBackendKind.Epoll;

    /// <inheritdoc/>
    protected override int Register(int fd) =>
        Control(Epoll.EPOLL_CTL_ADD, fd, Epoll.EPOLLIN | Epoll.EPOLLOUT | Epoll.EPOLLRDHUP | Epoll.EPOLLET, (ulong)fd);

    /// <inheritdoc/>
    protected override int WaitForEvents(long timeoutNanoseconds, Span<ReadyEvent> events)
    {
        // epoll_wait counts milliseconds: round a positive wait up, so a timer due in 300 µs does not spin at 0.
        int milliseconds = timeoutNanoseconds < 0 ? -1 : (int)Math.Min(int.MaxValue, (timeoutNanoseconds + 999_999) / 1_000_000);
        int max = Math.Min(_capacity, events.Length);
        int count;
        do
        {
            count = Libc.epoll_wait(_epoll, _events, max, milliseconds);
        }
        while (count < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);

        if (count < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"epoll_wait failed: {Internal.ErrnoNames.Describe(errno)}", errno);
        }

        int written = 0;
        for (int i = 0; i < count; i++)
        {
            (uint mask, ulong data) = EventAt(i);
            if (data == NotifyData)
            {
                ulong value;
                _ = Libc.read(_notify, &value, sizeof(ulong));
                continue;
            }

            const uint readable = Epoll.EPOLLIN | Epoll.EPOLLRDHUP | Epoll.EPOLLHUP | Epoll.EPOLLERR;
            const uint writable = Epoll.EPOLLOUT | Epoll.EPOLLHUP | Epoll.EPOLLERR;
            events[written++] = new ReadyEvent { Fd = (int)data, Readable = (mask & readable) != 0, Writable = (mask & writable) != 0, HangUp = (mask & Epoll.EPOLLHUP) != 0 };
        }

        return written;
    }

    /// <inheritdoc/>
    protected override void Notify() => EventFd.Signal(_notify);

    /// <summary>Also makes the writes that wake this engine's <c>epoll_wait</c> fail as the schedule says.</summary>
    internal override void AttachFaults(FaultInjection.FaultInjectingBackend faults)
    {
        base.AttachFaults(faults);
        faults.InjectEventFdFaults(_notify);
    }

    private (uint Mask, ulong Data) EventAt(int i)
    {
        if (s_packedEvents)
        {
            var e = (Bindings.Linux.X64.epoll_event*)_events + i;
            return (e->events, (ulong)e->data.u64);
        }

        var a = (Bindings.Linux.Arm64.epoll_event*)_events + i;
        return (a->events, (ulong)a->data.u64);
    }

    private int Control(int operation, int fd, uint mask, ulong data)
    {
        int result;
        if (s_packedEvents)
        {
            Bindings.Linux.X64.epoll_event e = default;
            e.events = mask;
            e.data.u64 = (nuint)data;
            result = Libc.epoll_ctl(_epoll, operation, fd, &e);
        }
        else
        {
            Bindings.Linux.Arm64.epoll_event e = default;
            e.events = mask;
            e.data.u64 = (nuint)data;
            result = Libc.epoll_ctl(_epoll, operation, fd, &e);
        }

        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <inheritdoc/>
    protected override void CloseEvents()
    {
        if (_epoll >= 0)
        {
            _ = Libc.close(_epoll);
            _epoll = -1;
        }

        if (_notify >= 0)
        {
            _ = Libc.close(_notify);
            _notify = -1;
        }

        NativeMemory.Free(_events);
        _events = null;
    }
}
