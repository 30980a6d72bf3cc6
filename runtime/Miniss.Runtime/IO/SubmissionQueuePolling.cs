namespace Miniss.IO;

/// <summary>Whether a shard's io_uring ring has a kernel thread poll its submission queue (<c>IORING_SETUP_SQPOLL</c>);
/// see <see cref="RuntimeOptions.SubmissionQueuePolling"/>. Readiness backends (epoll, kqueue) ignore it.</summary>
public enum SubmissionQueuePolling
{
    /// <summary>No polling thread: each batch of submissions is handed over by the shard's own <c>io_uring_enter</c>.</summary>
    Off,

    /// <summary>A polling thread when the kernel and the process allow it; otherwise the ring runs without one and the
    /// runtime logs why, once, as a warning.</summary>
    Auto,

    /// <summary>A polling thread, or <see cref="MinissRuntime.Start"/> fails with the reason.</summary>
    Required,
}
