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
    public IoHandle Submit(in IoOperation operation) => EngineBackend.Submit(_ring, operation);

    /// <inheritdoc/>
    public bool Cancel(IoHandle handle) => EngineBackend.Cancel(_ring, handle);

    /// <inheritdoc/>
    public int Poll(TimeSpan? timeout, Span<IoCompletion> completions) => EngineBackend.Poll(_ring, timeout, completions);

    /// <summary>Closes the ring. Operations still in flight are abandoned by the kernel; safe to call twice.</summary>
    public void Dispose() => _ring.Dispose();
}
