using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;

namespace Miniss.IO;

public readonly partial record struct IoOperation
{
    // The one place an IoOperation becomes an operation record. Each kind writes the SQE its catalog operation in
    // IoOperations writes (same opcode, same fields) and hands a readiness backend the generated readiness path of
    // that operation (XxxAsync_Readiness, &XxxAsync_Perform), so epoll and kqueue run it exactly as they run the
    // catalog's. When the generator emits a prepare function per operation, each case below becomes a call to it.

    /// <summary>Writes this operation into the next record of <paramref name="backend"/>.</summary>
    internal unsafe void Prepare(IoBackend backend)
    {
        io_uring_sqe* sqe = backend.NextSqe();
        sqe->user_data = UserData;
        sqe->fd = Descriptor;
        switch (Kind)
        {
            case IoOperationKind.Nop:
                sqe->opcode = IoUring.IORING_OP_NOP;
                return;
            case IoOperationKind.Timeout:
                __kernel_timespec* timespec = backend.TimespecOfLastSqe();
                long nanoseconds = Offset * 100;
                timespec->tv_sec = nanoseconds / 1_000_000_000;
                timespec->tv_nsec = nanoseconds % 1_000_000_000;
                sqe->opcode = IoUring.IORING_OP_TIMEOUT;
                sqe->addr = (ulong)timespec;
                sqe->len = 1;
                return;
            case IoOperationKind.Read:
                Transfer(sqe, IoUring.IORING_OP_READ);
                backend.DescribeLastSqe(IoOperations.ReadAsync_Readiness, &IoOperations.ReadAsync_Perform);
                return;
            case IoOperationKind.Write:
                Transfer(sqe, IoUring.IORING_OP_WRITE);
                backend.DescribeLastSqe(IoOperations.WriteAsync_Readiness, &IoOperations.WriteAsync_Perform);
                return;
            case IoOperationKind.ReadVector:
                Transfer(sqe, IoUring.IORING_OP_READV);
                backend.DescribeLastSqe(IoOperations.ReadVectorAsync_Readiness, &IoOperations.ReadVectorAsync_Perform);
                return;
            case IoOperationKind.WriteVector:
                Transfer(sqe, IoUring.IORING_OP_WRITEV);
                backend.DescribeLastSqe(IoOperations.WriteVectorAsync_Readiness, &IoOperations.WriteVectorAsync_Perform);
                return;
            case IoOperationKind.Fsync:
                sqe->opcode = IoUring.IORING_OP_FSYNC;
                backend.DescribeLastSqe(IoOperations.FsyncAsync_Readiness, &IoOperations.FsyncAsync_Perform);
                return;
            case IoOperationKind.Fdatasync:
                sqe->opcode = IoUring.IORING_OP_FSYNC;
                sqe->fsync_flags = IoUring.IORING_FSYNC_DATASYNC;
                backend.DescribeLastSqe(IoOperations.FdatasyncAsync_Readiness, &IoOperations.FdatasyncAsync_Perform);
                return;
            case IoOperationKind.Fallocate:
                sqe->opcode = IoUring.IORING_OP_FALLOCATE;
                sqe->len = Length;
                sqe->off = unchecked((ulong)Offset);
                sqe->addr = unchecked((ulong)Address);
                backend.DescribeLastSqe(IoOperations.FallocateAsync_Readiness, &IoOperations.FallocateAsync_Perform);
                return;
            case IoOperationKind.OpenAt:
                sqe->opcode = IoUring.IORING_OP_OPENAT;
                sqe->addr = unchecked((ulong)Address);
                sqe->open_flags = unchecked((uint)Flags);
                sqe->len = Length;
                backend.DescribeLastSqe(IoOperations.OpenAtAsync_Readiness, &IoOperations.OpenAtAsync_Perform);
                return;
            case IoOperationKind.Statx:
                sqe->opcode = IoUring.IORING_OP_STATX;
                sqe->addr = unchecked((ulong)Address);
                sqe->statx_flags = unchecked((uint)Flags);
                sqe->len = Length;
                sqe->off = unchecked((ulong)Offset);
                backend.DescribeLastSqe(IoOperations.StatxAsync_Readiness, &IoOperations.StatxAsync_Perform);
                return;
            case IoOperationKind.Close:
                sqe->opcode = IoUring.IORING_OP_CLOSE;
                backend.DescribeLastSqe(IoOperations.CloseAsync_Readiness, &IoOperations.CloseAsync_Perform);
                return;
            case IoOperationKind.Accept:
                sqe->opcode = IoUring.IORING_OP_ACCEPT;
                sqe->addr = unchecked((ulong)Address);
                sqe->off = unchecked((ulong)Offset);
                sqe->accept_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(IoOperations.AcceptAsync_Readiness, &IoOperations.AcceptAsync_Perform);
                return;
            case IoOperationKind.Connect:
                sqe->opcode = IoUring.IORING_OP_CONNECT;
                sqe->addr = unchecked((ulong)Address);
                sqe->off = unchecked((ulong)Offset);
                backend.DescribeLastSqe(IoOperations.ConnectAsync_Readiness, &IoOperations.ConnectAsync_Perform);
                return;
            case IoOperationKind.Receive:
                Transfer(sqe, IoUring.IORING_OP_RECV);
                sqe->msg_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(IoOperations.ReceiveAsync_Readiness, &IoOperations.ReceiveAsync_Perform);
                return;
            case IoOperationKind.Send:
                Transfer(sqe, IoUring.IORING_OP_SEND);
                sqe->msg_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(IoOperations.SendAsync_Readiness, &IoOperations.SendAsync_Perform);
                return;
            case IoOperationKind.Shutdown:
                sqe->opcode = IoUring.IORING_OP_SHUTDOWN;
                sqe->len = Length;
                backend.DescribeLastSqe(IoOperations.ShutdownAsync_Readiness, &IoOperations.ShutdownAsync_Perform);
                return;
            default:
                // Unreachable: only the factories make operations, and default(IoOperation) is a Nop.
                sqe->opcode = IoUring.IORING_OP_NOP;
                return;
        }
    }

    /// <summary>A buffer, or an <c>iovec</c> array, and its length at an offset (sockets ignore the offset).</summary>
    private unsafe void Transfer(io_uring_sqe* sqe, byte opcode)
    {
        sqe->opcode = opcode;
        sqe->addr = unchecked((ulong)Address);
        sqe->len = Length;
        sqe->off = unchecked((ulong)Offset);
    }
}
