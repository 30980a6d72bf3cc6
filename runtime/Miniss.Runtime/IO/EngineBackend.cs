using System;
using Miniss.Bindings.Linux;
using Miniss.IO.Uring;

namespace Miniss.IO;

/// <summary>The <see cref="IIoBackend"/> operations written once over an <see cref="IoBackend"/>, for every backend.</summary>
internal static unsafe class EngineBackend
{
    public static IoHandle Submit(IoBackend engine, in IoOperation operation)
    {
        if ((operation.UserData & IoUringBackend.InternalUserData) != 0)
        {
            throw new ArgumentException("user data with the top bit set is reserved for the backend", nameof(operation));
        }

        if (operation.Kind is not (IoOperationKind.Nop or IoOperationKind.Timeout))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation.Kind, "this backend does not run that operation");
        }

        io_uring_sqe* sqe = engine.NextSqe();
        if (operation.Kind == IoOperationKind.Nop)
        {
            sqe->opcode = IoUring.IORING_OP_NOP;
            engine.DescribeLastSqe(in IoOperations.NopAsync_Readiness);
        }
        else
        {
            __kernel_timespec* timespec = engine.TimespecOfLastSqe();
            long nanoseconds = operation.Timeout <= TimeSpan.Zero ? 0 : operation.Timeout.Ticks * 100;
            timespec->tv_sec = nanoseconds / 1_000_000_000;
            timespec->tv_nsec = nanoseconds % 1_000_000_000;
            sqe->opcode = IoUring.IORING_OP_TIMEOUT;
            sqe->fd = -1;
            sqe->addr = (ulong)timespec;
            sqe->len = 1;
            engine.DescribeLastSqe(in IoOperations.TimeoutAsync_Readiness);
        }

        sqe->user_data = operation.UserData;
        return new IoHandle(operation.UserData);
    }

    public static bool Cancel(IoBackend engine, IoHandle handle)
    {
        io_uring_sqe* sqe = engine.NextSqe();
        sqe->opcode = IoUring.IORING_OP_ASYNC_CANCEL;
        sqe->fd = -1;
        sqe->addr = handle.UserData;
        sqe->user_data = IoUringBackend.InternalUserData;
        engine.DescribeLastSqe(in IoOperations.AsyncCancelAsync_Readiness);
        return true;
    }

    public static int Poll(IoBackend engine, TimeSpan? timeout, Span<IoCompletion> completions)
    {
        int count = Reap(engine, completions);
        if (count > 0 || completions.IsEmpty)
        {
            engine.Submit();
            return count + Reap(engine, completions[count..]);
        }

        long nanoseconds = timeout is null ? -1 : Math.Max(0, timeout.Value.Ticks * 100);
        if (nanoseconds == 0)
        {
            if (!engine.Submit() && !engine.HasCompletions)
            {
                return 0;
            }
        }
        else
        {
            engine.Wait(nanoseconds);
        }

        return Reap(engine, completions);
    }

    private static int Reap(IoBackend engine, Span<IoCompletion> completions)
    {
        int count = 0;
        while (count < completions.Length && engine.TryReap(out IoCompletion completion))
        {
            if (completion.UserData != IoUringBackend.InternalUserData)
            {
                completions[count++] = completion;
            }
        }

        return count;
    }
}
