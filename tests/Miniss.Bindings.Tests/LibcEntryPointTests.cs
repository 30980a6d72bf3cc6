using System;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;
using NUnit.Framework;

namespace Miniss.Bindings.Tests;

/// <summary>The generated <c>[LibraryImport]</c> entry points reach the real libc and keep errno.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class LibcEntryPointTests
{
    [Test]
    public void Getpid_returns_the_process_id() => Assert.That(Libc.getpid(), Is.EqualTo(Environment.ProcessId));

    [Test]
    public void A_failing_call_reports_errno()
    {
        int result = Libc.close(-1);

        Assert.That(result, Is.EqualTo(-1));
        Assert.That(Marshal.GetLastPInvokeError(), Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public unsafe void Io_uring_setup_through_syscall_returns_a_ring_or_a_known_refusal()
    {
        io_uring_params parameters = default;
        nint fd = Libc.syscall(IoUring.__NR_io_uring_setup, 4, (nint)(&parameters), 0, 0, 0, 0);
        if (fd < 0)
        {
            // Sandboxes refuse io_uring (seccomp: EPERM, io_uring_disabled: EPERM, old kernel: ENOSYS); nothing else is expected.
            Assert.That(Marshal.GetLastPInvokeError(), Is.AnyOf(Errno.EPERM, Errno.ENOSYS));
            return;
        }

        Assert.That(parameters.sq_entries, Is.EqualTo(4u));
        Assert.That(parameters.cq_entries, Is.GreaterThanOrEqualTo(4u));
        Assert.That(Libc.close((int)fd), Is.Zero);
    }
}
