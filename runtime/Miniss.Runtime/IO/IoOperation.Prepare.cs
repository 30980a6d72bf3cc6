using Miniss.Bindings.Linux;

namespace Miniss.IO;

public readonly partial record struct IoOperation
{
    // The one place an IoOperation becomes an operation record. Each kind writes the SQE its catalog operation in
    // IoOperations writes (same opcode, same fields) and hands a readiness backend the generated readiness path of
    // that operation (XxxAsync_Readiness), so epoll and kqueue run it exactly as they run the
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
                backend.DescribeLastSqe(in IoOperations.NopAsync_Readiness);
                return;
            case IoOperationKind.Timeout:
                __kernel_timespec* timespec = backend.TimespecOfLastSqe();
                long nanoseconds = Offset * 100;
                timespec->tv_sec = nanoseconds / 1_000_000_000;
                timespec->tv_nsec = nanoseconds % 1_000_000_000;
                sqe->opcode = IoUring.IORING_OP_TIMEOUT;
                sqe->addr = (ulong)timespec;
                sqe->len = 1;
                backend.DescribeLastSqe(in IoOperations.TimeoutAsync_Readiness);
                return;
            case IoOperationKind.Read:
                Transfer(sqe, IoUring.IORING_OP_READ);
                backend.DescribeLastSqe(in IoOperations.ReadAsync_Readiness);
                return;
            case IoOperationKind.Write:
                Transfer(sqe, IoUring.IORING_OP_WRITE);
                backend.DescribeLastSqe(in IoOperations.WriteAsync_Readiness);
                return;
            case IoOperationKind.ReadVector:
                Transfer(sqe, IoUring.IORING_OP_READV);
                backend.DescribeLastSqe(in IoOperations.ReadVectorAsync_Readiness);
                return;
            case IoOperationKind.WriteVector:
                Transfer(sqe, IoUring.IORING_OP_WRITEV);
                backend.DescribeLastSqe(in IoOperations.WriteVectorAsync_Readiness);
                return;
            case IoOperationKind.Fsync:
                sqe->opcode = IoUring.IORING_OP_FSYNC;
                backend.DescribeLastSqe(in IoOperations.FsyncAsync_Readiness);
                return;
            case IoOperationKind.Fdatasync:
                sqe->opcode = IoUring.IORING_OP_FSYNC;
                sqe->fsync_flags = IoUring.IORING_FSYNC_DATASYNC;
                backend.DescribeLastSqe(in IoOperations.FdatasyncAsync_Readiness);
                return;
            case IoOperationKind.Fallocate:
                sqe->opcode = IoUring.IORING_OP_FALLOCATE;
                sqe->len = Length;
                sqe->off = unchecked((ulong)Offset);
                sqe->addr = unchecked((ulong)Address);
                backend.DescribeLastSqe(in IoOperations.FallocateAsync_Readiness);
                return;
            case IoOperationKind.OpenAt:
                sqe->opcode = IoUring.IORING_OP_OPENAT;
                sqe->addr = unchecked((ulong)Address);
                sqe->open_flags = unchecked((uint)Flags);
                sqe->len = Length;
                backend.DescribeLastSqe(in IoOperations.OpenAtAsync_Readiness);
                return;
            case IoOperationKind.Statx:
                sqe->opcode = IoUring.IORING_OP_STATX;
                sqe->addr = unchecked((ulong)Address);
                sqe->statx_flags = unchecked((uint)Flags);
                sqe->len = Length;
                sqe->off = unchecked((ulong)Offset);
                backend.DescribeLastSqe(in IoOperations.StatxAsync_Readiness);
                return;
            case IoOperationKind.Close:
                sqe->opcode = IoUring.IORING_OP_CLOSE;
                backend.DescribeLastSqe(in IoOperations.CloseAsync_Readiness);
                return;
            case IoOperationKind.Accept:
                sqe->opcode = IoUring.IORING_OP_ACCEPT;
                sqe->addr = unchecked((ulong)Address);
                sqe->off = unchecked((ulong)Offset);
                sqe->accept_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(in IoOperations.AcceptAsync_Readiness);
                return;
            case IoOperationKind.Connect:
                sqe->opcode = IoUring.IORING_OP_CONNECT;
                sqe->addr = unchecked((ulong)Address);
                sqe->off = unchecked((ulong)Offset);
                backend.DescribeLastSqe(in IoOperations.ConnectAsync_Readiness);
                return;
            case IoOperationKind.Receive:
                Transfer(sqe, IoUring.IORING_OP_RECV);
                sqe->msg_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(in IoOperations.ReceiveAsync_Readiness);
                return;
            case IoOperationKind.Send:
                Transfer(sqe, IoUring.IORING_OP_SEND);
                sqe->msg_flags = unchecked((uint)Flags);
                backend.DescribeLastSqe(in IoOperations.SendAsync_Readiness);
                return;
            case IoOperationKind.Shutdown:
                sqe->opcode = IoUring.IORING_OP_SHUTDOWN;
                sqe->len = Length;
                backend.DescribeLastSqe(in IoOperations.ShutdownAsync_Readiness);
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
