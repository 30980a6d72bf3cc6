using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;
using Miniss.IO.FaultInjection;
using Miniss.Timers;

namespace Miniss.IO.Readiness;

/// <summary>
/// The part of the epoll and kqueue backends that does not depend on the system's event interface: it reads the
/// operation records (io_uring SQEs) a shard writes and runs each one the way its catalog descriptor
/// (<see cref="ReadinessDescriptor"/>) says — socket operations when their descriptor is ready (edge-triggered:
/// tried at once, queued on <c>EAGAIN</c>, retried on the next edge), file operations on the <see cref="BlockingIoPool"/>,
/// no-ops, timeouts and cancellation by itself — and hands back completions shaped like io_uring's. It knows no
/// operation by its opcode: what is particular to one (its system call, flags, effect on the descriptor, whether it
/// streams) is data of its descriptor.
/// </summary>
/// <remarks>
/// <para>Order: operations on one descriptor and direction complete in submission order (a send never overtakes an
/// earlier one). Cancellation is exact for an operation that waits for readiness, a timeout, or a file operation
/// the pool has not started (<c>-ECANCELED</c>); a file operation already running completes with its own result and
/// the cancel request reports <c>-EALREADY</c>, as io_uring does.</para>
/// <para>System calls: none to submit; a socket operation is tried at once only when its descriptor may be ready
/// (no <c>EAGAIN</c> since the last edge), a descriptor is registered once, and the event interface is asked only
/// when something waits on it. Records live in native memory that never moves, so pool threads may read them.</para>
/// </remarks>
internal abstract unsafe class ReadinessBackend : IoBackend
{
    private const int ChunkShift = 8;
    private const int ChunkSize = 1 << ChunkShift;
    private const int NoOp = -1;

    // How often a busy shard (one that never sleeps) looks for readiness events anyway.
    private static readonly long s_busyPollInterval = Clock.FromNanoseconds(50_000);

    // Every live engine, so a descriptor closed on any thread is forgotten by all (its number may come back).
    private static readonly List<ReadinessBackend> s_engines = [];

    private readonly BlockingIoPool _pool;
    private readonly List<nint> _chunks = [];
    private readonly Stack<int> _free = new();
    private readonly Queue<IoCompletion> _completions = new();
    private readonly ConcurrentQueue<int> _poolDone = new();
    private readonly ConcurrentQueue<int> _closed = new();
    private readonly TimerHeap<(int Index, int Generation), TimeoutLiveness> _timeouts;
    private readonly ReadyEvent[] _events;
    private int[] _staged = new int[64];
    private int _stagedCount;
    private int _last = NoOp;
    private int _capacity;
    private FdState?[] _fds = new FdState?[256];
    private int _waiting;
    private int _internalWaiting;
    private int _atPool;
    private int _sleeping;
    private long _lastPoll;
    private bool _disposed;

    protected ReadinessBackend(BlockingIoPool pool, int batch)
    {
        _pool = pool;
        _events = new ReadyEvent[Math.Max(16, batch)];
        _timeouts = new(new TimeoutLiveness(this));
        lock (s_engines)
        {
            s_engines.Add(this);
        }
    }

    /// <inheritdoc/>
    internal override int SubmissionCapacity => _events.Length;

    /// <inheritdoc/>
    public override long SystemCalls => PollerCalls;

    /// <summary>How many calls the event interface took (registrations and waits).</summary>
    protected long PollerCalls { get; set; }

    /// <inheritdoc/>
    internal override bool HasCompletions => _completions.Count > 0 || !_poolDone.IsEmpty;

    /// <summary>A shard that never sleeps still looks at the event interface now and then while something waits on it.</summary>
    internal override bool KernelHasWork => _stagedCount > 0 || (_waiting > 0 && Clock.Now - _lastPoll >= s_busyPollInterval);

    // ---- The event interface, per system ------------------------------------------------------------------------

    /// <summary>Adds <paramref name="fd"/> to the interest set for both directions, edge-triggered.</summary>
    /// <returns>0, or the errno.</returns>
    protected abstract int Register(int fd);

    /// <summary>Waits up to <paramref name="timeoutNanoseconds"/> (0: not at all, negative: no limit) for readiness
    /// events and writes them to <paramref name="events"/>; wake-ups of <see cref="Notify"/> are drained and not reported.</summary>
    protected abstract int WaitForEvents(long timeoutNanoseconds, Span<ReadyEvent> events);

    /// <summary>Wakes <see cref="WaitForEvents"/> from another thread.</summary>
    protected abstract void Notify();

    /// <summary>Releases the event interface's descriptors.</summary>
    protected abstract void CloseEvents();

    // ---- Submission ---------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    internal override io_uring_sqe* NextSqe()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Faults is { } faults && _stagedCount > 0 && faults.SubmissionQueueFull())
        {
            // As a full io_uring submission queue: the staged batch is handed over before another record is given out.
            StartStaged();
        }

        int index = Allocate();
        if (_stagedCount == _staged.Length)
        {
            Array.Resize(ref _staged, _staged.Length * 2);
        }

        _staged[_stagedCount++] = index;
        _last = index;
        return &At(index)->Sqe;
    }

    /// <inheritdoc/>
    internal override __kernel_timespec* TimespecOfLastSqe() => &At(_last)->Timespec;

    /// <inheritdoc/>
    internal override void DescribeLastSqe(in ReadinessDescriptor descriptor)
    {
        Operation* op = At(_last);
        op->Descriptor = descriptor;
        op->Readiness = descriptor.Kind;
        op->Perform = descriptor.Perform;
    }

    /// <inheritdoc/>
    internal override bool Submit()
    {
        bool any = _stagedCount > 0;
        StartStaged();
        if (_waiting > 0 && Clock.Now - _lastPoll >= s_busyPollInterval)
        {
            any |= Poll(0) > 0;
        }

        ExpireTimeouts();
        return any;
    }

    /// <summary>Runs the staged records, after forgetting descriptors closed since the last batch (their numbers may
    /// name new files in this one).</summary>
    private void StartStaged()
    {
        ForgetClosed();
        FaultInjectingBackend? faults = Faults;
        for (int i = 0; i < _stagedCount; i++)
        {
            Operation* op = At(_staged[i]);
            if (faults is not null && faults.BeforeHandOver(&op->Sqe))
            {
                // Made a no-op whose completion carries the injected error.
                op->Descriptor = ReadinessDescriptor.Immediate;
                op->Readiness = ReadinessKind.Immediate;
                op->Perform = null;
            }

            Start(_staged[i]);
        }

        _stagedCount = 0;
    }

    /// <inheritdoc/>
    internal override void Wait(long timeoutNanoseconds)
    {
        Submit();
        if (HasCompletions)
        {
            return;
        }

        if (_timeouts.TryPeek(out _, out long deadline))
        {
            long untilTimeout = Math.Max(0, Clock.ToNanoseconds(deadline - Clock.Now));
            timeoutNanoseconds = timeoutNanoseconds < 0 ? untilTimeout : Math.Min(timeoutNanoseconds, untilTimeout);
        }

        // Announce the wait, then look once more: a pool thread that finished before the flag is seen here, one that
        // finishes after sees the flag and notifies.
        Interlocked.Exchange(ref _sleeping, 1);
        if (_poolDone.IsEmpty)
        {
            Poll(timeoutNanoseconds);
        }

        Volatile.Write(ref _sleeping, 0);
        ExpireTimeouts();
    }

    /// <inheritdoc/>
    internal override bool TryReap(out IoCompletion completion)
    {
        while (_poolDone.TryDequeue(out int index))
        {
            Operation* op = At(index);
            _atPool--;
            Finish(index, op->State == OperationState.Cancelled ? -Errno.ECANCELED : op->Result);
        }

        return _completions.TryDequeue(out completion);
    }

    /// <summary>Whether the idle shard should spin before it sleeps: not while sockets wait, since only a system call
    /// could see them become ready.</summary>
    internal override bool SpinIsUseful => _waiting == _internalWaiting;

    // ---- Running one operation ----------------------------------------------------------------------------------

    private void Start(int index)
    {
        Operation* op = At(index);
        io_uring_sqe* sqe = &op->Sqe;
        ref readonly ReadinessDescriptor descriptor = ref op->Descriptor;
        if ((descriptor.Effects & ReadinessEffects.Internal) != 0)
        {
            op->Flags |= OperationFlags.Internal;
        }

        if (descriptor.Stream != ReadinessKind.None && sqe->fd >= 0)
        {
            // A read or write is "blocking" for regular files only: pipes, sockets, eventfds and terminals can be
            // waited for, and ignore the offset as io_uring does for them; at the file position (-1) the pool reads
            // or writes without one.
            FdState state = StateOf(sqe->fd);
            if (state.Kind == FdKind.Unknown)
            {
                Classify(state);
            }

            if (state.Kind == FdKind.Pollable || sqe->off == ulong.MaxValue)
            {
                op->Perform = descriptor.PerformStream;
            }

            if (state.Kind == FdKind.Pollable)
            {
                op->Readiness = descriptor.Stream;
            }
        }

        switch (op->Readiness)
        {
            case ReadinessKind.Read:
            case ReadinessKind.Write:
                StartOnDescriptor(index, op);
                return;
            case ReadinessKind.Blocking:
                op->State = OperationState.Queued;
                _atPool++;
                _pool.Enqueue(this, index);
                return;
            case ReadinessKind.Inline:
                Finish(index, op->Perform(sqe));
                return;
            case ReadinessKind.Immediate:
                Finish(index, 0);
                return;
            case ReadinessKind.Timer:
                var timespec = (__kernel_timespec*)sqe->addr;
                long nanoseconds = timespec is null ? 0 : timespec->tv_sec * 1_000_000_000 + timespec->tv_nsec;
                op->State = OperationState.Waiting;
                _waiting++;
                _timeouts.Push((index, op->Generation), Clock.Now + Math.Min(Clock.FromNanoseconds(nanoseconds), Clock.Forever / 2));
                return;
            case ReadinessKind.Cancel:
                Finish(index, Cancel(sqe->addr, sqe->cancel_flags, index));
                return;
            default:
                // Not described (written outside the catalog), or an operation the catalog keeps to io_uring.
                Finish(index, -Errno.EOPNOTSUPP);
                return;
        }
    }

    private void StartOnDescriptor(int index, Operation* op)
    {
        io_uring_sqe* sqe = &op->Sqe;
        if (sqe->fd < 0)
        {
            Finish(index, -Errno.EBADF);
            return;
        }

        FdState state = StateOf(sqe->fd);
        bool read = op->Readiness == ReadinessKind.Read;
        ref Waiters queue = ref read ? ref state.Readers : ref state.Writers;
        bool mayBeReady = read ? state.ReadReady : state.WriteReady;
        if (queue.Head == NoOp && mayBeReady)
        {
            int result = op->Perform(sqe);
            if (result == -Errno.EINPROGRESS && (op->Descriptor.Effects & ReadinessEffects.InProgressUntilWritable) != 0)
            {
                // The handshake goes on: the socket becomes writable when it ends, and SO_ERROR tells how.
                op->Flags |= OperationFlags.ConnectStarted;
            }
            else if (result != -Errno.EAGAIN)
            {
                Finish(index, result);
                return;
            }

            if (read)
            {
                state.ReadReady = false;
            }
            else
            {
                state.WriteReady = false;
            }
        }

        if (state.Kind != FdKind.Pollable)
        {
            int errno = Register(state.Fd);
            PollerCalls++;
            if (errno != 0 && errno != Errno.EEXIST)
            {
                Finish(index, -errno);
                return;
            }

            state.Kind = FdKind.Pollable;
        }

        op->State = OperationState.Waiting;
        op->Next = NoOp;
        _waiting++;
        _internalWaiting += (op->Flags & OperationFlags.Internal) != 0 ? 1 : 0;
        if (queue.Tail == NoOp)
        {
            queue.Head = index;
        }
        else
        {
            At(queue.Tail)->Next = index;
        }

        queue.Tail = index;
    }

    /// <summary>Runs the waiters of one direction of a descriptor after an edge, in order, until one would block.</summary>
    private void RunWaiters(FdState state, bool read, bool hangUp = false)
    {
        ref Waiters queue = ref read ? ref state.Readers : ref state.Writers;
        while (queue.Head != NoOp)
        {
            int index = queue.Head;
            Operation* op = At(index);
            int result = (op->Flags & OperationFlags.ConnectStarted) != 0 ? ConnectOutcome(op->Sqe.fd) : op->Perform(&op->Sqe);
            if (result == -Errno.EAGAIN && hangUp && (op->Descriptor.Effects & ReadinessEffects.HangUpIsInvalid) != 0)
            {
                // A listening socket that was shut down (how a listener is closed under a pending accept): a Unix
                // one keeps answering EAGAIN, and no edge would ever come again. io_uring and TCP say EINVAL.
                result = -Errno.EINVAL;
            }

            if (result == -Errno.EAGAIN || result == -Errno.EINPROGRESS)
            {
                if (read)
                {
                    state.ReadReady = false;
                }
                else
                {
                    state.WriteReady = false;
                }

                return;
            }

            queue.Head = op->Next;
            if (queue.Head == NoOp)
            {
                queue.Tail = NoOp;
            }

            _waiting--;
            _internalWaiting -= (op->Flags & OperationFlags.Internal) != 0 ? 1 : 0;
            Finish(index, result);
        }
    }

    private int Poll(long timeoutNanoseconds)
    {
        PollerCalls++;
        int count = WaitForEvents(timeoutNanoseconds, _events);
        _lastPoll = Clock.Now;
        for (int i = 0; i < count; i++)
        {
            ref ReadyEvent e = ref _events[i];
            if ((uint)e.Fd >= (uint)_fds.Length || _fds[e.Fd] is not { Kind: FdKind.Pollable } state)
            {
                continue;
            }

            if (e.Readable)
            {
                state.ReadReady = true;
                RunWaiters(state, read: true, e.HangUp);
            }

            if (e.Writable)
            {
                state.WriteReady = true;
                RunWaiters(state, read: false);
            }
        }

        return count;
    }

    private void ExpireTimeouts()
    {
        // Entries of cancelled timeouts are dropped lazily here, or by the heap's compaction.
        long now = Clock.Now;
        while (_timeouts.TryPopDue(now, out (int Index, int Generation) entry))
        {
            _waiting--;
            Finish(entry.Index, -Errno.ETIME);
        }
    }

    /// <summary>
    /// Cancels the operation with <paramref name="userData"/> (all of them with <c>IORING_ASYNC_CANCEL_ANY</c>):
    /// 0 when cancelled (with <c>ALL</c>/<c>ANY</c>: how many), <c>-EALREADY</c> when it is already running on the
    /// pool, <c>-ENOENT</c> when there is no such operation.
    /// </summary>
    private int Cancel(ulong userData, uint flags, int self)
    {
        bool any = (flags & IoUring.IORING_ASYNC_CANCEL_ANY) != 0;
        bool all = any || (flags & IoUring.IORING_ASYNC_CANCEL_ALL) != 0;
        int cancelled = 0;
        bool running = false;
        for (int index = 0; index < _capacity; index++)
        {
            Operation* op = At(index);
            if (index == self || op->State is OperationState.Free or OperationState.Staged or OperationState.Done || (!any && op->Sqe.user_data != userData))
            {
                continue;
            }

            if (!TryCancel(index, op))
            {
                running = true;
                continue;
            }

            cancelled++;
            if (!all)
            {
                break;
            }
        }

        return cancelled > 0 ? (all ? cancelled : 0) : running ? -Errno.EALREADY : -Errno.ENOENT;
    }

    private bool TryCancel(int index, Operation* op)
    {
        switch (op->State)
        {
            case OperationState.Waiting when op->Readiness == ReadinessKind.Timer:
                _waiting--;
                Finish(index, -Errno.ECANCELED);
                return true;
            case OperationState.Waiting:
                Unlink(index, op);
                _waiting--;
                _internalWaiting -= (op->Flags & OperationFlags.Internal) != 0 ? 1 : 0;
                Finish(index, -Errno.ECANCELED);
                return true;
            case OperationState.Queued:
                // The pool thread takes it with the same exchange: whoever wins decides.
                if (Interlocked.CompareExchange(ref op->State, OperationState.Cancelled, OperationState.Queued) == OperationState.Queued)
                {
                    // Its completion comes back through the pool, which skips it; -ECANCELED is reported then.
                    return true;
                }

                return false;
            default:
                return false;
        }
    }

    private void Unlink(int index, Operation* op)
    {
        FdState state = _fds[op->Sqe.fd]!;
        ref Waiters queue = ref op->Readiness == ReadinessKind.Read ? ref state.Readers : ref state.Writers;
        int previous = NoOp;
        for (int current = queue.Head; current != NoOp; previous = current, current = At(current)->Next)
        {
            if (current != index)
            {
                continue;
            }

            if (previous == NoOp)
            {
                queue.Head = op->Next;
            }
            else
            {
                At(previous)->Next = op->Next;
            }

            if (queue.Tail == index)
            {
                queue.Tail = previous;
            }

            return;
        }
    }

    private void Finish(int index, int result)
    {
        Operation* op = At(index);
        ulong userData = op->Sqe.user_data;
        if (result == 0 && (op->Descriptor.Effects & ReadinessEffects.ForgetsDescriptor) != 0)
        {
            Forget(op->Sqe.fd);
        }

        op->State = OperationState.Done;
        op->Generation++;
        _completions.Enqueue(new IoCompletion(userData, result, 0));
        op->State = OperationState.Free;
        _free.Push(index);
    }

    // ---- The blocking pool's side -------------------------------------------------------------------------------

    /// <summary>On a pool thread: runs the operation unless it was cancelled first, and hands the result back.</summary>
    internal void RunOnPool(int index)
    {
        Operation* op = At(index);
        if (Interlocked.CompareExchange(ref op->State, OperationState.Running, OperationState.Queued) == OperationState.Queued)
        {
            op->Result = op->Perform(&op->Sqe);
        }

        _poolDone.Enqueue(index);

        // The queue write must be visible before the sleeping flag is read (store-load order).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) != 0)
        {
            Notify();
        }
    }

    // ---- Descriptors --------------------------------------------------------------------------------------------

    /// <summary>Any thread: <paramref name="fd"/> was closed, so its number may name another file next; every engine
    /// forgets what it knew of it before it runs its next batch.</summary>
    internal static void OnDescriptorClosed(int fd)
    {
        if (s_engines.Count == 0)
        {
            return;
        }

        lock (s_engines)
        {
            foreach (ReadinessBackend engine in s_engines)
            {
                engine._closed.Enqueue(fd);
            }
        }
    }

    private void ForgetClosed()
    {
        while (_closed.TryDequeue(out int fd))
        {
            Forget(fd);
        }
    }

    private void Forget(int fd)
    {
        if ((uint)fd < (uint)_fds.Length && _fds[fd] is { } state && state.Readers.Head == NoOp && state.Writers.Head == NoOp)
        {
            // The kernel dropped the registration with the file; a new file under this number starts unknown.
            _fds[fd] = null;
        }
    }

    private FdState StateOf(int fd)
    {
        if ((uint)fd >= (uint)_fds.Length)
        {
            Array.Resize(ref _fds, Math.Max(fd + 1, _fds.Length * 2));
        }

        return _fds[fd] ??= new FdState(fd);
    }

    /// <summary>Finds out once whether <paramref name="state"/>'s descriptor can be waited for (registering it, which
    /// a regular file refuses with EPERM) and makes a pollable one non-blocking, so an attempt never blocks the shard.</summary>
    private void Classify(FdState state)
    {
        int errno = Register(state.Fd);
        PollerCalls++;
        if (errno is 0 or Errno.EEXIST)
        {
            state.Kind = FdKind.Pollable;
            int flags = Libc.fcntl(state.Fd, Files.F_GETFL, 0);
            if (flags >= 0 && (flags & Files.O_NONBLOCK) == 0)
            {
                _ = Libc.fcntl(state.Fd, Files.F_SETFL, flags | Files.O_NONBLOCK);
            }

            return;
        }

        // Regular files and directories (EPERM), or a bad descriptor, which the operation itself reports.
        state.Kind = FdKind.File;
    }

    private static int ConnectOutcome(int fd)
    {
        int error = 0;
        uint length = sizeof(int);
        if (Libc.getsockopt(fd, Sockets.SOL_SOCKET, Sockets.SO_ERROR, &error, &length) != 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        return -error;
    }

    // ---- Records ------------------------------------------------------------------------------------------------

    private int Allocate()
    {
        if (!_free.TryPop(out int index))
        {
            nint chunk = (nint)NativeMemory.AllocZeroed(ChunkSize, (nuint)sizeof(Operation));
            _chunks.Add(chunk);
            for (int i = ChunkSize - 1; i > 0; i--)
            {
                _free.Push(_capacity + i);
            }

            index = _capacity;
            _capacity += ChunkSize;
        }

        Operation* op = At(index);
        int generation = op->Generation;
        *op = default;
        op->Generation = generation;
        op->State = OperationState.Staged;
        op->Next = NoOp;
        return index;
    }

    private Operation* At(int index) => (Operation*)_chunks[index >> ChunkShift] + (index & (ChunkSize - 1));

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (s_engines)
        {
            s_engines.Remove(this);
        }

        CloseEvents();

        // Records a pool thread may still read stay allocated (an engine disposed with file operations running).
        if (Volatile.Read(ref _atPool) == 0)
        {
            foreach (nint chunk in _chunks)
            {
                NativeMemory.Free((void*)chunk);
            }

            _chunks.Clear();
        }

        CompleteDispose();
    }

    /// <summary>A timeout's heap entry is live while its record is still that operation and still waiting.</summary>
    private readonly struct TimeoutLiveness(ReadinessBackend backend) : ITimerLiveness<(int Index, int Generation)>
    {
        public bool IsLive(in (int Index, int Generation) entry)
        {
            Operation* op = backend.At(entry.Index);
            return op->Generation == entry.Generation && op->State == OperationState.Waiting;
        }
    }

    /// <summary>One operation: its record and what the engine knows of it. Never moves.</summary>
    private struct Operation
    {
        public io_uring_sqe Sqe;
        public __kernel_timespec Timespec;
        public ReadinessDescriptor Descriptor;

        // What the descriptor resolves to for this record: a streaming operation on a pollable descriptor waits and
        // calls its streaming function.
        public delegate*<io_uring_sqe*, int> Perform;
        public ReadinessKind Readiness;
        public int State;
        public int Next;
        public int Result;
        public int Generation;
        public OperationFlags Flags;
    }

    private static class OperationState
    {
        public const int Free = 0;
        public const int Staged = 1;
        public const int Waiting = 2;
        public const int Queued = 3;
        public const int Running = 4;
        public const int Cancelled = 5;
        public const int Done = 6;
    }

    [Flags]
    private enum OperationFlags
    {
        None = 0,
        ConnectStarted = 1,
        Internal = 2,
    }

    private struct Waiters
    {
        public int Head;
        public int Tail;
    }

    /// <summary>What a descriptor is to the engine: not seen yet, registered with the event interface, or a file that
    /// cannot be (its operations run on the pool).</summary>
    private enum FdKind
    {
        Unknown,
        Pollable,
        File,
    }

    /// <summary>What the engine knows of one descriptor: its kind, whether each direction may be ready (no
    /// <c>EAGAIN</c> since the last edge), and who waits on each.</summary>
    private sealed class FdState(int fd)
    {
        public readonly int Fd = fd;
        public FdKind Kind;
        public bool ReadReady = true;
        public bool WriteReady = true;
        public Waiters Readers = new() { Head = NoOp, Tail = NoOp };
        public Waiters Writers = new() { Head = NoOp, Tail = NoOp };
    }
}

/// <summary>A descriptor the event interface reported: readable (or hung up, or failed) and/or writable.</summary>
internal struct ReadyEvent
{
    public int Fd;
    public bool Readable;
    public bool Writable;

    /// <summary>Both directions are shut down (<c>EPOLLHUP</c>, <c>EV_EOF</c> on a listening socket).</summary>
    public bool HangUp;
}
