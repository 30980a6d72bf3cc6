using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;
using Miniss.IO.FaultInjection;
using Miniss.IO.Readiness;
using Miniss.IO.Uring;

namespace Miniss.IO;

/// <summary>
/// One source of asynchronous I/O, owned by one thread: operations are submitted (<see cref="Submit(in IoOperation)"/>),
/// cancelled (<see cref="Cancel"/>) and their completions polled (<see cref="Poll"/>). Every shard of a runtime drives
/// one; <see cref="Create"/> makes one for use without a runtime. Which system interface it goes through is its
/// <see cref="Kind"/>: io_uring, or a readiness backend (epoll, kqueue) that waits for readiness and runs each
/// operation itself, with the same observable behaviour.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: a backend belongs to the thread that created it, which alone may use it (io_uring rings are
/// set up single-issuer). Submissions are batched: nothing reaches the kernel before the next <see cref="Poll"/>, so
/// queuing an operation makes no system call.</para>
/// <para>Miniss provides the implementations (<c>IoUringBackend</c>, <c>EpollBackend</c>, <c>KqueueBackend</c>); the
/// class cannot be derived from outside Miniss. Underneath the public members, the operation record is an io_uring
/// SQE: the io_uring backend gives it to the kernel as it is, a readiness backend reads it back and runs the
/// operation itself, so the code generated from the operation catalog is the same for every backend.</para>
/// </remarks>
public abstract unsafe class IoBackend : IDisposable
{
    /// <summary>
    /// The user data of the backend's own requests (a cancel request, a shard's wake-up read): the top bit. A
    /// completion with it set is never reported by <see cref="Poll"/>, so an operation may not use it
    /// (<see cref="Submit(in IoOperation)"/> refuses it); a shard encodes its own internal records below it.
    /// </summary>
    internal const ulong InternalUserData = 1UL << 63;

    private List<IDisposable>? _attached;
    private bool _disposed;

    private protected IoBackend()
    {
    }

    // ---- The public interface -----------------------------------------------------------------------------------

    /// <summary>The system interface this backend goes through.</summary>
    public abstract IoBackendKind Kind { get; }

    /// <summary>The backend's name: <c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>.</summary>
    public string Name => IoBackendSelection.NameOf(Kind);

    /// <summary>How many operations one submission batch holds (the io_uring submission queue's entries, the
    /// readiness events one wait takes): submitting more than this before a <see cref="Poll"/> hands the batch over
    /// early, which costs a system call. Also a good size for the span given to <see cref="Poll"/>.</summary>
    public int MaxBatchSize => SubmissionCapacity;

    /// <summary>How many system calls the backend has made to submit and wait (<c>io_uring_enter</c>,
    /// <c>epoll_ctl</c>, <c>epoll_wait</c>...), not counting those a readiness backend makes to run the operations.</summary>
    public abstract long SystemCalls { get; }

    /// <summary>
    /// Creates a backend of <paramref name="kind"/> on the calling thread, which alone may use it, for use without a
    /// runtime (a runtime creates its shards' backends itself, of the kind <see cref="RuntimeOptions.Backend"/> chose).
    /// </summary>
    /// <param name="kind">The system interface. <see cref="IoBackendKind.Auto"/> chooses as a runtime does:
    /// <c>MINISS_BACKEND</c> when set, else io_uring when this process can use it, else the platform's readiness
    /// backend.</param>
    /// <param name="options">Queue sizes and, for readiness backends, the blocking pool's threads; <see langword="null"/>: defaults.</param>
    /// <returns>The backend; the caller owns it and disposes it on the same thread.</returns>
    /// <exception cref="IoUringUnavailableException">io_uring was asked for and cannot be used in this process (a
    /// seccomp profile, <c>kernel.io_uring_disabled</c>, RLIMIT_MEMLOCK, an old kernel); the message says why.</exception>
    /// <exception cref="PlatformNotSupportedException">The kind does not exist on this platform (epoll outside Linux,
    /// kqueue outside macOS and the BSDs).</exception>
    /// <exception cref="System.IO.IOException">The readiness backend's descriptors could not be created (EMFILE...).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <paramref name="kind"/> is not a kind.</exception>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is <see cref="IoBackendKind.Auto"/> and <c>MINISS_BACKEND</c>
    /// names no backend.</exception>
    public static IoBackend Create(IoBackendKind kind, IoBackendOptions? options = null)
    {
        options ??= new IoBackendOptions();
        options.Validate();
        if (kind == IoBackendKind.Auto)
        {
            var runtimeOptions = new RuntimeOptions { ShardCount = 1, RingEntries = options.Entries, CompletionEntries = options.CompletionEntriesOrDefault };
            IoBackendSelection selection = IoBackendSelection.Select(runtimeOptions);
            try
            {
                return CreateCore(selection.Kind, options, null);
            }
            catch (IoUringUnavailableException e) when (selection.FallBackAfter(e) is { } fallback)
            {
                return CreateCore(fallback.Kind, options, null);
            }
        }

        try
        {
            return CreateCore(kind, options, null);
        }
        catch (IoUringUnavailableException e)
        {
            throw new IoUringUnavailableException(
                $"the io_uring backend was asked for but cannot be used here: {e.Message}; IoBackendKind.Auto falls back to the platform's readiness backend", e.Errno);
        }
    }

    /// <summary>
    /// Queues <paramref name="operation"/>. It reaches the kernel with the next <see cref="Poll"/>, together with the
    /// others queued since: queuing makes no system call. Never fails for lack of room: a full submission queue is
    /// handed over first. The memory the operation names must stay valid until its completion arrives, also when it
    /// is cancelled.
    /// </summary>
    /// <returns>The handle <see cref="Cancel"/> takes.</returns>
    /// <exception cref="ArgumentException">The operation's user data has the top bit set, which is reserved for the
    /// backend's own requests.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public IoHandle Submit(in IoOperation operation)
    {
        if ((operation.UserData & InternalUserData) != 0)
        {
            ThrowReservedUserData(operation.UserData, nameof(operation));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        operation.Prepare(this);
        return new IoHandle(operation.UserData);
    }

    /// <summary>
    /// Asks for an operation in flight to be cancelled; the request is queued like an operation. Best effort: an
    /// operation that completes first reports its own result; a cancelled one completes with <c>-ECANCELED</c>. Either
    /// way exactly one completion arrives for it, and none for the request itself.
    /// </summary>
    /// <returns><see langword="true"/> when the request was queued.</returns>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public bool Cancel(IoHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        IoOperations.PrepareCancel(NextSqe(), handle.UserData, InternalUserData);
        DescribeLastSqe(in IoOperations.PrepareCancel_Readiness);
        return true;
    }

    /// <summary>
    /// Hands over what is queued and copies available completions into <paramref name="completions"/>, at most its
    /// length. With a zero timeout it never blocks, and makes no system call when nothing is queued and nothing has
    /// completed; with a positive timeout it waits until at least one completion arrives or the time has passed;
    /// <see langword="null"/> waits without limit.
    /// </summary>
    /// <returns>How many completions were written.</returns>
    /// <exception cref="System.IO.IOException">The kernel refused to submit or wait (not EINTR, EBUSY or ETIME, which
    /// are handled).</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public int Poll(TimeSpan? timeout, Span<IoCompletion> completions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = Reap(completions);
        if (count > 0 || completions.IsEmpty)
        {
            Submit();
            return count + Reap(completions[count..]);
        }

        long nanoseconds = timeout is null ? -1 : Math.Max(0, timeout.Value.Ticks * 100);
        if (nanoseconds == 0)
        {
            if (!Submit() && !HasCompletions)
            {
                return 0;
            }
        }
        else
        {
            Wait(nanoseconds);
        }

        return Reap(completions);
    }

    /// <summary>Releases the backend: closes its ring or event descriptors (operations still in flight are
    /// abandoned) and, for one made by <see cref="Create"/>, its blocking pool. Safe to call twice.</summary>
    public abstract void Dispose();

    private int Reap(Span<IoCompletion> completions)
    {
        int count = 0;
        while (count < completions.Length && TryReap(out IoCompletion completion))
        {
            if ((completion.UserData & InternalUserData) == 0)
            {
                completions[count++] = completion;
            }
        }

        return count;
    }

    [DoesNotReturn]
    private static void ThrowReservedUserData(ulong userData, string parameter) =>
        throw new ArgumentException(
            $"user data 0x{userData:X16} has the top bit set, which is reserved for the backend's own requests: use values below 2^63", parameter);

    // ---- Creation (runtime and Create) --------------------------------------------------------------------------

    /// <summary>Creates a backend of <paramref name="kind"/> (not <see cref="IoBackendKind.Auto"/>) on the calling
    /// thread. A readiness backend runs file operations on <paramref name="pool"/> (a runtime's, shared by its
    /// shards), or on a pool of its own, disposed with it, when <paramref name="pool"/> is <see langword="null"/>.</summary>
    internal static IoBackend CreateCore(IoBackendKind kind, IoBackendOptions options, BlockingIoPool? pool)
    {
        switch (kind)
        {
            case IoBackendKind.IoUring:
                IoUringBackend ring = IoUringBackend.Create((uint)options.Entries, (uint)options.CompletionEntriesOrDefault, IoUringBackend.DefaultFlags, options.SubmissionPolling);
                if ((ring.Features & IoUring.IORING_FEAT_EXT_ARG) == 0)
                {
                    // Poll with a timeout needs IORING_ENTER_EXT_ARG.
                    ring.Dispose();
                    throw new IoUringUnavailableException("the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or later is needed)", Errno.ENOSYS);
                }

                return ring;
            case IoBackendKind.Epoll:
                if (!OperatingSystem.IsLinux())
                {
                    throw new PlatformNotSupportedException("the epoll backend was asked for but epoll exists only on Linux: use IoBackendKind.Auto");
                }

                return WithPool(pool, options, static (p, o) => new EpollBackend(p, o.Entries));
            case IoBackendKind.Kqueue:
                if (!OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
                {
                    throw new PlatformNotSupportedException("the kqueue backend was asked for but kqueue exists only on macOS and the BSDs: use IoBackendKind.Auto");
                }

                return WithPool(pool, options, static (p, o) => new KqueueBackend(p, o.Entries));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a backend kind: use IoUring, Epoll, Kqueue or Auto");
        }
    }

    private static IoBackend WithPool(BlockingIoPool? shared, IoBackendOptions options, Func<BlockingIoPool, IoBackendOptions, IoBackend> create)
    {
        if (shared is not null)
        {
            return create(shared, options);
        }

        var own = new BlockingIoPool(options.BlockingThreads);
        try
        {
            IoBackend backend = create(own, options);
            backend.Attach(own);
            return backend;
        }
        catch
        {
            own.Dispose();
            throw;
        }
    }

    /// <summary>Makes <paramref name="resource"/> (memory registered with an io_uring ring, a readiness backend's own
    /// blocking pool) live as long as this backend: it is disposed by <see cref="CompleteDispose"/>, which
    /// <see cref="Dispose"/> calls once the backend's descriptors are closed.</summary>
    internal void Attach(IDisposable resource) => (_attached ??= []).Add(resource);

    /// <summary>Marks the backend disposed, so the public members refuse to run, and disposes what <see cref="Attach"/>
    /// was given, in order; the implementations' <see cref="Dispose"/> calls it last.</summary>
    private protected void CompleteDispose()
    {
        _disposed = true;
        if (_attached is null)
        {
            return;
        }

        foreach (IDisposable resource in _attached)
        {
            resource.Dispose();
        }

        _attached = null;
    }

    // ---- What a shard drives: the operation record and the loop's primitives ------------------------------------
    // Non-interface virtuals on this one object: the shard's hot path calls them directly, and the public members
    // above are written once over them.

    /// <summary>How many operations one submission batch holds before it is handed over on its own.</summary>
    internal abstract int SubmissionCapacity { get; }

    /// <summary>Whether a completion can be taken without a system call.</summary>
    internal abstract bool HasCompletions { get; }

    /// <summary>Whether the backend holds work that only <see cref="Submit()"/> will publish.</summary>
    internal abstract bool KernelHasWork { get; }

    /// <summary>Whether an idle shard should poll shared memory for a while before it sleeps: true when completions
    /// land there without a system call (io_uring).</summary>
    internal virtual bool SpinIsUseful => true;

    /// <summary>The next operation record, zeroed. Valid until the next submission. When the queue is full the
    /// pending batch is handed over first: a record is never refused for lack of room.</summary>
    internal abstract io_uring_sqe* NextSqe();

    /// <summary>A timespec that lives as long as the record just returned by <see cref="NextSqe"/> (for timeouts).</summary>
    internal abstract __kernel_timespec* TimespecOfLastSqe();

    /// <summary>Says how a readiness backend runs the record just written, with the descriptor the catalog generated for
    /// its operation (kept by reference only for the call). The io_uring backend has no use for it.</summary>
    internal virtual void DescribeLastSqe(in ReadinessDescriptor descriptor)
    {
    }

    /// <summary>Hands the pending records over. Makes no system call when nothing is pending.</summary>
    /// <returns>Whether anything was handed over or the kernel was entered.</returns>
    internal abstract bool Submit();

    /// <summary>Submits what is pending and waits until a completion is available or <paramref name="timeoutNanoseconds"/>
    /// has passed (negative: no limit).</summary>
    internal abstract void Wait(long timeoutNanoseconds);

    /// <summary>Takes one completion, if any, internal ones included.</summary>
    internal abstract bool TryReap(out IoCompletion completion);

    /// <summary>The backend that does the work: this one, or the one a test decorator wraps.</summary>
    internal virtual IoBackend Underlying => this;

    /// <summary>The fault injector this backend consults (tests only; <see langword="null"/> otherwise): where a
    /// record is given out, where records are handed over and where the kernel is entered.</summary>
    internal FaultInjectingBackend? Faults { get; private set; }

    /// <summary>Makes this backend consult <paramref name="faults"/> (tests only).</summary>
    internal virtual void AttachFaults(FaultInjectingBackend faults) => Faults = faults;
}
