using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;

namespace Miniss.IO;

/// <summary>
/// The raw operations of the calling shard's ring, one method each, on file descriptors and native memory. Every
/// method must be called on a shard and its result awaited there; each allocates nothing once the shard's pools are
/// warm. The await completes when the kernel's completion arrives, so memory handed to an operation (a buffer, a
/// path, an address) is the kernel's until then, also when the operation is cancelled. Failures throw the exception
/// a .NET user expects (<see cref="System.IO.IOException"/> and kin for files, <see cref="System.Net.Sockets.SocketException"/>
/// for sockets, <see cref="OperationCanceledException"/> when cancelled) with the errno in <c>Data["errno"]</c>.
/// </summary>
/// <remarks>
/// This is the operation catalog: each operation is declared once here, and Miniss.Generators writes its body
/// (the SQE, the completion mapping, cancellation) and the path a readiness backend takes. Most code uses the file
/// and socket types built on these methods instead.
/// </remarks>
public static unsafe partial class IoOperations
{
    /// <summary>Does nothing; completes with 0. Measures a round trip through the ring.</summary>
    [IoOperation(IoUring.IORING_OP_NOP, Name = "nop", Result = IoResultKind.None, Readiness = ReadinessKind.Immediate)]
    public static partial ValueTask<int> NopAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> (<c>pread</c>); 0 at end of file. An
    /// offset of -1 reads at the file's position and advances it, as io_uring defines.</summary>
    [IoOperation(IoUring.IORING_OP_READ, Name = "read", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pread), Stream = ReadinessKind.Read, StreamSyscall = nameof(Libc.read))]
    public static partial ValueTask<int> ReadAsync([Fd] SafeHandle file, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset, CancellationToken cancellationToken = default);

    /// <summary>Writes <c>buffer</c> at <paramref name="offset"/> (<c>pwrite</c>); the count may be short.</summary>
    [IoOperation(IoUring.IORING_OP_WRITE, Name = "write", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pwrite), Stream = ReadinessKind.Write, StreamSyscall = nameof(Libc.write))]
    public static partial ValueTask<int> WriteAsync([Fd] SafeHandle file, [Buffer] ReadOnlyMemory<byte> buffer, [Sqe("off")] long offset, CancellationToken cancellationToken = default);

    /// <summary>Reads into <paramref name="count"/> <c>iovec</c>s at <paramref name="iovecs"/> (native memory the caller keeps
    /// until the await completes) at <paramref name="offset"/> (<c>preadv</c>).</summary>
    [IoOperation(IoUring.IORING_OP_READV, Name = "readv", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.preadv), Stream = ReadinessKind.Read, StreamSyscall = nameof(Libc.readv))]
    public static partial ValueTask<int> ReadVectorAsync([Fd] SafeHandle file, [Sqe("addr")] nint iovecs, [Sqe("len")] int count, [Sqe("off")] long offset, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="count"/> <c>iovec</c>s at <paramref name="iovecs"/> at <paramref name="offset"/> (<c>pwritev</c>).</summary>
    [IoOperation(IoUring.IORING_OP_WRITEV, Name = "writev", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pwritev), Stream = ReadinessKind.Write, StreamSyscall = nameof(Libc.writev))]
    public static partial ValueTask<int> WriteVectorAsync([Fd] SafeHandle file, [Sqe("addr")] nint iovecs, [Sqe("len")] int count, [Sqe("off")] long offset, CancellationToken cancellationToken = default);

    /// <summary>Reads into a buffer registered with the ring (<paramref name="bufferIndex"/> names its registration),
    /// which spares the kernel pinning its pages for each operation.</summary>
    [IoOperation(IoUring.IORING_OP_READ_FIXED, Name = "read_fixed", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pread))]
    public static partial ValueTask<int> ReadFixedAsync([Fd] SafeHandle file, [Sqe("addr")] nint address, [Sqe("len")] int length, [Sqe("off")] long offset, [Sqe("buf_index"), SqeOnly] ushort bufferIndex, CancellationToken cancellationToken = default);

    /// <summary>Writes from a buffer registered with the ring.</summary>
    [IoOperation(IoUring.IORING_OP_WRITE_FIXED, Name = "write_fixed", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pwrite))]
    public static partial ValueTask<int> WriteFixedAsync([Fd] SafeHandle file, [Sqe("addr")] nint address, [Sqe("len")] int length, [Sqe("off")] long offset, [Sqe("buf_index"), SqeOnly] ushort bufferIndex, CancellationToken cancellationToken = default);

    /// <summary>Flushes the file's data and metadata to its device (<c>fsync</c>).</summary>
    [IoOperation(IoUring.IORING_OP_FSYNC, Name = "fsync", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.fsync))]
    public static partial ValueTask<int> FsyncAsync([Fd] SafeHandle file, CancellationToken cancellationToken = default);

    /// <summary>Flushes the file's data, and only the metadata needed to read it back (<c>fdatasync</c>).</summary>
    [IoOperation(IoUring.IORING_OP_FSYNC, Name = "fdatasync", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.fdatasync))]
    [SqeValue("fsync_flags", IoUring.IORING_FSYNC_DATASYNC)]
    public static partial ValueTask<int> FdatasyncAsync([Fd] SafeHandle file, CancellationToken cancellationToken = default);

    /// <summary>Allocates (or with <paramref name="mode"/> flags, punches or zeroes) <paramref name="length"/> bytes at
    /// <paramref name="offset"/> (<c>fallocate</c>).</summary>
    [IoOperation(IoUring.IORING_OP_FALLOCATE, Name = "fallocate", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.fallocate))]
    public static partial ValueTask<int> FallocateAsync([Fd] SafeHandle file, [Sqe("len")] int mode, [Sqe("off")] long offset, [Sqe("addr")] long length, CancellationToken cancellationToken = default);

    /// <summary>Opens <paramref name="path"/> relative to <paramref name="directory"/> (<c>AT_FDCWD</c>: the working
    /// directory) with <c>O_*</c> <paramref name="flags"/> and <paramref name="mode"/> permissions; completes with the
    /// new file descriptor, which the caller owns.</summary>
    [IoOperation(IoUring.IORING_OP_OPENAT, Name = "openat", Result = IoResultKind.FileDescriptor, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.openat))]
    public static partial ValueTask<int> OpenAtAsync([Fd] int directory, [Path] string path, [Sqe("open_flags")] int flags, [Sqe("len")] int mode, CancellationToken cancellationToken = default);

    /// <summary>Closes a file descriptor the caller owns (<c>close</c>).</summary>
    [IoOperation(IoUring.IORING_OP_CLOSE, Name = "close", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.close), Effects = ReadinessEffects.ForgetsDescriptor)]
    public static partial ValueTask<int> CloseAsync([Fd] int fd, CancellationToken cancellationToken = default);

    /// <summary>Fills the <c>statx</c> record at <paramref name="buffer"/> (native memory the caller keeps until the await
    /// completes) for <paramref name="path"/> (empty with <c>AT_EMPTY_PATH</c>: the descriptor itself).</summary>
    [IoOperation(IoUring.IORING_OP_STATX, Name = "statx", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.statx))]
    public static partial ValueTask<int> StatxAsync([Fd] int directory, [Path] string path, [Sqe("statx_flags")] int flags, [Sqe("len")] int mask, [Sqe("off")] nint buffer, CancellationToken cancellationToken = default);

    /// <summary>Accepts a connection on a listening socket; the peer's address goes to <paramref name="address"/> /
    /// <paramref name="addressLength"/> (native memory kept until completion, or zero). Completes with the new socket.</summary>
    [IoOperation(IoUring.IORING_OP_ACCEPT, Name = "accept", Result = IoResultKind.FileDescriptor, Domain = IoDomain.Socket, Readiness = ReadinessKind.Read, Syscall = nameof(Libc.accept4), Effects = ReadinessEffects.HangUpIsInvalid)]
    [ReadinessFlags("accept_flags", Sockets.SOCK_NONBLOCK)]
    public static partial ValueTask<int> AcceptAsync([Fd] SafeHandle socket, [Sqe("addr")] nint address, [Sqe("off")] nint addressLength, [Sqe("accept_flags")] int flags, CancellationToken cancellationToken = default);

    /// <summary>Connects a socket to the <c>sockaddr</c> at <paramref name="address"/> of <paramref name="addressLength"/> bytes.</summary>
    [IoOperation(IoUring.IORING_OP_CONNECT, Name = "connect", Result = IoResultKind.None, Domain = IoDomain.Socket, Readiness = ReadinessKind.Write, Syscall = nameof(Libc.connect), Effects = ReadinessEffects.InProgressUntilWritable)]
    public static partial ValueTask<int> ConnectAsync([Fd] SafeHandle socket, [Sqe("addr")] nint address, [Sqe("off")] int addressLength, CancellationToken cancellationToken = default);

    /// <summary>Receives into <paramref name="buffer"/>; 0 when the peer has shut down its side.</summary>
    [IoOperation(IoUring.IORING_OP_RECV, Name = "recv", Domain = IoDomain.Socket, Readiness = ReadinessKind.Read, Syscall = nameof(Libc.recv))]
    [ReadinessFlags("msg_flags", Sockets.MSG_DONTWAIT)]
    public static partial ValueTask<int> ReceiveAsync([Fd] SafeHandle socket, [Buffer] Memory<byte> buffer, [Sqe("msg_flags")] int flags, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="buffer"/>; the count may be short.</summary>
    [IoOperation(IoUring.IORING_OP_SEND, Name = "send", Domain = IoDomain.Socket, Readiness = ReadinessKind.Write, Syscall = nameof(Libc.send))]
    [ReadinessFlags("msg_flags", Sockets.MSG_DONTWAIT | Sockets.MSG_NOSIGNAL)]
    public static partial ValueTask<int> SendAsync([Fd] SafeHandle socket, [Buffer] ReadOnlyMemory<byte> buffer, [Sqe("msg_flags")] int flags, CancellationToken cancellationToken = default);

    /// <summary>Sends what the <c>msghdr</c> at <paramref name="message"/> describes (its <c>iovec</c>s, and an address
    /// or control data if it has them): native memory the caller keeps, with everything it points to, until the await
    /// completes (<c>sendmsg</c>). The count may be short.</summary>
    [IoOperation(IoUring.IORING_OP_SENDMSG, Name = "sendmsg", Domain = IoDomain.Socket, Readiness = ReadinessKind.Write, Syscall = nameof(Libc.sendmsg))]
    [ReadinessFlags("msg_flags", Sockets.MSG_DONTWAIT | Sockets.MSG_NOSIGNAL)]
    [SqeValue("len", 1)]
    public static partial ValueTask<int> SendMessageAsync([Fd] SafeHandle socket, [Sqe("addr")] nint message, [Sqe("msg_flags")] int flags, CancellationToken cancellationToken = default);

    /// <summary>Shuts down one or both directions of a socket (<c>SHUT_RD</c>, <c>SHUT_WR</c>, <c>SHUT_RDWR</c>).</summary>
    [IoOperation(IoUring.IORING_OP_SHUTDOWN, Name = "shutdown", Result = IoResultKind.None, Domain = IoDomain.Socket, Readiness = ReadinessKind.Inline, Syscall = nameof(Libc.shutdown))]
    public static partial ValueTask<int> ShutdownAsync([Fd] SafeHandle socket, [Sqe("len")] int how, CancellationToken cancellationToken = default);

    /// <summary>Completes after <paramref name="timeout"/> with 0 (the kernel's <c>-ETIME</c> is the expected outcome
    /// and is reported as success); cancelling it throws <see cref="OperationCanceledException"/>.</summary>
    [IoOperation(IoUring.IORING_OP_TIMEOUT, Name = "timeout", Result = IoResultKind.None, ExpectedErrno = Errno.ETIME, Readiness = ReadinessKind.Timer)]
    [SqeValue("len", 1)]
    public static partial ValueTask<int> TimeoutAsync([Timespec] TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Asks the kernel to cancel the operation whose user data is <paramref name="userData"/>: completes with
    /// 0 when it was found and cancelled, and throws (ENOENT: not found, EALREADY: already running) otherwise.</summary>
    [IoOperation(IoUring.IORING_OP_ASYNC_CANCEL, Name = "async_cancel", Result = IoResultKind.None, Readiness = ReadinessKind.Cancel)]
    public static partial ValueTask<int> AsyncCancelAsync([Sqe("addr")] ulong userData, CancellationToken cancellationToken = default);

    // ---- The runtime's own operations: SQE preparation only, their completions routed by the shard -------------

    /// <summary>The shard's wake-up read: 8 bytes of its eventfd <paramref name="fd"/> into <paramref name="buffer"/>,
    /// completing as <paramref name="userData"/>. Another thread's write wakes a shard asleep in the kernel.</summary>
    [IoOperation(IoUring.IORING_OP_READ, Name = "wake_read", Readiness = ReadinessKind.Read, Syscall = nameof(Libc.read), Effects = ReadinessEffects.Internal)]
    internal static partial void PrepareWakeRead(io_uring_sqe* sqe, [Fd] int fd, [Sqe("addr")] nint buffer, [Sqe("len")] uint length, [Sqe("user_data")] ulong userData);

    /// <summary>Wakes another shard: posts a completion of <paramref name="targetUserData"/> (result 0) to the io_uring ring
    /// <paramref name="ringFd"/> (<c>IORING_MSG_DATA</c>), which ends that ring's wait. Completes on this ring as
    /// <paramref name="userData"/> only when it fails (<c>IOSQE_CQE_SKIP_SUCCESS</c>). io_uring only, Linux 5.18; the
    /// kernel is probed before it is used, and a kernel without it only keeps the eventfd wake-up.</summary>
    [IoOperation(IoUring.IORING_OP_MSG_RING, Name = "msg_ring_wake")]
    [SqeValue("addr", IoUring.IORING_MSG_DATA)]
    [SqeValue("flags", IoUring.IOSQE_CQE_SKIP_SUCCESS)]
    internal static partial void PrepareRingWake(io_uring_sqe* sqe, [Fd] int ringFd, [Sqe("off")] ulong targetUserData, [Sqe("user_data")] ulong userData);

    /// <summary>Cancels every operation in flight (<c>IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL</c>), as a
    /// stopping shard does; completes as <paramref name="userData"/>.</summary>
    [IoOperation(IoUring.IORING_OP_ASYNC_CANCEL, Name = "cancel_all", Readiness = ReadinessKind.Cancel)]
    [SqeValue("fd", -1)]
    [SqeValue("cancel_flags", IoUring.IORING_ASYNC_CANCEL_ANY | IoUring.IORING_ASYNC_CANCEL_ALL)]
    internal static partial void PrepareCancelAll(io_uring_sqe* sqe, [Sqe("user_data")] ulong userData);

    /// <summary>A multishot receive on <paramref name="fd"/> into buffers the kernel selects from the provided-buffer
    /// ring <paramref name="group"/>, completing as <paramref name="userData"/>: one completion per arrival, flagged <c>IORING_CQE_F_MORE</c> while it stays
    /// armed. io_uring only (a readiness backend refuses it; the shard does not issue it there).</summary>
    [IoOperation(IoUring.IORING_OP_RECV, Name = "recv_multishot", Domain = IoDomain.Socket)]
    [SqeValue("ioprio", IoUring.IORING_RECV_MULTISHOT)]
    [SqeValue("flags", IoUring.IOSQE_BUFFER_SELECT)]
    internal static partial void PrepareMultishotReceive(io_uring_sqe* sqe, [Fd] int fd, [Sqe("buf_group")] ushort group, [Sqe("user_data")] ulong userData);

    /// <summary>A multishot accept on the listening socket <paramref name="fd"/>, completing as <paramref name="userData"/>: one completion per connection (a
    /// close-on-exec socket), flagged <c>IORING_CQE_F_MORE</c> while it stays armed. io_uring only.</summary>
    [IoOperation(IoUring.IORING_OP_ACCEPT, Name = "accept_multishot", Domain = IoDomain.Socket)]
    [SqeValue("ioprio", IoUring.IORING_ACCEPT_MULTISHOT)]
    [SqeValue("accept_flags", Sockets.SOCK_CLOEXEC)]
    internal static partial void PrepareMultishotAccept(io_uring_sqe* sqe, [Fd] int fd, [Sqe("user_data")] ulong userData);

    /// <summary>Asks the kernel to cancel the operation whose user data is <paramref name="target"/> (as
    /// <see cref="AsyncCancelAsync"/> does), completing as <paramref name="userData"/>: what
    /// <see cref="IoBackend.Cancel(IoHandle)"/> queues.</summary>
    [IoOperation(IoUring.IORING_OP_ASYNC_CANCEL, Name = "cancel", Readiness = ReadinessKind.Cancel)]
    [SqeValue("fd", -1)]
    internal static partial void PrepareCancel(io_uring_sqe* sqe, [Sqe("addr")] ulong target, [Sqe("user_data")] ulong userData);
}
