namespace Miniss.IO;

/// <summary>
/// What an <see cref="IoOperation"/> does: the operations of the catalog (<see cref="IoOperations"/>) a backend runs
/// for a direct caller. Each completes with the kernel's result: a count of bytes, a new descriptor or 0 on success,
/// <c>-errno</c> on failure (<c>-ECANCELED</c> when cancelled).
/// </summary>
public enum IoOperationKind : byte
{
    /// <summary>Does nothing and completes with 0: measures the round trip through the backend.</summary>
    Nop,

    /// <summary>Completes after <see cref="IoOperation.Timeout"/> has passed with <c>-ETIME</c>, or earlier with
    /// <c>-ECANCELED</c> when cancelled.</summary>
    Timeout,

    /// <summary><c>pread</c>: reads into a buffer at an offset; completes with the bytes read (0 at end of file).</summary>
    Read,

    /// <summary><c>pwrite</c>: writes a buffer at an offset; completes with the bytes written (may be short).</summary>
    Write,

    /// <summary><c>preadv</c>: reads into an array of <c>iovec</c>s at an offset.</summary>
    ReadVector,

    /// <summary><c>pwritev</c>: writes an array of <c>iovec</c>s at an offset.</summary>
    WriteVector,

    /// <summary><c>fsync</c>: flushes a file's data and metadata to its device; completes with 0.</summary>
    Fsync,

    /// <summary><c>fdatasync</c>: flushes a file's data and the metadata needed to read it back; completes with 0.</summary>
    Fdatasync,

    /// <summary><c>fallocate</c>: allocates, punches or zeroes a range of a file; completes with 0.</summary>
    Fallocate,

    /// <summary><c>openat</c>: opens a path; completes with the new descriptor, which the caller owns.</summary>
    OpenAt,

    /// <summary><c>statx</c>: fills a <c>statx</c> record for a path or descriptor; completes with 0.</summary>
    Statx,

    /// <summary><c>close</c>: closes a descriptor; completes with 0.</summary>
    Close,

    /// <summary><c>accept4</c>: accepts a connection on a listening socket; completes with the new socket, which the caller owns.</summary>
    Accept,

    /// <summary><c>connect</c>: connects a socket to an address; completes with 0.</summary>
    Connect,

    /// <summary><c>recv</c>: receives into a buffer; completes with the bytes received (0 when the peer has shut down its side).</summary>
    Receive,

    /// <summary><c>send</c>: sends a buffer; completes with the bytes sent (may be short).</summary>
    Send,

    /// <summary><c>shutdown</c>: shuts down one or both directions of a socket; completes with 0.</summary>
    Shutdown,
}
