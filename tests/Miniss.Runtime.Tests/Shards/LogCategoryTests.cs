using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>The runtime's messages arrive under their subsystem's category with their documented event id
/// (docs/observability.md), as a console logger prints them: <c>level: Category[id] message</c>.</summary>
[Platform("Linux")]
public sealed class LogCategoryTests
{
    [Test]
    public void A_refused_buffer_registration_is_logged_under_Miniss_Buffers_and_the_fall_back_reason_under_Miniss_IO()
    {
        // Without CAP_IPC_LOCK and with 1 MiB of locked memory, one shard's ring fits but its 16 MiB buffer pool does
        // not: io_uring is chosen, the registration refused.
        var run = Cli.MinissProcess.Run(["bench", "--duration", "0.1", "--file-size", "1", "--connections", "2", "--shards", "1"],
            Cli.Wrappers.Memlock(1024 * 1024));

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("warn: Miniss.Buffers[6] Miniss shard 0 could not register its buffer pool as fixed buffers"), run.Transcript);
        Assert.That(run.Stderr, Does.Contain("info: Miniss.IO[7] Miniss I/O backend: io_uring"), run.Transcript);
    }

    [Test]
    public void The_reason_for_falling_back_to_epoll_is_logged_under_Miniss_IO()
    {
        var run = Cli.MinissProcess.Run(["bench", "--duration", "0.1", "--file-size", "1", "--connections", "2", "--shards", "2"],
            Cli.Wrappers.Memlock(64 * 1024));

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("info: Miniss.IO[7] Miniss I/O backend: epoll (probed; io_uring rejected:").And.Contain("RLIMIT_MEMLOCK"), run.Transcript);
    }
}
