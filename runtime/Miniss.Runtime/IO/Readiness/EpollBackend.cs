using System;

namespace Miniss.IO.Readiness;

/// <summary>
/// The Linux fallback backend: an <see cref="IIoBackend"/> over epoll, for processes where io_uring is refused
/// (seccomp profiles, <c>kernel.io_uring_disabled</c>). Same observable behaviour as <see cref="Uring.IoUringBackend"/>:
/// submissions cost no system call, a poll with nothing to find makes none, a cancelled operation completes with
/// <c>-ECANCELED</c> and the cancel request itself is not reported. Create it on the thread that will use it.
/// </summary>
public sealed class EpollBackend : IIoBackend
{
    private readonly BlockingIoPool _pool;
    private readonly EpollEngine _engine;

    private EpollBackend(int events, int blockingThreads)
    {
        _pool = new BlockingIoPool(blockingThreads);
        try
        {
            _engine = new EpollEngine(_pool, events);
        }
        catch
        {
            _pool.Dispose();
            throw;
        }
    }

    /// <summary>Creates an epoll instance on the calling thread.</summary>
    /// <param name="events">How many readiness events one wait takes (default 256).</param>
    /// <param name="blockingThreads">The most threads file operations run on (default 2).</param>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    /// <exception cref="System.IO.IOException">epoll could not be set up; the message says why.</exception>
    public static EpollBackend Create(int events = 256, int blockingThreads = 2)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("epoll exists only on Linux");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(events);
        return new EpollBackend(events, blockingThreads);
    }

    /// <inheritdoc/>
    public string Name => "epoll";

    /// <inheritdoc/>
    public int MaxBatchSize => _engine.SubmissionCapacity;

    /// <summary>How many system calls the backend has made to register descriptors and wait for events.</summary>
    public long SystemCalls => _engine.SystemCalls;

    /// <inheritdoc/>
    public IoHandle Submit(in IoOperation operation) => EngineBackend.Submit(_engine, operation);

    /// <inheritdoc/>
    public bool Cancel(IoHandle handle) => EngineBackend.Cancel(_engine, handle);

    /// <inheritdoc/>
    public int Poll(TimeSpan? timeout, Span<IoCompletion> completions) => EngineBackend.Poll(_engine, timeout, completions);

    /// <summary>Closes the epoll instance and lets the pool's threads end; operations still in flight are abandoned.</summary>
    public void Dispose()
    {
        _engine.Dispose();
        _pool.Dispose();
    }
}
