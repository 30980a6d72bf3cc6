using System;

namespace Miniss.IO.Catalog;

/// <summary>
/// Declares an I/O operation once, on a <c>static partial</c> method without a body: its io_uring opcode, how its
/// result reads, and how a readiness backend performs it. Miniss.Generators writes the body (SQE preparation,
/// completion mapping, cancellation) and the readiness path from this declaration and the parameters' attributes.
/// A method that returns <c>void</c> and takes an <c>io_uring_sqe*</c> first is prepare-only: it is generated as
/// the function that fills in that SQE (for the runtime's own operations, whose completions it routes itself);
/// its other parameters are <c>[Fd] int</c> and <c>[Sqe]</c> fields only, <c>user_data</c> among them if wanted.
/// </summary>
/// <param name="opcode">The <c>IORING_OP_*</c> value.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
internal sealed class IoOperationAttribute(int opcode) : Attribute
{
    /// <summary>The <c>IORING_OP_*</c> value.</summary>
    public int Opcode { get; } = opcode;

    /// <summary>The operation's name in errors (<c>read</c>, <c>openat</c>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>How a non-negative result reads.</summary>
    public IoResultKind Result { get; init; } = IoResultKind.Bytes;

    /// <summary>Which exceptions a failure becomes: <see cref="System.IO.IOException"/> and its kin, or <see cref="System.Net.Sockets.SocketException"/>.</summary>
    public IoDomain Domain { get; init; } = IoDomain.File;

    /// <summary>How a readiness backend (epoll, kqueue) performs the operation.</summary>
    public ReadinessKind Readiness { get; init; } = ReadinessKind.None;

    /// <summary>An errno that means success for this operation (a timeout's <c>ETIME</c>): its completion reports 0.</summary>
    public int ExpectedErrno { get; init; }

    /// <summary>The libc function a readiness backend calls (a member of <c>Miniss.Bindings.Linux.Libc</c>). Its
    /// arguments are the method's parameters in order, a buffer counting as (pointer, length), minus those marked
    /// <see cref="SqeOnlyAttribute"/>.</summary>
    public string? Syscall { get; init; }

    /// <summary>What the operation does to a readiness backend's knowledge of its descriptor, and how its outcome is
    /// read there (see <see cref="ReadinessEffects"/>).</summary>
    public ReadinessEffects Effects { get; init; }

    /// <summary>For a <see cref="ReadinessKind.Blocking"/> operation that may stream: the direction it waits for when
    /// its descriptor can be waited for (a pipe, socket, eventfd or terminal), where it calls <see cref="StreamSyscall"/>
    /// instead of <see cref="Syscall"/>. <see cref="ReadinessKind.None"/>: it never streams.</summary>
    public ReadinessKind Stream { get; init; }

    /// <summary>The libc function of the streaming path (<c>read</c> for <c>pread</c>): it takes the leading arguments of
    /// <see cref="Syscall"/>, without the offset. Also called on the helper pool for an operation at the file position
    /// (offset -1).</summary>
    public string? StreamSyscall { get; init; }
}

/// <summary>How a completed operation's non-negative result reads.</summary>
internal enum IoResultKind
{
    /// <summary>Bytes transferred.</summary>
    Bytes,

    /// <summary>A new file descriptor.</summary>
    FileDescriptor,

    /// <summary>Nothing (0 on success).</summary>
    None,
}

/// <summary>The family of exceptions a failed operation raises.</summary>
internal enum IoDomain
{
    /// <summary>Files and everything else: <see cref="System.IO.IOException"/>, <see cref="System.IO.FileNotFoundException"/>, <see cref="UnauthorizedAccessException"/>.</summary>
    File,

    /// <summary>Sockets: <see cref="System.Net.Sockets.SocketException"/>.</summary>
    Socket,
}

/// <summary>How a readiness backend performs an operation.</summary>
internal enum ReadinessKind
{
    /// <summary>A readiness backend does not run it: it completes with <c>-EOPNOTSUPP</c> (multishot operations,
    /// which the shard issues on io_uring only).</summary>
    None,

    /// <summary>Wait until the descriptor is readable, then call the syscall (sockets).</summary>
    Read,

    /// <summary>Wait until the descriptor is writable, then call the syscall (sockets, connect).</summary>
    Write,

    /// <summary>Regular files are always "ready": call the syscall on the helper pool, off the shard's thread.</summary>
    Blocking,

    /// <summary>Never blocks: call the syscall on the shard's thread when the operation is handed over (shutdown).</summary>
    Inline,

    /// <summary>Complete with 0 when handed over, without a system call (a no-op).</summary>
    Immediate,

    /// <summary>Complete with <c>-ETIME</c> once the <c>__kernel_timespec</c> at <c>sqe->addr</c> has passed, unless
    /// cancelled first (a timeout).</summary>
    Timer,

    /// <summary>Cancel the operation whose user data is <c>sqe->addr</c> (every one with <c>IORING_ASYNC_CANCEL_ANY</c>
    /// in <c>sqe->cancel_flags</c>), as io_uring's asynchronous cancel does.</summary>
    Cancel,
}

/// <summary>What an operation means to a readiness backend beyond its system call.</summary>
[Flags]
internal enum ReadinessEffects
{
    /// <summary>Nothing more.</summary>
    None = 0,

    /// <summary>Success closes the descriptor: the backend forgets it (its number may name another file next).</summary>
    ForgetsDescriptor = 1,

    /// <summary><c>-EINPROGRESS</c> means the operation goes on: it completes when the descriptor becomes writable,
    /// with the outcome <c>SO_ERROR</c> holds (a non-blocking connect).</summary>
    InProgressUntilWritable = 2,

    /// <summary><c>-EAGAIN</c> on a hung-up descriptor is <c>-EINVAL</c>: a listening socket that was shut down keeps
    /// answering <c>EAGAIN</c> and would never see another edge (accept; io_uring and TCP say <c>EINVAL</c>).</summary>
    HangUpIsInvalid = 4,

    /// <summary>The shard's own wait (its wake-up read): it does not keep the idle shard from spinning, which sees
    /// wake-ups in shared memory anyway.</summary>
    Internal = 8,
}

/// <summary>The parameter is the operation's file descriptor (<c>sqe->fd</c>): an <see cref="int"/>, or a
/// <see cref="System.Runtime.InteropServices.SafeHandle"/> kept referenced until the kernel's completion.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class FdAttribute : Attribute;

/// <summary>The parameter is the operation's buffer (<c>Memory&lt;byte&gt;</c> or <c>ReadOnlyMemory&lt;byte&gt;</c>): pinned
/// until the kernel's completion, its address in <c>sqe->addr</c> and its length in <c>sqe->len</c>.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class BufferAttribute : Attribute;

/// <summary>The parameter is a path (<see cref="string"/>), passed as NUL-terminated UTF-8 in <c>sqe->addr</c> and kept
/// until the kernel's completion.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class PathAttribute : Attribute;

/// <summary>The parameter is a timeout (<see cref="TimeSpan"/>), written as a <c>__kernel_timespec</c> that lives as
/// long as the SQE, its address in <c>sqe->addr</c>.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class TimespecAttribute : Attribute;

/// <summary>The parameter goes into the named field of the SQE (<c>off</c>, <c>len</c>, <c>rw_flags</c>...), converted
/// to the field's type.</summary>
/// <param name="field">The <c>io_uring_sqe</c> field.</param>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class SqeAttribute(string field) : Attribute
{
    /// <summary>The <c>io_uring_sqe</c> field.</summary>
    public string Field { get; } = field;
}

/// <summary>The parameter is for the SQE only; the readiness path's syscall does not take it.</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
internal sealed class SqeOnlyAttribute : Attribute;

/// <summary>A fixed value for an SQE field of every instance of the operation (<c>fsync_flags = IORING_FSYNC_DATASYNC</c>).</summary>
/// <param name="field">The <c>io_uring_sqe</c> field.</param>
/// <param name="value">Its value.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
internal sealed class SqeValueAttribute(string field, long value) : Attribute
{
    /// <summary>The <c>io_uring_sqe</c> field.</summary>
    public string Field { get; } = field;

    /// <summary>Its value.</summary>
    public long Value { get; } = value;
}

/// <summary>A flag a readiness backend adds to an SQE field before it makes the system call, since its descriptors
/// must never block the shard and a vanished peer must not raise a signal (<c>MSG_DONTWAIT</c>, <c>MSG_NOSIGNAL</c>,
/// <c>SOCK_NONBLOCK</c>). io_uring needs neither.</summary>
/// <param name="field">The <c>io_uring_sqe</c> field, passed to the system call.</param>
/// <param name="flags">The flags to add.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
internal sealed class ReadinessFlagsAttribute(string field, long flags) : Attribute
{
    /// <summary>The <c>io_uring_sqe</c> field.</summary>
    public string Field { get; } = field;

    /// <summary>The flags to add.</summary>
    public long Flags { get; } = flags;
}
