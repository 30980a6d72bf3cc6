using System;
using System.Collections.Generic;
using Miniss.Bindings.Linux;
using Miniss.Internal.Linux;

namespace Miniss.IO.FaultInjection;

/// <summary>
/// A test-only decorator of a shard's real engine (io_uring, epoll or kqueue) that injects the faults of a
/// <see cref="FaultSchedule"/> where the kernel could produce them, losing nothing the kernel would not lose:
/// <list type="bullet">
/// <item>An operation chosen to fail is rewritten into a no-op before it is handed over, and its completion carries
/// the injected error: an accept or open that "failed" never made a descriptor that would leak. A multishot
/// operation's completion has no <c>IORING_CQE_F_MORE</c> flag, so it ends as the kernel would end it.</item>
/// <item>A short transfer shortens a read's or write's length (or <c>iovec</c> count) before it is handed over, so
/// the kernel moves fewer bytes and says so.</item>
/// <item>A full submission queue hands the pending batch over before a record is given out.</item>
/// <item>A completion-queue overflow holds completions back, in order, until the next submit or wait, and says
/// meanwhile that the kernel holds work (as <c>IORING_SQ_CQ_OVERFLOW</c> does).</item>
/// <item>An <c>io_uring_enter</c> fault (EBUSY, EAGAIN, EINTR) makes a submit or wait hand nothing over this time;
/// inside the io_uring engine it also strikes the real call, so the ring's own handling of those answers runs.</item>
/// <item>An eventfd fault fails the write that wakes a shard (see <see cref="EventFd.Signal"/>).</item>
/// </list>
/// Records with internal user data (a shard's wake-up read, cancel requests) are never rewritten.
/// </summary>
/// <remarks>Not thread-safe, like every engine: only the shard's thread uses it. The inner engine calls back into it
/// (<see cref="SubmissionQueueFull"/>, <see cref="BeforeHandOver"/>, <see cref="EnterError"/>) through
/// <see cref="IoBackend.Faults"/>.</remarks>
internal sealed unsafe class FaultInjectingBackend : IoBackend
{
    private const int DirectIoAlignment = 4096;

    private readonly IoBackend _inner;
    private readonly FaultSchedule _schedule;
    private readonly Random _random;

    // Operations rewritten into no-ops, by user data: the error their completion reports.
    private readonly Dictionary<ulong, int> _injected = [];

    // Completions held back while the completion queue "overflows"; delivered first, in order, once it is flushed.
    private readonly Queue<IoCompletion> _withheld = new();
    private readonly List<int> _eventFds = [];
    private bool _overflowing;
    private bool _disposed;

    private FaultInjectingBackend(IoBackend inner, FaultSchedule schedule, int shardId)
    {
        _inner = inner;
        _schedule = schedule;
        _random = schedule.CreateGenerator(shardId);
        AttachFaults(this);
        inner.AttachFaults(this);
    }

    /// <summary>Wraps <paramref name="engine"/> in a decorator that injects <paramref name="schedule"/>'s faults, or
    /// returns it as it is when <paramref name="schedule"/> is <see langword="null"/> (always, outside tests).</summary>
    /// <param name="engine">The shard's real engine; the decorator owns it from now on and disposes it.</param>
    /// <param name="schedule">The faults to inject, or <see langword="null"/> for none.</param>
    /// <param name="shardId">The shard the engine belongs to: its faults are drawn from a generator seeded with it.</param>
    public static IoBackend Decorate(IoBackend engine, FaultSchedule? schedule, int shardId) =>
        schedule is null ? engine : new FaultInjectingBackend(engine, schedule, shardId);

    /// <summary>The schedule whose faults this engine injects.</summary>
    public FaultSchedule Schedule => _schedule;

    /// <summary>Operations rewritten to fail whose completion has not been delivered yet.</summary>
    public int PendingInjectedErrors => _injected.Count;

    /// <inheritdoc/>
    internal override IoBackend Underlying => _inner;

    /// <inheritdoc/>
    public override IoBackendKind Kind => _inner.Kind;

    /// <inheritdoc/>
    internal override int SubmissionCapacity => _inner.SubmissionCapacity;

    /// <inheritdoc/>
    public override long SystemCalls => _inner.SystemCalls;

    /// <inheritdoc/>
    internal override bool HasCompletions => !_overflowing && (_withheld.Count > 0 || _inner.HasCompletions);

    /// <inheritdoc/>
    internal override bool KernelHasWork => _overflowing || _inner.KernelHasWork;

    /// <inheritdoc/>
    internal override bool SpinIsUseful => _inner.SpinIsUseful;

    /// <inheritdoc/>
    internal override io_uring_sqe* NextSqe() => _inner.NextSqe();

    /// <inheritdoc/>
    internal override __kernel_timespec* TimespecOfLastSqe() => _inner.TimespecOfLastSqe();

    /// <inheritdoc/>
    internal override void DescribeLastSqe(in Catalog.ReadinessDescriptor descriptor) =>
        _inner.DescribeLastSqe(in descriptor);

    /// <inheritdoc/>
    internal override bool Submit()
    {
        if (FlushOverflow())
        {
            return true;
        }

        // The kernel was entered and refused: report it as activity, so the loop comes back rather than sleeps.
        return EnterError() != 0 || _inner.Submit();
    }

    /// <inheritdoc/>
    internal override void Wait(long timeoutNanoseconds)
    {
        if (FlushOverflow() || EnterError() != 0)
        {
            return;
        }

        _inner.Wait(timeoutNanoseconds);
    }

    /// <inheritdoc/>
    internal override bool TryReap(out IoCompletion completion)
    {
        if (!_overflowing && _withheld.TryDequeue(out completion))
        {
            return true;
        }

        while (_inner.TryReap(out IoCompletion raw))
        {
            IoCompletion delivered = _injected.Remove(raw.UserData, out int errno) ? new IoCompletion(raw.UserData, -errno, 0) : raw;
            if (!_overflowing && _schedule.Strikes(FaultKinds.CompletionOverflow, _random))
            {
                _overflowing = true;
            }

            if (_overflowing)
            {
                _withheld.Enqueue(delivered);
                continue;
            }

            completion = delivered;
            return true;
        }

        completion = default;
        return false;
    }

    /// <summary>Makes writes to the eventfd <paramref name="fd"/> fail as the schedule says, until this engine is disposed.</summary>
    public void InjectEventFdFaults(int fd)
    {
        if ((_schedule.Kinds & FaultKinds.EventFdFailure) == 0 || fd < 0)
        {
            return;
        }

        EventFd.InjectFaults(fd, _schedule);
        _eventFds.Add(fd);
    }

    // ---- Called by the inner engine -----------------------------------------------------------------------------

    /// <summary>Whether the submission queue should count as full now (the pending batch is handed over first).</summary>
    internal bool SubmissionQueueFull() => _schedule.Strikes(FaultKinds.SubmissionQueueFull, _random);

    /// <summary>The errno an <c>io_uring_enter</c> (a submit or wait) answers instead of running, or 0.</summary>
    internal int EnterError()
    {
        if (_schedule.Strikes(FaultKinds.EnterInterrupted, _random))
        {
            return Errno.EINTR;
        }

        if (_schedule.Strikes(FaultKinds.EnterBusy, _random))
        {
            return _random.Next(2) == 0 ? Errno.EBUSY : Errno.EAGAIN;
        }

        return 0;
    }

    /// <summary>Looks at a record about to be handed over, once, and rewrites it when the schedule says it fails or
    /// transfers less.</summary>
    /// <returns>Whether the record became a no-op (whose completion carries the injected error).</returns>
    internal bool BeforeHandOver(io_uring_sqe* sqe)
    {
        if ((sqe->user_data & IoBackend.InternalUserData) != 0 || !_schedule.Targets(sqe->opcode))
        {
            return false;
        }

        if (sqe->opcode != IoUring.IORING_OP_CLOSE && _schedule.Strikes(FaultKinds.ErrorResults, _random))
        {
            ulong userData = sqe->user_data;
            _injected[userData] = _schedule.Errors[_random.Next(_schedule.Errors.Count)];
            *sqe = default;
            sqe->opcode = IoUring.IORING_OP_NOP;
            sqe->fd = -1;
            sqe->user_data = userData;
            return true;
        }

        uint shorter = ShorterLength(sqe);
        if (shorter != sqe->len && _schedule.Strikes(FaultKinds.ShortTransfers, _random))
        {
            sqe->len = shorter;
        }

        return false;
    }

    /// <summary>A shorter length the record could be handed over with, or its own length when it cannot be shortened
    /// (a provided-buffer receive, one byte or <c>iovec</c>, a direct-I/O transfer of one block).</summary>
    private uint ShorterLength(io_uring_sqe* sqe)
    {
        uint length = sqe->len;
        if (length < 2 || (sqe->flags & IoUring.IOSQE_BUFFER_SELECT) != 0)
        {
            return length;
        }

        switch (sqe->opcode)
        {
            case IoUring.IORING_OP_READV or IoUring.IORING_OP_WRITEV:
                // Whole iovecs only: each one keeps whatever alignment direct I/O needs.
                return 1 + (uint)_random.Next((int)length - 1);
            case IoUring.IORING_OP_RECV or IoUring.IORING_OP_SEND:
                return 1 + (uint)_random.Next((int)Math.Min(length - 1, int.MaxValue));
            case IoUring.IORING_OP_READ or IoUring.IORING_OP_WRITE or IoUring.IORING_OP_READ_FIXED or IoUring.IORING_OP_WRITE_FIXED:
                int flags = sqe->fd >= 0 ? Libc.fcntl(sqe->fd, Files.F_GETFL, 0) : -1;
                if (flags >= 0 && (flags & Files.O_DIRECT) != 0)
                {
                    uint blocks = length / DirectIoAlignment;
                    return length % DirectIoAlignment == 0 && blocks >= 2 ? DirectIoAlignment * (1 + (uint)_random.Next((int)blocks - 1)) : length;
                }

                return 1 + (uint)_random.Next((int)Math.Min(length - 1, int.MaxValue));
            default:
                return length;
        }
    }

    /// <summary>Ends a simulated overflow: the held-back completions become visible (the kernel flushes its overflow
    /// list when entered), and the inner engine's pending work is handed over.</summary>
    private bool FlushOverflow()
    {
        if (!_overflowing)
        {
            return false;
        }

        _overflowing = false;
        _inner.Submit();
        return true;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Before the inner engine closes them: a number closed may name another runtime's eventfd next.
        foreach (int fd in _eventFds)
        {
            EventFd.StopInjecting(fd);
        }

        _eventFds.Clear();
        _inner.Dispose();
        _injected.Clear();
        _withheld.Clear();
        CompleteDispose();
    }
}
