using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.Internal;
using Miniss.IO.Catalog;

namespace Miniss.IO;

/// <summary>Turns a failed operation's errno into the exception a .NET user expects, naming the errno, the operation
/// and, where known, the path. The errno is in <see cref="Exception.HResult"/> and in <c>Data["errno"]</c>.</summary>
internal static class IoErrors
{
    /// <summary>
    /// Builds one error of each kind once, so that every type and table the error paths use is loaded before the
    /// process can run out of descriptors: loading an assembly opens a file, and an accept that failed with EMFILE must
    /// still be reported, not turn into a second failure inside the failure (which the .NET runtime cannot survive).
    /// Called when a runtime starts; cheap and idempotent.
    /// </summary>
    public static void Prepare()
    {
        // Not EMFILE or ENFILE themselves: those give the descriptor reserve back.
        _ = Create(Errno.ENOBUFS, "accept", IoDomain.Socket, null);
        _ = Create(Errno.ENOENT, "openat", IoDomain.File, "/");
        _ = Create(Errno.ENOTDIR, "openat", IoDomain.File, null);
        _ = Create(Errno.EACCES, "openat", IoDomain.File, null);
        _ = Create(Errno.ENOSPC, "write", IoDomain.File, null);
        _ = Create(Errno.ECANCELED, "read", IoDomain.File, null);
        try
        {
            // The first throw on a thread prepares the exception machinery; do it here rather than under exhaustion.
            throw Create(Errno.ECONNRESET, "recv", IoDomain.Socket, null);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>An <see cref="OperationCanceledException"/> like <paramref name="cancelled"/> (its message and data) that
    /// carries <paramref name="token"/>, the token that cancelled the operation.</summary>
    public static OperationCanceledException Canceled(Exception cancelled, CancellationToken token)
    {
        var error = new OperationCanceledException(cancelled.Message, token) { HResult = cancelled.HResult };
        foreach (System.Collections.DictionaryEntry entry in cancelled.Data)
        {
            error.Data[entry.Key] = entry.Value;
        }

        return error;
    }

    public static Exception Create(int errno, string operation, IoDomain domain, string? path)
    {
        if (errno is Errno.EMFILE or Errno.ENFILE)
        {
            // Out of descriptors: give the reserve back at once, before anything else needs one.
            DescriptorReserve.Release();
        }

        string where = path is null ? string.Empty : $" '{path}'";
        string message = $"{operation}{where} failed: {ErrnoNames.Describe(errno)}";
        Exception error = errno switch
        {
            Errno.ECANCELED => new OperationCanceledException($"{operation}{where} was cancelled."),
            _ when domain == IoDomain.Socket => new SocketException((int)SocketErrors.FromErrno(errno), message),
            Errno.ENOENT when path is not null => new FileNotFoundException(message, path),
            Errno.ENOTDIR => new DirectoryNotFoundException(message),
            // As .NET's own file APIs do: EBADF is what writing through a read-only descriptor gives.
            Errno.EACCES or Errno.EPERM or Errno.EBADF => new UnauthorizedAccessException(message),
            _ => new IOException(message, errno),
        };

        if (error is not IOException)
        {
            error.HResult = errno;
        }

        error.Data["errno"] = errno;
        error.Data["errno.name"] = ErrnoNames.Of(errno);
        error.Data["operation"] = operation;
        return error;
    }
}
