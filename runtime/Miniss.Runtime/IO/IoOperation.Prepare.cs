namespace Miniss.IO;

public readonly partial record struct IoOperation
{
    // The one place an IoOperation becomes an operation record: each kind calls the generated prepare function of its
    // catalog operation in IoOperations (XxxAsync_Prepare, the SQE writer the awaitable calls too) and hands a
    // readiness backend that operation's generated readiness path (XxxAsync_Readiness), so every engine runs it exactly
    // as it runs the catalog's.

    /// <summary>Writes this operation into the next record of <paramref name="backend"/>.</summary>
    internal unsafe void Prepare(IoBackend backend)
    {
        switch (Kind)
        {
            case IoOperationKind.Nop:
                IoOperations.NopAsync_Prepare(backend.NextSqe(), UserData);
                backend.DescribeLastSqe(in IoOperations.NopAsync_Readiness);
                return;
            case IoOperationKind.Timeout:
                // The timespec is taken after the record: it lives as long as the record just taken.
                IoOperations.TimeoutAsync_Prepare(backend.NextSqe(), UserData, Timeout, backend.TimespecOfLastSqe());
                backend.DescribeLastSqe(in IoOperations.TimeoutAsync_Readiness);
                return;
            case IoOperationKind.Read:
                IoOperations.ReadAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Length, Offset);
                backend.DescribeLastSqe(in IoOperations.ReadAsync_Readiness);
                return;
            case IoOperationKind.Write:
                IoOperations.WriteAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Length, Offset);
                backend.DescribeLastSqe(in IoOperations.WriteAsync_Readiness);
                return;
            case IoOperationKind.ReadVector:
                IoOperations.ReadVectorAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, unchecked((int)Length), Offset);
                backend.DescribeLastSqe(in IoOperations.ReadVectorAsync_Readiness);
                return;
            case IoOperationKind.WriteVector:
                IoOperations.WriteVectorAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, unchecked((int)Length), Offset);
                backend.DescribeLastSqe(in IoOperations.WriteVectorAsync_Readiness);
                return;
            case IoOperationKind.Fsync:
                IoOperations.FsyncAsync_Prepare(backend.NextSqe(), UserData, Descriptor);
                backend.DescribeLastSqe(in IoOperations.FsyncAsync_Readiness);
                return;
            case IoOperationKind.Fdatasync:
                IoOperations.FdatasyncAsync_Prepare(backend.NextSqe(), UserData, Descriptor);
                backend.DescribeLastSqe(in IoOperations.FdatasyncAsync_Readiness);
                return;
            case IoOperationKind.Fallocate:
                IoOperations.FallocateAsync_Prepare(backend.NextSqe(), UserData, Descriptor, unchecked((int)Length), Offset, Address);
                backend.DescribeLastSqe(in IoOperations.FallocateAsync_Readiness);
                return;
            case IoOperationKind.OpenAt:
                IoOperations.OpenAtAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Flags, unchecked((int)Length));
                backend.DescribeLastSqe(in IoOperations.OpenAtAsync_Readiness);
                return;
            case IoOperationKind.Statx:
                IoOperations.StatxAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Flags, unchecked((int)Length), unchecked((nint)Offset));
                backend.DescribeLastSqe(in IoOperations.StatxAsync_Readiness);
                return;
            case IoOperationKind.Close:
                IoOperations.CloseAsync_Prepare(backend.NextSqe(), UserData, Descriptor);
                backend.DescribeLastSqe(in IoOperations.CloseAsync_Readiness);
                return;
            case IoOperationKind.Accept:
                IoOperations.AcceptAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, unchecked((nint)Offset), Flags);
                backend.DescribeLastSqe(in IoOperations.AcceptAsync_Readiness);
                return;
            case IoOperationKind.Connect:
                IoOperations.ConnectAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, unchecked((int)Offset));
                backend.DescribeLastSqe(in IoOperations.ConnectAsync_Readiness);
                return;
            case IoOperationKind.Receive:
                IoOperations.ReceiveAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Length, Flags);
                backend.DescribeLastSqe(in IoOperations.ReceiveAsync_Readiness);
                return;
            case IoOperationKind.Send:
                IoOperations.SendAsync_Prepare(backend.NextSqe(), UserData, Descriptor, Address, Length, Flags);
                backend.DescribeLastSqe(in IoOperations.SendAsync_Readiness);
                return;
            case IoOperationKind.Shutdown:
                IoOperations.ShutdownAsync_Prepare(backend.NextSqe(), UserData, Descriptor, unchecked((int)Length));
                backend.DescribeLastSqe(in IoOperations.ShutdownAsync_Readiness);
                return;
            default:
                // Unreachable: only the factories make operations, and default(IoOperation) is a Nop.
                IoOperations.NopAsync_Prepare(backend.NextSqe(), UserData);
                return;
        }
    }
}
