using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.Internal;
using Miniss.Internal.Linux;

namespace Miniss.IO.Uring;

/// <summary>
/// The Linux backend: one io_uring instance, its submission and completion rings mapped into this process once, with
/// the kernel's head and tail read with acquire and written with release ordering. Submissions are batched: an SQE is
/// written into shared memory and reaches the kernel with the next <see cref="Submit()"/> or <see cref="Wait"/>, one
/// <c>io_uring_enter</c> for the whole batch. Completions are read straight from shared memory; the kernel is
/// entered for them only when it says work is waiting (<c>IORING_SQ_TASKRUN</c>, <c>IORING_SQ_CQ_OVERFLOW</c>).
/// </summary>
/// <remarks>
/// Not thread-safe: the ring is set up <c>SINGLE_ISSUER</c> (and <c>DEFER_TASKRUN</c>) when the kernel allows, so
/// only the thread that created it may submit or wait. Deliberately not supported: SQPOLL, SQE128/CQE32.
/// </remarks>
internal sealed unsafe class IoUringBackend : IoBackend
{
    /// <summary>The optional setup flags Miniss asks for; the kernel may refuse some (see <see cref="SetupFlags"/>).</summary>
    internal const uint DefaultFlags = IoUring.IORING_SETUP_SINGLE_ISSUER | IoUring.IORING_SETUP_DEFER_TASKRUN
        | IoUring.IORING_SETUP_COOP_TASKRUN | IoUring.IORING_SETUP_TASKRUN_FLAG | IoUring.IORING_SETUP_SUBMIT_ALL;

    /// <summary>The optional setup flags Miniss asks for, dropped newest first when the kernel refuses them.</summary>
    private static readonly uint[] s_optionalFlags =
    [
        IoUring.IORING_SETUP_DEFER_TASKRUN,
        IoUring.IORING_SETUP_SINGLE_ISSUER,
        IoUring.IORING_SETUP_TASKRUN_FLAG,
        IoUring.IORING_SETUP_COOP_TASKRUN,
        IoUring.IORING_SETUP_SUBMIT_ALL,
    ];

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint* _sqFlags;
    private readonly uint _sqMask;
    private readonly io_uring_sqe* _sqes;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly io_uring_cqe* _cqes;
    private readonly __kernel_timespec* _timespecs;
    private readonly void* _ringMemory;
    private readonly nuint _ringSize;
    private readonly void* _cqMemory;
    private readonly nuint _cqSize;
    private readonly nuint _sqesSize;

    // Completions taken out of the ring while the submission queue was being made room for; delivered first.
    private readonly Queue<IoCompletion> _setAside = new();

    private uint _sqLocalTail;
    private uint _sqSubmittedTail;

    // With a fault injector: the SQEs before this one have been shown to it (each is shown once).
    private uint _sqInspectedTail;
    private int _fd;

    /// <summary>The bytes of this ring's shared memory (SQ and CQ rings, SQE array) in whole pages: what the kernel
    /// charges to RLIMIT_MEMLOCK for a process without CAP_IPC_LOCK.</summary>
    internal long LockedBytes
    {
        get
        {
            long page = Environment.SystemPageSize;
            return (((long)_ringSize + page - 1) / page * page) + (((long)_cqSize + page - 1) / page * page) + (((long)_sqesSize + page - 1) / page * page);
        }
    }

    private IoUringBackend(int fd, in io_uring_params p, uint flags)
    {
        _fd = fd;
        SetupFlags = flags;
        Features = p.features;
        SubmissionEntries = p.sq_entries;
        CompletionEntries = p.cq_entries;

        nuint sqSize = p.sq_off.array + p.sq_entries * sizeof(uint);
        nuint cqSize = p.cq_off.cqes + p.cq_entries * (nuint)sizeof(io_uring_cqe);
        bool singleMap = (p.features & IoUring.IORING_FEAT_SINGLE_MMAP) != 0;
        if (singleMap)
        {
            sqSize = cqSize = Math.Max(sqSize, cqSize);
        }

        _ringSize = sqSize;
        _ringMemory = Map(fd, sqSize, IoUring.IORING_OFF_SQ_RING);
        if (singleMap)
        {
            _cqMemory = _ringMemory;
        }
        else
        {
            _cqSize = cqSize;
            _cqMemory = Map(fd, cqSize, IoUring.IORING_OFF_CQ_RING);
        }

        _sqesSize = p.sq_entries * (nuint)sizeof(io_uring_sqe);
        _sqes = (io_uring_sqe*)Map(fd, _sqesSize, IoUring.IORING_OFF_SQES);

        byte* sq = (byte*)_ringMemory;
        byte* cq = (byte*)_cqMemory;
        _sqHead = (uint*)(sq + p.sq_off.head);
        _sqTail = (uint*)(sq + p.sq_off.tail);
        _sqFlags = (uint*)(sq + p.sq_off.flags);
        _sqMask = *(uint*)(sq + p.sq_off.ring_mask);
        _cqHead = (uint*)(cq + p.cq_off.head);
        _cqTail = (uint*)(cq + p.cq_off.tail);
        _cqMask = *(uint*)(cq + p.cq_off.ring_mask);
        _cqes = (io_uring_cqe*)(cq + p.cq_off.cqes);

        // The SQ array is an indirection the kernel reads at each submission; fixing it to the identity once lets
        // every submission write its SQE at tail & mask and only bump the tail.
        uint* array = (uint*)(sq + p.sq_off.array);
        for (uint i = 0; i < p.sq_entries; i++)
        {
            array[i] = i;
        }

        _sqLocalTail = _sqSubmittedTail = _sqInspectedTail = *_sqTail;
        _timespecs = (__kernel_timespec*)NativeMemory.AllocZeroed(p.sq_entries, (nuint)sizeof(__kernel_timespec));
    }

    /// <summary>The setup flags the kernel accepted.</summary>
    public uint SetupFlags { get; }

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public uint Features { get; }

    public uint SubmissionEntries { get; }

    public uint CompletionEntries { get; }

    /// <summary>The ring's file descriptor (-1 once disposed).</summary>
    public int Fd => _fd;

    /// <inheritdoc/>
    public override IoBackendKind Kind => IoBackendKind.IoUring;

    /// <inheritdoc/>
    internal override int SubmissionCapacity => (int)SubmissionEntries;

    /// <summary>How many <c>io_uring_enter</c> calls this ring has made: every one of them costs a system call.</summary>
    public long EnterCalls { get; private set; }

    /// <inheritdoc/>
    public override long SystemCalls => EnterCalls;

    /// <summary>SQEs written and not yet handed to the kernel.</summary>
    public uint PendingSubmissions => _sqLocalTail - _sqSubmittedTail;

    /// <summary>Whether the kernel holds completions that only entering it will publish (deferred task work, overflow).</summary>
    internal override bool KernelHasWork => (Volatile.Read(ref *_sqFlags) & (IoUring.IORING_SQ_TASKRUN | IoUring.IORING_SQ_CQ_OVERFLOW)) != 0;

    /// <summary>Whether a completion can be read without entering the kernel.</summary>
    internal override bool HasCompletions => _setAside.Count > 0 || Volatile.Read(ref *_cqTail) != *_cqHead;

    /// <summary>
    /// Sets up a ring with <paramref name="entries"/> submission entries (rounded up to a power of two by the kernel)
    /// and room for <paramref name="completionEntries"/> completions, asking for the optional flags in
    /// <paramref name="wantedFlags"/> and dropping them one at a time, newest first, while the kernel answers EINVAL.
    /// Must be called on the thread that will use the ring.
    /// </summary>
    /// <exception cref="IoUringUnavailableException">io_uring cannot be set up here; the message says why.</exception>
    public static IoUringBackend Create(uint entries, uint completionEntries, uint wantedFlags)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new IoUringUnavailableException("io_uring exists only on Linux", 0);
        }

        uint flags = wantedFlags | IoUring.IORING_SETUP_CQSIZE;
        int dropped = 0;
        while (true)
        {
            io_uring_params p = default;
            p.flags = flags;
            p.cq_entries = Math.Max(completionEntries, entries);
            int fd = IoUringSyscalls.Setup(entries, &p);
            if (fd >= 0)
            {
                try
                {
                    return new IoUringBackend(fd, p, flags);
                }
                catch
                {
                    _ = Libc.close(fd);
                    throw;
                }
            }

            if (fd == -Errno.EINVAL && dropped < s_optionalFlags.Length)
            {
                flags &= ~s_optionalFlags[dropped++];
                continue;
            }

            throw new IoUringUnavailableException(IoUringCapabilities.Explain(-fd), -fd);
        }
    }

    /// <summary>
    /// The next free SQE, zeroed, at the tail of the submission queue. When the queue is full the pending batch is
    /// submitted first; an operation is never dropped for lack of room.
    /// </summary>
    internal override io_uring_sqe* NextSqe()
    {
        while (_sqLocalTail - Volatile.Read(ref *_sqHead) >= SubmissionEntries)
        {
            MakeRoom();
        }

        if (Faults is { } faults && PendingSubmissions > 0 && faults.SubmissionQueueFull())
        {
            MakeRoom();
        }

        io_uring_sqe* sqe = &_sqes[_sqLocalTail & _sqMask];
        *sqe = default;
        _sqLocalTail++;
        return sqe;
    }

    /// <summary>Forgets the SQEs written since the last submission, without the kernel seeing them (benchmarks of the
    /// submission path use it to measure SQE preparation alone).</summary>
    internal void DiscardPendingSubmissions() => _sqLocalTail = _sqInspectedTail = _sqSubmittedTail;

    /// <summary>A timespec that lives as long as the SQE just returned by <see cref="NextSqe"/> (for TIMEOUT operations).</summary>
    internal override __kernel_timespec* TimespecOfLastSqe() => &_timespecs[(_sqLocalTail - 1) & _sqMask];

    /// <summary>
    /// Hands the pending SQEs to the kernel in one <c>io_uring_enter</c>, which also publishes deferred completions.
    /// Makes no system call when nothing is pending and the kernel holds no completions.
    /// </summary>
    /// <returns>Whether the kernel was entered.</returns>
    internal override bool Submit()
    {
        if (PendingSubmissions == 0 && !KernelHasWork)
        {
            return false;
        }

        Enter(0, 0);
        return true;
    }

    /// <summary>
    /// Submits what is pending and waits until at least one completion is available or <paramref name="timeoutNanoseconds"/>
    /// has passed (negative: no limit).
    /// </summary>
    internal override void Wait(long timeoutNanoseconds)
    {
        if (HasCompletions)
        {
            Submit();
            return;
        }

        if (timeoutNanoseconds < 0)
        {
            Enter(1, 0);
            return;
        }

        __kernel_timespec timeout;
        timeout.tv_sec = timeoutNanoseconds / 1_000_000_000;
        timeout.tv_nsec = timeoutNanoseconds % 1_000_000_000;
        io_uring_getevents_arg argument = default;
        argument.ts = (ulong)&timeout;
        Enter(1, IoUring.IORING_ENTER_EXT_ARG, &argument, (nuint)sizeof(io_uring_getevents_arg));
    }

    /// <summary>Reads one completion, if any, and consumes it.</summary>
    internal override bool TryReap(out IoCompletion completion)
    {
        if (_setAside.Count > 0)
        {
            completion = _setAside.Dequeue();
            return true;
        }

        return TryReapFromRing(out completion);
    }

    private void MakeRoom()
    {
        // The kernel consumes every SQE it is handed during io_uring_enter (no SQPOLL). If it cannot (EBUSY: the
        // completion side is backed up), the completions are moved aside, never lost, and the submission retried.
        if (PendingSubmissions > 0 && Enter(0, 0) > 0)
        {
            return;
        }

        while (TryReapFromRing(out IoCompletion completion))
        {
            _setAside.Enqueue(completion);
        }

        Enter(0, 0);
    }

    private bool TryReapFromRing(out IoCompletion completion)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            completion = default;
            return false;
        }

        io_uring_cqe* cqe = &_cqes[head & _cqMask];
        completion = new IoCompletion(cqe->user_data, cqe->res, cqe->flags);
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    private int Enter(uint minComplete, uint extraFlags, void* argument = null, nuint argumentSize = 0)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        while (true)
        {
            int injected = 0;
            if (Faults is { } faults)
            {
                for (; _sqInspectedTail != _sqLocalTail; _sqInspectedTail++)
                {
                    faults.BeforeHandOver(&_sqes[_sqInspectedTail & _sqMask]);
                }

                injected = faults.EnterError();
            }

            uint toSubmit = PendingSubmissions;
            Volatile.Write(ref *_sqTail, _sqLocalTail);
            EnterCalls++;
            int result = injected != 0
                ? -injected
                : IoUringSyscalls.Enter(_fd, toSubmit, minComplete, IoUring.IORING_ENTER_GETEVENTS | extraFlags, argument, argumentSize);
            if (result >= 0)
            {
                _sqSubmittedTail += (uint)result;
                return result;
            }

            switch (-result)
            {
                case Errno.EINTR:
                    continue;
                case Errno.ETIME:
                    // The wait's timeout passed; submissions, if any, were still consumed.
                    _sqSubmittedTail = Volatile.Read(ref *_sqHead);
                    return 0;
                case Errno.EBUSY or Errno.EAGAIN:
                    // Completions must be reaped before more can be posted; the caller's reap loop will do it.
                    _sqSubmittedTail = Volatile.Read(ref *_sqHead);
                    return 0;
                default:
                    throw new IOException($"io_uring_enter failed: {ErrnoNames.Describe(-result)}", -result);
            }
        }
    }

    private static void* Map(int fd, nuint size, ulong offset)
    {
        void* memory = Libc.mmap(null, size, Files.PROT_READ | Files.PROT_WRITE, Files.MAP_SHARED | Files.MAP_POPULATE, fd, (nint)offset);
        if (memory == (void*)-1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IoUringUnavailableException($"mapping the io_uring rings failed: {ErrnoNames.Describe(errno)}", errno);
        }

        return memory;
    }

    public override void Dispose()
    {
        if (_fd < 0)
        {
            return;
        }

        _ = Libc.munmap(_sqes, _sqesSize);
        if (_cqMemory != _ringMemory)
        {
            _ = Libc.munmap(_cqMemory, _cqSize);
        }

        _ = Libc.munmap(_ringMemory, _ringSize);
        NativeMemory.Free(_timespecs);
        _ = Libc.close(_fd);
        _fd = -1;
        CompleteDispose();
    }
}
