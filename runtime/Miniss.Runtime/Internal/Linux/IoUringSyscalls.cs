using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.Internal.Linux;

/// <summary>
/// The three io_uring system calls. glibc has no wrappers for them, so they go through <c>syscall(2)</c>; each
/// returns the kernel's result, or <c>-errno</c> on failure (the kernel's own convention, which keeps errors values).
/// </summary>
internal static unsafe class IoUringSyscalls
{
    public static int Setup(uint entries, io_uring_params* parameters) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_setup, (nint)entries, (nint)parameters, 0, 0, 0, 0));

    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_enter, ringFd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize));

    public static int Register(int ringFd, uint opcode, void* argument, uint count) =>
        Result(Libc.syscall(IoUring.__NR_io_uring_register, ringFd, (nint)opcode, (nint)argument, (nint)count, 0, 0));

    private static int Result(nint value) => value < 0 ? -Marshal.GetLastPInvokeError() : (int)value;
}
