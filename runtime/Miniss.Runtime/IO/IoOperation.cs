using System;

namespace Miniss.IO;

/// <summary>
/// One operation for an <see cref="IoBackend"/>: what to do, on which raw descriptor and native memory, and the
/// caller's <see cref="UserData"/>, which comes back unchanged in the operation's <see cref="IoCompletion"/>. A plain
/// value made by the static factories (one per <see cref="IoOperationKind"/>): building one allocates nothing.
/// </summary>
/// <remarks>
/// <para>Memory: buffers, <c>iovec</c> arrays, addresses and paths are given as native addresses (a pinned or native
/// buffer, say one from <see cref="Buffers.BufferPool"/>). The kernel, or a readiness backend's helper thread, uses
/// them until the operation's completion arrives, also when it is cancelled: the caller must keep them valid and
/// unmoved until then. Descriptors are raw numbers the caller owns; an operation does not keep one open.</para>
/// <para>Readiness backends (epoll, kqueue) run socket operations without blocking (they add <c>MSG_DONTWAIT</c>,
/// <c>MSG_NOSIGNAL</c> to sends and <c>SOCK_NONBLOCK</c> to accepted sockets, as io_uring behaves), and a socket given
/// to <see cref="Connect"/> should be non-blocking. They learn a descriptor's kind once: close descriptors used with
/// them through <see cref="Close"/>, so that the number, when the kernel reuses it, is learnt afresh.</para>
/// </remarks>
public readonly partial record struct IoOperation
{
    private IoOperation(IoOperationKind kind, ulong userData, int descriptor = -1, nint address = 0, uint length = 0, long offset = 0, int flags = 0)
    {
        Kind = kind;
        UserData = userData;
        Descriptor = descriptor;
        Address = address;
        Length = length;
        Offset = offset;
        Flags = flags;
    }

    /// <summary>What the operation does.</summary>
    public IoOperationKind Kind { get; }

    /// <summary>The caller's identifier for the operation, unique among its operations in flight; it names the
    /// operation to <see cref="IoBackend.Cancel"/>. The values with the top bit set are reserved for the backend's own
    /// requests (<see cref="IoBackend.Submit(in IoOperation)"/> refuses them).</summary>
    public ulong UserData { get; }

    /// <summary>The descriptor operated on (for <see cref="OpenAt"/> and <see cref="Statx"/> the directory a relative
    /// path starts from); -1 for none.</summary>
    public int Descriptor { get; }

    /// <summary>The native memory operated on: the buffer, the <c>iovec</c> array, the <c>sockaddr</c> or the path,
    /// as the factory's parameters say; 0 for none.</summary>
    public nint Address { get; }

    /// <summary>The buffer's length in bytes, the count of <c>iovec</c>s, the <c>sockaddr</c>'s length, the
    /// <c>fallocate</c> mode, the <c>openat</c> mode, the <c>statx</c> mask or the <c>shutdown</c> direction.</summary>
    public uint Length { get; }

    /// <summary>The file offset in bytes (-1: the file's position), the <c>fallocate</c> offset, the address of the
    /// accepted peer's address length, the <c>statx</c> record's address, or the timeout in 100 ns ticks.</summary>
    public long Offset { get; }

    /// <summary>The <c>MSG_*</c>, <c>SOCK_*</c> (accept), <c>O_*</c> (open) or <c>AT_*</c> (statx) flags.</summary>
    public int Flags { get; }

    /// <summary>For <see cref="IoOperationKind.Timeout"/>: how long to wait; otherwise zero.</summary>
    public TimeSpan Timeout => Kind == IoOperationKind.Timeout ? TimeSpan.FromTicks(Offset) : TimeSpan.Zero;

    /// <summary>A no-op that completes with 0.</summary>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Nop(ulong userData) => new(IoOperationKind.Nop, userData);

    /// <summary>An operation that completes after <paramref name="timeout"/> with <c>-ETIME</c> (a negative timeout
    /// counts as zero), or with <c>-ECANCELED</c> when cancelled first.</summary>
    /// <param name="timeout">How long to wait, to the nanosecond the backend's clock allows.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation TimeoutAfter(TimeSpan timeout, ulong userData) =>
        new(IoOperationKind.Timeout, userData, offset: Math.Max(0, timeout.Ticks));

    /// <summary>Reads up to <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="fd"/> into
    /// <paramref name="buffer"/> (<c>pread</c>); completes with the bytes read, 0 at end of file.</summary>
    /// <param name="fd">A file, pipe or socket descriptor the caller owns.</param>
    /// <param name="buffer">Native memory of at least <paramref name="length"/> bytes, valid until the completion arrives.</param>
    /// <param name="length">How many bytes to read at most.</param>
    /// <param name="offset">The file offset in bytes; -1 reads at the file's position and advances it.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static IoOperation Read(int fd, nint buffer, int length, long offset, ulong userData) =>
        new(IoOperationKind.Read, userData, fd, buffer, Count(length), offset);

    /// <summary>Writes <paramref name="length"/> bytes of <paramref name="buffer"/> at <paramref name="offset"/> of
    /// <paramref name="fd"/> (<c>pwrite</c>); completes with the bytes written, which may be fewer.</summary>
    /// <param name="fd">A file, pipe or socket descriptor the caller owns.</param>
    /// <param name="buffer">Native memory of at least <paramref name="length"/> bytes, valid until the completion arrives.</param>
    /// <param name="length">How many bytes to write.</param>
    /// <param name="offset">The file offset in bytes; -1 writes at the file's position and advances it.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static IoOperation Write(int fd, nint buffer, int length, long offset, ulong userData) =>
        new(IoOperationKind.Write, userData, fd, buffer, Count(length), offset);

    /// <summary>Reads up to <see cref="Buffers.BufferHandle.Size"/> bytes at <paramref name="offset"/> of
    /// <paramref name="fd"/> into a pool buffer (<c>pread</c>), as <see cref="Read(int, nint, int, long, ulong)"/>.</summary>
    /// <param name="fd">A file, pipe or socket descriptor the caller owns.</param>
    /// <param name="buffer">A buffer of a <see cref="Buffers.BufferPool"/>, not deallocated until the completion arrives.</param>
    /// <param name="offset">The file offset in bytes; -1 reads at the file's position and advances it.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or its pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is default.</exception>
    public static IoOperation Read(int fd, Buffers.BufferHandle buffer, long offset, ulong userData) =>
        Read(fd, buffer.Address, buffer.Size, offset, userData);

    /// <summary>Writes the <see cref="Buffers.BufferHandle.Size"/> bytes of a pool buffer at <paramref name="offset"/>
    /// of <paramref name="fd"/> (<c>pwrite</c>), as <see cref="Write(int, nint, int, long, ulong)"/>.</summary>
    /// <param name="fd">A file, pipe or socket descriptor the caller owns.</param>
    /// <param name="buffer">A buffer of a <see cref="Buffers.BufferPool"/>, not deallocated until the completion arrives.</param>
    /// <param name="offset">The file offset in bytes; -1 writes at the file's position and advances it.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or its pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is default.</exception>
    public static IoOperation Write(int fd, Buffers.BufferHandle buffer, long offset, ulong userData) =>
        Write(fd, buffer.Address, buffer.Size, offset, userData);

    /// <summary>Reads into the <paramref name="count"/> <c>iovec</c>s at <paramref name="iovecs"/> at
    /// <paramref name="offset"/> (<c>preadv</c>); completes with the bytes read.</summary>
    /// <param name="fd">A file descriptor the caller owns.</param>
    /// <param name="iovecs">Native memory holding <paramref name="count"/> <c>struct iovec</c>; the array and the
    /// buffers it points to stay valid until the completion arrives.</param>
    /// <param name="count">How many <c>iovec</c>s (at most <c>IOV_MAX</c>, 1024).</param>
    /// <param name="offset">The file offset in bytes; -1: the file's position.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static IoOperation ReadVector(int fd, nint iovecs, int count, long offset, ulong userData) =>
        new(IoOperationKind.ReadVector, userData, fd, iovecs, Count(count), offset);

    /// <summary>Writes the <paramref name="count"/> <c>iovec</c>s at <paramref name="iovecs"/> at
    /// <paramref name="offset"/> (<c>pwritev</c>); completes with the bytes written, which may be fewer.</summary>
    /// <param name="fd">A file descriptor the caller owns.</param>
    /// <param name="iovecs">Native memory holding <paramref name="count"/> <c>struct iovec</c>; the array and the
    /// buffers it points to stay valid until the completion arrives.</param>
    /// <param name="count">How many <c>iovec</c>s (at most <c>IOV_MAX</c>, 1024).</param>
    /// <param name="offset">The file offset in bytes; -1: the file's position.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static IoOperation WriteVector(int fd, nint iovecs, int count, long offset, ulong userData) =>
        new(IoOperationKind.WriteVector, userData, fd, iovecs, Count(count), offset);

    /// <summary>Flushes the data and metadata of <paramref name="fd"/> to its device (<c>fsync</c>); completes with 0.</summary>
    /// <param name="fd">A file descriptor the caller owns.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Fsync(int fd, ulong userData) => new(IoOperationKind.Fsync, userData, fd);

    /// <summary>Flushes the data of <paramref name="fd"/>, and only the metadata needed to read it back
    /// (<c>fdatasync</c>); completes with 0.</summary>
    /// <param name="fd">A file descriptor the caller owns.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Fdatasync(int fd, ulong userData) => new(IoOperationKind.Fdatasync, userData, fd);

    /// <summary>Allocates (or with <paramref name="mode"/> flags such as <c>FALLOC_FL_PUNCH_HOLE</c>, punches or
    /// zeroes) <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="fd"/> (<c>fallocate</c>);
    /// completes with 0.</summary>
    /// <param name="fd">A file descriptor the caller owns.</param>
    /// <param name="mode">The <c>FALLOC_FL_*</c> flags; 0 allocates.</param>
    /// <param name="offset">Where the range starts, in bytes.</param>
    /// <param name="length">The range's length in bytes.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Fallocate(int fd, int mode, long offset, long length, ulong userData) =>
        new(IoOperationKind.Fallocate, userData, fd, (nint)length, unchecked((uint)mode), offset);

    /// <summary>Opens <paramref name="path"/> relative to <paramref name="directory"/> (<c>openat</c>); completes with
    /// the new descriptor, which the caller owns.</summary>
    /// <param name="directory">The directory a relative path starts from; <c>AT_FDCWD</c> (-100): the working directory.</param>
    /// <param name="path">A null-terminated UTF-8 path in native memory, valid until the completion arrives.</param>
    /// <param name="flags">The <c>O_*</c> flags (<c>O_CLOEXEC</c> is advised).</param>
    /// <param name="mode">The permissions of a file <c>O_CREAT</c> makes.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation OpenAt(int directory, nint path, int flags, int mode, ulong userData) =>
        new(IoOperationKind.OpenAt, userData, directory, path, unchecked((uint)mode), 0, flags);

    /// <summary>Fills the <c>statx</c> record at <paramref name="record"/> for <paramref name="path"/> (<c>statx</c>);
    /// completes with 0.</summary>
    /// <param name="directory">The directory a relative path starts from, or the descriptor itself with an empty path
    /// and <c>AT_EMPTY_PATH</c>.</param>
    /// <param name="path">A null-terminated UTF-8 path in native memory, valid until the completion arrives.</param>
    /// <param name="flags">The <c>AT_*</c> flags.</param>
    /// <param name="mask">The <c>STATX_*</c> fields wanted.</param>
    /// <param name="record">Native memory for one <c>struct statx</c> (256 bytes), valid until the completion arrives.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Statx(int directory, nint path, int flags, int mask, nint record, ulong userData) =>
        new(IoOperationKind.Statx, userData, directory, path, unchecked((uint)mask), record, flags);

    /// <summary>Closes <paramref name="fd"/> (<c>close</c>); completes with 0. The descriptor is gone once submitted,
    /// whatever the result.</summary>
    /// <param name="fd">A descriptor the caller owns and gives up.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Close(int fd, ulong userData) => new(IoOperationKind.Close, userData, fd);

    /// <summary>Accepts a connection on the listening <paramref name="socket"/> (<c>accept4</c>); completes with the
    /// new socket, which the caller owns.</summary>
    /// <param name="socket">A listening socket the caller owns.</param>
    /// <param name="address">Native memory for the peer's <c>sockaddr</c>, or 0 not to learn it.</param>
    /// <param name="addressLength">Native memory holding a <c>socklen_t</c> with <paramref name="address"/>'s size, set
    /// to the address's length on completion; 0 when <paramref name="address"/> is.</param>
    /// <param name="flags">The <c>SOCK_*</c> flags of the new socket (<c>SOCK_CLOEXEC</c>, <c>SOCK_NONBLOCK</c>).</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Accept(int socket, nint address, nint addressLength, int flags, ulong userData) =>
        new(IoOperationKind.Accept, userData, socket, address, 0, addressLength, flags);

    /// <summary>Connects <paramref name="socket"/> to the <c>sockaddr</c> at <paramref name="address"/>
    /// (<c>connect</c>); completes with 0 once connected.</summary>
    /// <param name="socket">A socket the caller owns; non-blocking for readiness backends.</param>
    /// <param name="address">Native memory holding the <c>sockaddr</c>, valid until the completion arrives.</param>
    /// <param name="addressLength">The <c>sockaddr</c>'s length in bytes.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="addressLength"/> is negative.</exception>
    public static IoOperation Connect(int socket, nint address, int addressLength, ulong userData) =>
        new(IoOperationKind.Connect, userData, socket, address, 0, Count(addressLength));

    /// <summary>Receives up to <paramref name="length"/> bytes from <paramref name="socket"/> into
    /// <paramref name="buffer"/> (<c>recv</c>); completes with the bytes received, 0 when the peer has shut down its side.</summary>
    /// <param name="socket">A connected socket the caller owns.</param>
    /// <param name="buffer">Native memory of at least <paramref name="length"/> bytes, valid until the completion arrives.</param>
    /// <param name="length">How many bytes to receive at most.</param>
    /// <param name="flags">The <c>MSG_*</c> flags.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static IoOperation Receive(int socket, nint buffer, int length, int flags, ulong userData) =>
        new(IoOperationKind.Receive, userData, socket, buffer, Count(length), 0, flags);

    /// <summary>Sends <paramref name="length"/> bytes of <paramref name="buffer"/> on <paramref name="socket"/>
    /// (<c>send</c>); completes with the bytes sent, which may be fewer.</summary>
    /// <param name="socket">A connected socket the caller owns.</param>
    /// <param name="buffer">Native memory of at least <paramref name="length"/> bytes, valid until the completion arrives.</param>
    /// <param name="length">How many bytes to send.</param>
    /// <param name="flags">The <c>MSG_*</c> flags.</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static IoOperation Send(int socket, nint buffer, int length, int flags, ulong userData) =>
        new(IoOperationKind.Send, userData, socket, buffer, Count(length), 0, flags);

    /// <summary>Shuts down one or both directions of <paramref name="socket"/> (<c>shutdown</c>); completes with 0.</summary>
    /// <param name="socket">A connected socket the caller owns.</param>
    /// <param name="how"><c>SHUT_RD</c> (0), <c>SHUT_WR</c> (1) or <c>SHUT_RDWR</c> (2).</param>
    /// <param name="userData">The caller's identifier, below 2^63.</param>
    public static IoOperation Shutdown(int socket, int how, ulong userData) =>
        new(IoOperationKind.Shutdown, userData, socket, 0, unchecked((uint)how));

    private static uint Count(int value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, name);
        return (uint)value;
    }
}
