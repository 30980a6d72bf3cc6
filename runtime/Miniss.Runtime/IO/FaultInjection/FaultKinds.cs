using System;

namespace Miniss.IO.FaultInjection;

/// <summary>The faults a <see cref="FaultSchedule"/> may inject into a shard's engine (tests only).</summary>
[Flags]
internal enum FaultKinds
{
    /// <summary>No fault.</summary>
    None = 0,

    /// <summary>An operation completes with one of <see cref="FaultSchedule.Errors"/> instead of running: its record
    /// becomes a no-op before it is handed over, so nothing it would have acquired (a descriptor) exists.</summary>
    ErrorResults = 1 << 0,

    /// <summary>A read, write, receive or send is handed over with a shorter length (fewer <c>iovec</c>s), so it
    /// transfers less, as the kernel may. Direct-I/O files keep their block alignment.</summary>
    ShortTransfers = 1 << 1,

    /// <summary>The submission queue counts as full when a record is asked for: the pending batch is handed over first.</summary>
    SubmissionQueueFull = 1 << 2,

    /// <summary>Completions are held back, as the kernel's overflow list holds them when the completion queue is full,
    /// and delivered in order once the shard submits or waits again.</summary>
    CompletionOverflow = 1 << 3,

    /// <summary><c>io_uring_enter</c> answers <c>EBUSY</c> or <c>EAGAIN</c>; a submit or wait hands nothing over.</summary>
    EnterBusy = 1 << 4,

    /// <summary><c>io_uring_enter</c> answers <c>EINTR</c>; a submit or wait hands nothing over.</summary>
    EnterInterrupted = 1 << 5,

    /// <summary>A write to a wake-up eventfd fails (<c>EINTR</c>, or <c>EAGAIN</c> as when its counter is full).</summary>
    EventFdFailure = 1 << 6,

    /// <summary>Every kind above.</summary>
    All = ErrorResults | ShortTransfers | SubmissionQueueFull | CompletionOverflow | EnterBusy | EnterInterrupted | EventFdFailure,
}
