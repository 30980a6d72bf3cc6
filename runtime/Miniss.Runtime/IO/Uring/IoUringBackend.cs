using System;
using Miniss.Bindings.Linux;

namespace Miniss.IO.Uring;

/// <summary>
/// The Linux backend: an <see cref="IIoBackend"/> over one io_uring ring. Create it on the thread that will use it;
/// it is single-issuer and not thread-safe. Submissions cost no system call; <see cref="Poll"/> makes one only when
/// something was queued, the kernel holds completions, or the caller asked to wait.
/// </summary>
public sealed unsafe class IoUringBackend : IIoBackend
{
    /// <summary>User data of the backend's own cancel requests; their completions are not reported.</summary>
    internal const ulong InternalUserData = 1UL << 63;

    private readonly IoUringRing _ring;

    private IoUringBackend(IoUringRing ring) => _ring = ring;

    /// <summary>
    /// Sets up a ring on the calling thread.
    /// </summary>
    /// <param name="entries">Submission queue entries (a power of two is used; default 256).</param>
    /// <param name="completionEntries">Completion queue entries (default twice <paramref name="entries"/>).</param>
    /// <exception cref="IoUringUnavailableException">io_uring cannot be used in this process; the message says why.</exception>
    public static IoUringBackend Create(uint entries = 256, uint completionEntries = 0) =>
        new(IoUringRing.Create(entries, completionEntries == 0 ? entries * 2 : completionEntries, DefaultFlags));

    /// <summary>The optional setup flags Miniss asks for; the kernel may refuse some (see <see cref="SetupFlags"/>).</summary>
    internal const uint DefaultFlags = IoUring.IORING_SETUP_SINGLE_ISSUER | IoUring.IORING_SETUP_DEFER_TASKRUN
        | IoUring.IORING_SETUP_COOP_TASKRUN | IoUring.IORING_SETUP_TASKRUN_FLAG | IoUring.IORING_SETUP_SUBMIT_ALL;

    /// <inheritdoc/>
    public string Name => "io_uring";

    /// <inheritdoc/>
    public int MaxBatchSize => (int)_ring.SubmissionEntries;

    /// <summary>The <c>IORING_SETUP_*</c> flags the kernel accepted for this ring.</summary>
    public uint SetupFlags => _ring.SetupFlags;

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public uint Features => _ring.Features;

    /// <summary>The submission and completion queue sizes the kernel granted.</summary>
    public (uint Submission, uint Completion) Entries => (_ring.SubmissionEntries, _ring.CompletionEntries);

    /// <summary>How many <c>io_uring_enter</c> system calls this backend has made.</summary>
    public long SystemCalls => _ring.EnterCalls;

    internal IoUringRing Ring => _ring;

    /// <inheritdoc/>
    public IoHandle Submit(in IoOperation operation)
    {
        if ((operation.UserData & InternalUserData) != 0)
        {
            throw new ArgumentException("user data with the top bit set is reserved for the backend", nameof(operation));
        }

        io_uring_sqe* sqe = _ring.NextSqe();
        switch (operation.Kind)
        {
            case IoOperationKind.Nop:
                sqe->opcode = IoUring.IORING_OP_NOP;
                break;
            case IoOperationKind.Timeout:
                __kernel_timespec* timespec = _ring.TimespecOfLastSqe();
                long nanoseconds = operation.Timeout <= TimeSpan.Zero ? 0 : operation.Timeout.Ticks * 100;
                timespec->tv_sec = nanoseconds / 1_000_000_000;
                timespec->tv_nsec = nanoseconds % 1_000_000_000;
                sqe->opcode = IoUring.IORING_OP_TIMEOUT;
                sqe->fd = -1;
                sqe->addr = (ulong)timespec;
                sqe->len = 1;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation.Kind, "this backend does not run that operation");
        }

        sqe->user_data = operation.UserData;
        return new IoHandle(operation.UserData);
    }

    /// <inheritdoc/>
    public bool Cancel(IoHandle handle)
    {
        io_uring_sqe* sqe = _ring.NextSqe();
        sqe->opcode = IoUring.IORING_OP_ASYNC_CANCEL;
        sqe->fd = -1;
        sqe->addr = handle.UserData;
        sqe->user_data = InternalUserData;
        return true;
    }

    /// <inheritdoc/>
    public int Poll(TimeSpan? timeout, Span<IoCompletion> completions)
    {
        int count = Reap(completions);
        if (count > 0 || completions.IsEmpty)
        {
            _ring.Submit();
            return count + Reap(completions[count..]);
        }

        long nanoseconds = timeout is null ? -1 : Math.Max(0, timeout.Value.Ticks * 100);
        if (nanoseconds == 0)
        {
            if (!_ring.Submit())
            {
                return 0;
            }
        }
        else
        {
            _ring.Wait(nanoseconds);
        }

        return Reap(completions);
    }

    private int Reap(Span<IoCompletion> completions)
    {
        int count = 0;
        while (count < completions.Length && _ring.TryReap(out IoCompletion completion))
        {
            if (completion.UserData != InternalUserData)
            {
                completions[count++] = completion;
            }
        }

        return count;
    }

    /// <summary>Closes the ring. Operations still in flight are abandoned by the kernel; safe to call twice.</summary>
    public void Dispose() => _ring.Dispose();
}
