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
/// Where the kernel allows (Linux 5.18), the ring's descriptor is registered with the creating thread
/// (<c>IORING_REGISTER_RING_FDS</c>) and every <c>io_uring_enter</c> of that thread names it by its index
/// (<c>IORING_ENTER_REGISTERED_RING</c>), which spares the kernel a file-table lookup per call.
/// <para>With submission-queue polling (<c>IORING_SETUP_SQPOLL</c>) a kernel thread consumes the submission queue:
/// a submission only publishes the tail, and the kernel is entered only to wake that thread when it has gone to sleep
/// (<c>IORING_SQ_NEED_WAKEUP</c>) or to wait for completions.</para>
/// </summary>
/// <remarks>
/// Not thread-safe: the ring is set up <c>SINGLE_ISSUER</c> (and <c>DEFER_TASKRUN</c> without SQPOLL) when the kernel
/// allows, so only the thread that created it may submit or wait. Deliberately not supported: SQE128/CQE32.
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

    // The descriptor io_uring_enter is given (the registered index on the owner thread) and the flag that says which.
    private readonly int _registeredIndex = -1;
    private readonly int _ownerThread;
    private readonly bool _sqPoll;

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
        _sqPoll = (flags & IoUring.IORING_SETUP_SQPOLL) != 0;
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
        _ownerThread = Environment.CurrentManagedThreadId;
        _registeredIndex = RegisterRingFd(fd);
    }

    /// <summary>Registers <paramref name="fd"/> with the calling thread's io_uring context; the index the kernel chose,
    /// or -1 when it cannot (before Linux 5.18 the opcode is unknown: EINVAL), which costs nothing but the fast path.</summary>
    private static int RegisterRingFd(int fd)
    {
        io_uring_rsrc_update update = default;
        update.offset = uint.MaxValue; // -1: the kernel picks a free slot
        update.data = (ulong)fd;
        return IoUringSyscalls.Register(fd, IoUring.IORING_REGISTER_RING_FDS, &update, 1) == 1 ? (int)update.offset : -1;
    }

    /// <summary>The setup flags the kernel accepted.</summary>
    public uint SetupFlags { get; }

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public uint Features { get; }

    public uint SubmissionEntries { get; }

    public uint CompletionEntries { get; }

    /// <summary>The ring's file descriptor (-1 once disposed).</summary>
    public int Fd => _fd;

    /// <summary>Whether <c>io_uring_enter</c> names this ring by its registered index (<c>IORING_ENTER_REGISTERED_RING</c>)
    /// on the thread that created it; false where the kernel lacks <c>IORING_REGISTER_RING_FDS</c> (before Linux 5.18).</summary>
    public bool UsesRegisteredRing => _registeredIndex >= 0;

    /// <summary>Whether a kernel thread polls the submission queue (<c>IORING_SETUP_SQPOLL</c>).</summary>
    public bool UsesSubmissionPolling => _sqPoll;

    /// <summary>Why submission-queue polling was asked for (<see cref="SubmissionQueuePolling.Auto"/>) and refused, so
    /// this ring runs without it; <see langword="null"/> when it was not asked for or is in use.</summary>
    public string? SubmissionPollingRefusal { get; private set; }

    /// <summary>How many times the kernel's polling thread had gone to sleep and was woken (<c>IORING_ENTER_SQ_WAKEUP</c>).</summary>
    public long PollerWakeups { get; private set; }

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
    public static IoUringBackend Create(uint entries, uint completionEntries, uint wantedFlags) =>
        Create(entries, completionEntries, wantedFlags, default);

    /// <summary>
    /// Sets up a ring as <see cref="Create(uint, uint, uint)"/> does, with the kernel polling its submission queue as
    /// <paramref name="polling"/> asks: <see cref="SubmissionQueuePolling.Required"/> fails when the kernel refuses;
    /// <see cref="SubmissionQueuePolling.Auto"/> sets up an ordinary ring instead and says why in
    /// <see cref="SubmissionPollingRefusal"/>.
    /// </summary>
    /// <exception cref="IoUringUnavailableException">io_uring cannot be set up here; the message says why.</exception>
    /// <exception cref="NotSupportedException">Polling was required and the kernel or the process refused it; the message says why.</exception>
    internal static IoUringBackend Create(uint entries, uint completionEntries, uint wantedFlags, SubmissionPollingRequest polling)
    {
        if (polling.Mode == SubmissionQueuePolling.Off)
        {
            return CreateRing(entries, completionEntries, wantedFlags, default);
        }

        string? refusal = polling.Refusal;
        if (refusal is null)
        {
            // The kernel refuses the task-work flags beside SQPOLL: completions are posted by its polling thread.
            uint sqPollFlags = (wantedFlags & ~(IoUring.IORING_SETUP_DEFER_TASKRUN | IoUring.IORING_SETUP_COOP_TASKRUN | IoUring.IORING_SETUP_TASKRUN_FLAG))
                | IoUring.IORING_SETUP_SQPOLL | (polling.Cpu is null ? 0 : IoUring.IORING_SETUP_SQ_AFF);
            try
            {
                IoUringBackend polled = CreateRing(entries, completionEntries, sqPollFlags, polling);
                if ((polled.Features & IoUring.IORING_FEAT_SQPOLL_NONFIXED) != 0)
                {
                    return polled;
                }

                polled.Dispose();
                refusal = SubmissionPollingRequest.ExplainOnlyFixedFiles;
            }
            catch (IoUringUnavailableException e)
            {
                refusal = SubmissionPollingRequest.Explain(e.Errno, polling);
            }
        }

        if (polling.Mode == SubmissionQueuePolling.Required)
        {
            throw new NotSupportedException($"Submission-queue polling was required (RuntimeOptions.SubmissionQueuePolling) but cannot be used: {refusal}.");
        }

        IoUringBackend ring = CreateRing(entries, completionEntries, wantedFlags, default);
        ring.SubmissionPollingRefusal = refusal;
        return ring;
    }

    private static IoUringBackend CreateRing(uint entries, uint completionEntries, uint wantedFlags, SubmissionPollingRequest polling)
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
            p.sq_thread_idle = polling.IdleMilliseconds;
            p.sq_thread_cpu = (uint)(polling.Cpu ?? 0);
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

            if (fd == -Errno.EINVAL && (flags & IoUring.IORING_SETUP_SQPOLL) != 0)
            {
                // Every optional flag is gone and the kernel still refuses: SQPOLL (or its CPU) is what it refuses.
                throw new IoUringUnavailableException($"io_uring_setup with IORING_SETUP_SQPOLL failed: {ErrnoNames.Describe(Errno.EINVAL)}", Errno.EINVAL);
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
        if (_sqPoll)
        {
            return PublishToPoller();
        }

        if (PendingSubmissions == 0 && !KernelHasWork)
        {
            return false;
        }

        Enter(0, 0);
        return true;
    }

    /// <summary>
    /// With SQPOLL: makes the pending SQEs visible to the kernel's polling thread (a release store of the tail) and,
    /// when that thread has gone to sleep, wakes it with one <c>io_uring_enter</c>. The full fence between the tail
    /// store and the flag load pairs with the kernel's: either it sees the new tail before it sleeps, or this thread
    /// sees <c>IORING_SQ_NEED_WAKEUP</c>.
    /// </summary>
    /// <returns>Whether there was anything to hand over.</returns>
    private bool PublishToPoller()
    {
        bool overflow = (Volatile.Read(ref *_sqFlags) & IoUring.IORING_SQ_CQ_OVERFLOW) != 0;
        if (PendingSubmissions == 0 && !overflow)
        {
            return false;
        }

        InspectPending();
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        _sqSubmittedTail = _sqLocalTail;
        Interlocked.MemoryBarrier();
        if ((Volatile.Read(ref *_sqFlags) & IoUring.IORING_SQ_NEED_WAKEUP) != 0)
        {
            PollerWakeups++;
            Enter(0, IoUring.IORING_ENTER_SQ_WAKEUP);
        }
        else if (overflow)
        {
            // Completions the kernel kept aside reach the ring only through io_uring_enter with GETEVENTS.
            Enter(0, 0);
        }

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

        if (_sqPoll)
        {
            // The polling thread takes the SQEs; the wait below only waits.
            PublishToPoller();
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
        if (_sqPoll)
        {
            // The polling thread frees entries as it consumes them: hand it the batch, then wait until it has room.
            PublishToPoller();
            if (_sqLocalTail - Volatile.Read(ref *_sqHead) >= SubmissionEntries)
            {
                while (TryReapFromRing(out IoCompletion completion))
                {
                    _setAside.Enqueue(completion);
                }

                Enter(0, IoUring.IORING_ENTER_SQ_WAIT);
            }

            return;
        }

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
        // The registered index is valid only in the thread that registered it.
        bool registered = _registeredIndex >= 0 && Environment.CurrentManagedThreadId == _ownerThread;
        int ringFd = registered ? _registeredIndex : _fd;
        uint flags = IoUring.IORING_ENTER_GETEVENTS | extraFlags | (registered ? IoUring.IORING_ENTER_REGISTERED_RING : 0);
        if (_sqPoll && minComplete == 0 && (extraFlags & IoUring.IORING_ENTER_SQ_WAIT) == 0 && (Volatile.Read(ref *_sqFlags) & IoUring.IORING_SQ_CQ_OVERFLOW) == 0)
        {
            // A wake-up of the polling thread alone: no completions to flush, so no GETEVENTS pass.
            flags &= ~IoUring.IORING_ENTER_GETEVENTS;
        }

        while (true)
        {
            int injected = 0;
            InspectPending();
            if (Faults is { } faults)
            {
                injected = faults.EnterError();
            }

            uint toSubmit = PendingSubmissions;
            Volatile.Write(ref *_sqTail, _sqLocalTail);
            EnterCalls++;
            int result = injected != 0
                ? -injected
                : minComplete == 0 && argument == null && (flags & IoUring.IORING_ENTER_SQ_WAIT) == 0
                    ? IoUringSyscalls.EnterWithoutWaiting(ringFd, toSubmit, flags)
                    : IoUringSyscalls.Enter(ringFd, toSubmit, minComplete, flags, argument, argumentSize);
            if (result >= 0)
            {
                if (_sqPoll)
                {
                    // The kernel answers to_submit: the polling thread consumes the SQEs on its own.
                    _sqSubmittedTail = _sqLocalTail;
                    return result;
                }

                _sqSubmittedTail += (uint)result;
                return result;
            }

            switch (-result)
            {
                case Errno.EINTR:
                    continue;
                case Errno.ETIME:
                    // The wait's timeout passed; submissions, if any, were still consumed.
                    _sqSubmittedTail = _sqPoll ? _sqLocalTail : Volatile.Read(ref *_sqHead);
                    return 0;
                case Errno.EBUSY or Errno.EAGAIN:
                    // Completions must be reaped before more can be posted; the caller's reap loop will do it.
                    _sqSubmittedTail = _sqPoll ? _sqLocalTail : Volatile.Read(ref *_sqHead);
                    return 0;
                default:
                    throw new IOException($"io_uring_enter failed: {ErrnoNames.Describe(-result)}", -result);
            }
        }
    }

    /// <summary>Shows a fault injector, if any, each SQE written since it last looked (each one once).</summary>
    private void InspectPending()
    {
        if (Faults is { } faults)
        {
            for (; _sqInspectedTail != _sqLocalTail; _sqInspectedTail++)
            {
                faults.BeforeHandOver(&_sqes[_sqInspectedTail & _sqMask]);
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
        if (_registeredIndex >= 0 && Environment.CurrentManagedThreadId == _ownerThread)
        {
            // The registration holds a reference to the ring: without this, the ring would live until the thread exits.
            io_uring_rsrc_update update = default;
            update.offset = (uint)_registeredIndex;
            _ = IoUringSyscalls.Register(_fd, IoUring.IORING_UNREGISTER_RING_FDS, &update, 1);
        }

        _ = Libc.close(_fd);
        _fd = -1;
        CompleteDispose();
    }
}
