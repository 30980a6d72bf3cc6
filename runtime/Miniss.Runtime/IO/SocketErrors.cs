using System.Net.Sockets;
using Miniss.Bindings.Linux;

namespace Miniss.IO;

/// <summary>The <see cref="SocketError"/> a Linux errno stands for, as .NET's own sockets report it.</summary>
internal static class SocketErrors
{
    public static SocketError FromErrno(int errno) => errno switch
    {
        Errno.ECONNREFUSED => SocketError.ConnectionRefused,
        Errno.ECONNRESET => SocketError.ConnectionReset,
        Errno.ECONNABORTED => SocketError.ConnectionAborted,
        Errno.ETIMEDOUT => SocketError.TimedOut,
        Errno.EADDRINUSE => SocketError.AddressAlreadyInUse,
        Errno.EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        Errno.ENETUNREACH => SocketError.NetworkUnreachable,
        Errno.ENETDOWN => SocketError.NetworkDown,
        Errno.ENETRESET => SocketError.NetworkReset,
        Errno.EHOSTUNREACH => SocketError.HostUnreachable,
        Errno.EHOSTDOWN => SocketError.HostDown,
        Errno.ENOTCONN => SocketError.NotConnected,
        Errno.EISCONN => SocketError.IsConnected,
        Errno.EPIPE or Errno.ESHUTDOWN => SocketError.Shutdown,
        Errno.EAGAIN => SocketError.WouldBlock,
        Errno.EINPROGRESS => SocketError.InProgress,
        Errno.EALREADY => SocketError.AlreadyInProgress,
        Errno.EINTR => SocketError.Interrupted,
        Errno.EMSGSIZE => SocketError.MessageSize,
        Errno.ENOBUFS or Errno.ENOMEM => SocketError.NoBufferSpaceAvailable,
        Errno.EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        Errno.EPROTONOSUPPORT => SocketError.ProtocolNotSupported,
        Errno.EOPNOTSUPP => SocketError.OperationNotSupported,
        Errno.ENOTSOCK => SocketError.NotSocket,
        Errno.EBADF => SocketError.OperationAborted,
        Errno.EINVAL => SocketError.InvalidArgument,
        Errno.EACCES or Errno.EPERM => SocketError.AccessDenied,
        Errno.EMFILE or Errno.ENFILE => SocketError.TooManyOpenSockets,
        Errno.ECANCELED => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };
}
