using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.Internal.Linux;

/// <summary>
/// The three io_uring system calls. glibc has no wrappers for them, so they go through <c>syscall(2)</c>; each
/// returns the kernel's result, or <c>-errno</c> on failure (the kernel's own convention, which keeps errors values).
/// </summary>
internal static unsafe partial class IoUringSyscalls
{
    public static int Setup(uint entries, io_uring_params* parameters) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_setup, (nint)entries, (nint)parameters, 0, 0, 0, 0));

    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_enter, ringFd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize));

    /// <summary>
    /// <c>io_uring_enter</c> for a call that cannot wait (<c>min_complete</c> 0, no <c>IORING_ENTER_SQ_WAIT</c>): made
    /// without the runtime's GC transition, which costs more than the call itself on the submit-and-reap path. Such a
    /// call only hands SQEs to the kernel, which issues them without blocking (what would block is punted to its
    /// workers), and runs ready task work, so it returns within microseconds; nothing runs between it and the read of
    /// <c>errno</c>.
    /// </summary>
    public static int EnterWithoutWaiting(int ringFd, uint toSubmit, uint flags)
    {
        nint value = SyscallWithoutTransition(IoUring.__NR_io_uring_enter, ringFd, (nint)toSubmit, 0, (nint)flags, 0, 0);
        return value < 0 ? -Marshal.GetLastSystemError() : (int)value;
    }

    public static int Register(int ringFd, uint opcode, void* argument, uint count) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_register, ringFd, (nint)opcode, (nint)argument, (nint)count, 0, 0));

    [LibraryImport("libc.so.6", EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial nint SyscallWithoutTransition(nint number, nint arg1, nint arg2, nint arg3, nint arg4, nint arg5, nint arg6);

    private static int Result(nint value) => value < 0 ? -Marshal.GetLastPInvokeError() : (int)value;
}
