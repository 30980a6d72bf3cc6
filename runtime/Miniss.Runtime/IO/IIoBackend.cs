using System;

namespace Miniss.IO;

/// <summary>
/// A source of asynchronous I/O owned by one shard: operations are submitted, completions are polled. A backend is
/// not thread-safe; only the thread that created it may use it (io_uring rings are set up single-issuer).
/// </summary>
public interface IIoBackend : IDisposable
{
    /// <summary>The backend's name (<c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>).</summary>
    string Name { get; }

    /// <summary>How many operations one submission batch and one <see cref="Poll"/> call handle at most.</summary>
    int MaxBatchSize { get; }

    /// <summary>
    /// Queues an operation. It reaches the kernel with the next <see cref="Poll"/> (or flush), together with the
    /// others queued since: submission itself makes no system call. Never fails for lack of room: a full submission
    /// queue is flushed first.
    /// </summary>
    /// <returns>The handle that <see cref="Cancel"/> takes.</returns>
    IoHandle Submit(in IoOperation operation);

    /// <summary>
    /// Asks the kernel to cancel an operation in flight. Best effort: an operation that completes first still
    /// reports its own result; a cancelled one completes with <c>-ECANCELED</c>. Either way exactly one
    /// completion arrives for it.
    /// </summary>
    /// <returns><see langword="true"/> when the request was queued.</returns>
    bool Cancel(IoHandle handle);

    /// <summary>
    /// Submits what is queued and copies available completions into <paramref name="completions"/>. With a zero
    /// timeout it never blocks, and makes no system call when nothing is queued and nothing has completed; with a
    /// positive timeout it waits until at least one completion arrives or the time has passed; <see langword="null"/>
    /// waits without limit.
    /// </summary>
    /// <returns>How many completions were written.</returns>
    int Poll(TimeSpan? timeout, Span<IoCompletion> completions);
}
