using System;
using System.IO;
using System.Net.Sockets;
using Miniss.Bindings.Linux;
using Miniss.Internal;
using Miniss.IO.Catalog;

namespace Miniss.IO;

/// <summary>Turns a failed operation's errno into the exception a .NET user expects, naming the errno, the operation
/// and, where known, the path. The errno is in <see cref="Exception.HResult"/> and in <c>Data["errno"]</c>.</summary>
internal static class IoErrors
{
    public static Exception Create(int errno, string operation, IoDomain domain, string? path)
    {
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
