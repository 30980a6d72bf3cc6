namespace Miniss.Generators.Tests;

/// <summary>
/// The C# the tests hand to the generator: copies of the catalog attributes (the generator matches them by metadata
/// name, so a copy with the same names and shapes as <c>runtime/Miniss.Runtime/IO/Catalog/IoOperationAttribute.cs</c>
/// stands in for the runtime), a sample catalog with one operation per role, and stand-ins for the runtime members
/// the generated code calls.
/// </summary>
internal static class CatalogSources
{
    /// <summary>Copies of <c>Miniss.IO.Catalog</c>'s attributes and enums.</summary>
    public const string Attributes = """
        using System;

        namespace Miniss.IO.Catalog;

        [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
        internal sealed class IoOperationAttribute(int opcode) : Attribute
        {
            public int Opcode { get; } = opcode;
            public string Name { get; init; } = string.Empty;
            public IoResultKind Result { get; init; } = IoResultKind.Bytes;
            public IoDomain Domain { get; init; } = IoDomain.File;
            public ReadinessKind Readiness { get; init; } = ReadinessKind.None;
            public int ExpectedErrno { get; init; }
            public string? Syscall { get; init; }
            public ReadinessEffects Effects { get; init; }
            public ReadinessKind Stream { get; init; }
            public string? StreamSyscall { get; init; }
        }

        internal enum IoResultKind { Bytes, FileDescriptor, None }

        internal enum IoDomain { File, Socket }

        internal enum ReadinessKind { None, Read, Write, Blocking, Inline, Immediate, Timer, Cancel }

        [Flags]
        internal enum ReadinessEffects { None = 0, ForgetsDescriptor = 1, InProgressUntilWritable = 2, HangUpIsInvalid = 4, Internal = 8 }

        [AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
        internal sealed class ReadinessFlagsAttribute(string field, long flags) : Attribute
        {
            public string Field { get; } = field;
            public long Flags { get; } = flags;
        }

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class FdAttribute : Attribute;

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class BufferAttribute : Attribute;

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class PathAttribute : Attribute;

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class TimespecAttribute : Attribute;

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class SqeAttribute(string field) : Attribute
        {
            public string Field { get; } = field;
        }

        [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
        internal sealed class SqeOnlyAttribute : Attribute;

        [AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
        internal sealed class SqeValueAttribute(string field, long value) : Attribute
        {
            public string Field { get; } = field;
            public long Value { get; } = value;
        }
        """;

    /// <summary>
    /// A small catalog that uses every role: int and SafeHandle descriptors, both buffer types, a path, a timespec,
    /// SQE fields of several types (one SQE-only), fixed SQE values, an expected errno, <c>ValueTask</c> and
    /// <c>ValueTask&lt;int&gt;</c>, operations with a readiness path and without, one that streams, readiness flags and
    /// effects, and prepare-only operations.
    /// </summary>
    public const string SampleCatalog = """
        using System;
        using System.Runtime.InteropServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Miniss.Bindings.Linux;
        using Miniss.IO.Catalog;

        namespace Sample.IO;

        public static unsafe partial class SampleOperations
        {
            // No parameter and no Name: the name is the method's, the token is default; readiness backends complete it at once.
            [IoOperation(IoUring.IORING_OP_NOP, Readiness = ReadinessKind.Immediate)]
            public static partial ValueTask<int> NopAsync();

            // An int descriptor, a Memory<byte> buffer and a long SQE field; blocking readiness through pread, streaming through read.
            [IoOperation(IoUring.IORING_OP_READ, Name = "read", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pread), Stream = ReadinessKind.Read, StreamSyscall = nameof(Libc.read))]
            public static partial ValueTask<int> ReadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset, CancellationToken cancellationToken = default);

            // A SafeHandle descriptor, a ReadOnlyMemory<byte> buffer and an int SQE field, in the socket domain; flags a
            // readiness backend adds.
            [IoOperation(IoUring.IORING_OP_SEND, Name = "send", Domain = IoDomain.Socket, Readiness = ReadinessKind.Write, Syscall = nameof(Libc.send))]
            [ReadinessFlags("msg_flags", Sockets.MSG_DONTWAIT | Sockets.MSG_NOSIGNAL)]
            public static partial ValueTask<int> SendAsync([Fd] SafeHandle socket, [Buffer] ReadOnlyMemory<byte> buffer, [Sqe("msg_flags")] int flags, CancellationToken cancellationToken = default);

            // A path and a uint SQE field; completes with a new descriptor.
            [IoOperation(IoUring.IORING_OP_OPENAT, Name = "openat", Result = IoResultKind.FileDescriptor, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.openat))]
            public static partial ValueTask<int> OpenAtAsync([Fd] int directory, [Path] string path, [Sqe("open_flags")] int flags, [Sqe("len")] uint mode, CancellationToken cancellationToken = default);

            // nint, int, long and ushort SQE fields; the ushort is SQE-only, so pread gets four arguments.
            [IoOperation(IoUring.IORING_OP_READ_FIXED, Name = "read_fixed", Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.pread))]
            public static partial ValueTask<int> ReadFixedAsync([Fd] SafeHandle file, [Sqe("addr")] nint address, [Sqe("len")] int length, [Sqe("off")] long offset, [Sqe("buf_index"), SqeOnly] ushort bufferIndex, CancellationToken cancellationToken = default);

            // A pointer SQE field; no result (ValueTask); an effect on the readiness path.
            [IoOperation(IoUring.IORING_OP_CONNECT, Name = "connect", Result = IoResultKind.None, Domain = IoDomain.Socket, Readiness = ReadinessKind.Write, Syscall = nameof(Libc.connect), Effects = ReadinessEffects.InProgressUntilWritable)]
            public static partial ValueTask ConnectAsync([Fd] SafeHandle socket, [Sqe("addr")] sockaddr* address, [Sqe("off")] uint addressLength, CancellationToken cancellationToken = default);

            // A fixed SQE value; no result (ValueTask).
            [IoOperation(IoUring.IORING_OP_FSYNC, Name = "fdatasync", Result = IoResultKind.None, Readiness = ReadinessKind.Blocking, Syscall = nameof(Libc.fdatasync))]
            [SqeValue("fsync_flags", IoUring.IORING_FSYNC_DATASYNC)]
            public static partial ValueTask FdatasyncAsync([Fd] SafeHandle file, CancellationToken cancellationToken = default);

            // A timespec, an expected errno and two fixed SQE values; no system call: readiness backends time it themselves.
            [IoOperation(IoUring.IORING_OP_TIMEOUT, Name = "timeout", Result = IoResultKind.None, ExpectedErrno = Errno.ETIME, Readiness = ReadinessKind.Timer)]
            [SqeValue("len", 1)]
            [SqeValue("timeout_flags", 0)]
            public static partial ValueTask TimeoutAsync([Timespec] TimeSpan timeout, CancellationToken cancellationToken);

            // A C# keyword as a parameter name and a uint SQE field; no readiness path.
            [IoOperation(IoUring.IORING_OP_POLL_ADD, Name = "poll_add", Result = IoResultKind.None, Domain = IoDomain.Socket)]
            public static partial ValueTask<int> PollAsync([Fd] int fd, [Sqe("poll32_events")] uint @event, CancellationToken cancellationToken = default);

            // Prepare-only: fills in a given SQE, user_data included; a readiness path with combined effects.
            [IoOperation(IoUring.IORING_OP_READ, Name = "wake_read", Readiness = ReadinessKind.Read, Syscall = nameof(Libc.read), Effects = ReadinessEffects.Internal | ReadinessEffects.ForgetsDescriptor)]
            internal static partial void PrepareWakeRead(io_uring_sqe* sqe, [Fd] int fd, [Sqe("addr")] nint buffer, [Sqe("len")] uint length, [Sqe("user_data")] ulong userData);

            // Prepare-only without a readiness path, with fixed values that name their constants (a combination, a negative number).
            [IoOperation(IoUring.IORING_OP_ASYNC_CANCEL, Name = "cancel_all", Readiness = ReadinessKind.Cancel)]
            [SqeValue("fd", -1)]
            [SqeValue("cancel_flags", IoUring.IORING_ASYNC_CANCEL_ANY | IoUring.IORING_ASYNC_CANCEL_ALL)]
            internal static partial void PrepareCancelAll(io_uring_sqe* sqe);
        }
        """;

    /// <summary>An operation in a type of the global namespace, with other modifiers.</summary>
    public const string GlobalCatalog = """
        using System.Threading.Tasks;
        using Miniss.IO.Catalog;

        internal static partial class GlobalOperations
        {
            [IoOperation(0, Name = "nop")]
            internal static partial ValueTask NopAsync();
        }
        """;

    /// <summary>
    /// Stand-ins for the runtime members the generated code calls, with the signatures of
    /// <c>runtime/Miniss.Runtime/Shard.Io.cs</c> and <c>runtime/Miniss.Runtime/IO/IoPromise.cs</c>.
    /// </summary>
    public const string RuntimeStandIns = """
        using System;
        using System.Buffers;
        using System.Runtime.InteropServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Miniss.Bindings.Linux;
        using Miniss.IO;
        using Miniss.IO.Catalog;

        namespace Miniss
        {
            public sealed class Shard
            {
                internal static Shard CurrentForIo() => throw new InvalidOperationException();

                internal bool TryBeginIo(string operation, IoDomain domain, CancellationToken cancellationToken, out IoPromise promise, out ValueTask<int> early) =>
                    throw new InvalidOperationException();

                internal unsafe io_uring_sqe* NextSqe() => throw new InvalidOperationException();

                internal unsafe __kernel_timespec* TimespecOfLastSqe() => throw new InvalidOperationException();

                internal ValueTask<int> Launch(IoPromise promise, CancellationToken cancellationToken) =>
                    throw new InvalidOperationException();

                internal ValueTask LaunchUntyped(IoPromise promise, CancellationToken cancellationToken) =>
                    throw new InvalidOperationException();

                internal ValueTask<int> Launch(IoPromise promise, in ReadinessDescriptor readiness, CancellationToken cancellationToken) =>
                    throw new InvalidOperationException();

                internal ValueTask LaunchUntyped(IoPromise promise, in ReadinessDescriptor readiness, CancellationToken cancellationToken) =>
                    throw new InvalidOperationException();

                internal ValueTask<int> AbandonIo(IoPromise promise, Exception error) => throw new InvalidOperationException();
            }
        }

        namespace Miniss.IO.Catalog
        {
            internal readonly unsafe struct ReadinessDescriptor(
                ReadinessKind kind,
                delegate*<io_uring_sqe*, int> perform,
                ReadinessEffects effects,
                ReadinessKind stream,
                delegate*<io_uring_sqe*, int> performStream)
            {
                public readonly ReadinessKind Kind = kind;
                public readonly ReadinessEffects Effects = effects;
                public readonly ReadinessKind Stream = stream;
                public readonly delegate*<io_uring_sqe*, int> Perform = perform;
                public readonly delegate*<io_uring_sqe*, int> PerformStream = performStream;
            }
        }

        namespace Miniss.IO
        {
            internal sealed class IoPromise
            {
                public ulong UserData => throw new InvalidOperationException();

                public void ExpectErrno(int errno) => throw new InvalidOperationException();

                public void Hold(MemoryHandle pin) => throw new InvalidOperationException();

                public int HoldHandle(SafeHandle handle) => throw new InvalidOperationException();

                public unsafe byte* HoldPath(string path) => throw new InvalidOperationException();
            }
        }
        """;
}
