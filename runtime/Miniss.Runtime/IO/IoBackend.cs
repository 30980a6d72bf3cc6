using System;
using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;
using Miniss.IO.FaultInjection;

namespace Miniss.IO;

/// <summary>
/// What a shard drives to do I/O: a submission side that takes operations described as io_uring SQEs, and a
/// completion side that hands back (user data, result, flags). The SQE is Miniss's one operation record: the
/// io_uring engine gives it to the kernel as it is, a readiness engine (epoll, kqueue) reads it back and runs the
/// operation itself, so the code generated from the operation catalog is the same for every backend.
/// </summary>
/// <remarks>
/// Not thread-safe: an engine belongs to the thread that created it. Submissions are batched: nothing reaches the
/// kernel (or the readiness machinery) before <see cref="Submit"/> or <see cref="Wait"/>.
/// </remarks>
internal abstract unsafe class IoBackend : IDisposable
{
    /// <summary>The backend's name: <c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>.</summary>
    public abstract string Name { get; }

    /// <summary>How many operations one submission batch holds before it is handed over on its own.</summary>
    public abstract int SubmissionCapacity { get; }

    /// <summary>How many system calls the engine has made to submit and wait (not the operations' own calls).</summary>
    public abstract long SystemCalls { get; }

    /// <summary>Whether a completion can be taken without a system call.</summary>
    public abstract bool HasCompletions { get; }

    /// <summary>Whether the engine holds work that only <see cref="Submit"/> will publish.</summary>
    public abstract bool KernelHasWork { get; }

    /// <summary>Whether an idle shard should poll shared memory for a while before it sleeps: true when completions
    /// land there without a system call (io_uring).</summary>
    public virtual bool SpinIsUseful => true;

    /// <summary>The next operation record, zeroed. Valid until the next submission.</summary>
    public abstract io_uring_sqe* NextSqe();

    /// <summary>A timespec that lives as long as the record just returned by <see cref="NextSqe"/> (for timeouts).</summary>
    public abstract __kernel_timespec* TimespecOfLastSqe();

    /// <summary>Says how a readiness engine runs the record just written, with the descriptor the catalog generated for
    /// its operation (kept by reference only for the call). The io_uring engine has no use for it.</summary>
    public virtual void DescribeLastSqe(in ReadinessDescriptor descriptor)
    {
    }

    /// <summary>Hands the pending records over. Makes no system call when nothing is pending.</summary>
    /// <returns>Whether anything was handed over or the kernel was entered.</returns>
    public abstract bool Submit();

    /// <summary>Submits what is pending and waits until a completion is available or <paramref name="timeoutNanoseconds"/>
    /// has passed (negative: no limit).</summary>
    public abstract void Wait(long timeoutNanoseconds);

    /// <summary>Takes one completion, if any.</summary>
    public abstract bool TryReap(out IoCompletion completion);

    /// <summary>The engine that does the work: this one, or the one a test decorator wraps.</summary>
    public virtual IoBackend Underlying => this;

    /// <summary>The fault injector this engine consults (tests only; <see langword="null"/> otherwise): where a
    /// record is given out, where records are handed over and where the kernel is entered.</summary>
    internal FaultInjectingBackend? Faults { get; private set; }

    /// <summary>Makes this engine consult <paramref name="faults"/> (tests only).</summary>
    internal virtual void AttachFaults(FaultInjectingBackend faults) => Faults = faults;

    public abstract void Dispose();
}
