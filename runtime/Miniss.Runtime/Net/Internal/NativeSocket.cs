using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Catalog;

namespace Miniss.Net.Internal;

/// <summary>
/// The synchronous socket calls (<c>socket</c>, <c>bind</c>, <c>listen</c>, options, names, <c>shutdown</c>): none of
/// them waits on the network, so they run on the calling thread instead of the ring. Failures become the
/// <see cref="SocketException"/> the ring's operations raise for the same errno.
/// </summary>
internal static unsafe class NativeSocket
{
    // <netinet/tcp.h>: the TCP_INFO option and where struct tcp_info keeps tcpi_last_data_recv (__u32, ms). The
    // buffer is larger than today's struct, which the kernel truncates to the length given.
    private const int TCP_INFO = 11;
    private const int TcpInfoLastDataReceived = 52;
    private const int TcpInfoSize = 256;

    /// <summary>A new stream socket of <paramref name="family"/>, close-on-exec; blocking unless <paramref name="nonBlocking"/>.
    /// io_uring polls blocking sockets itself (and hands <c>EINPROGRESS</c> back for a connect on a non-blocking one);
    /// readiness backends need non-blocking sockets, whose operations they try and retry on each edge.</summary>
    public static FileDescriptorHandle Create(AddressFamily family, bool nonBlocking)
    {
        int protocol = family == AddressFamily.Unix ? 0 : Sockets.IPPROTO_TCP;
        int type = Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC | (nonBlocking ? Sockets.SOCK_NONBLOCK : 0);
        int fd = Libc.socket(SocketAddressCodec.NativeFamily(family), type, protocol);
        if (fd < 0)
        {
            throw LastError("socket");
        }

        return new FileDescriptorHandle(fd);
    }

    public static void Bind(SafeHandle socket, EndPoint endPoint)
    {
        byte* address = stackalloc byte[SocketAddressCodec.MaxSize];
        int length = SocketAddressCodec.Write(endPoint, address);
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.bind(fd.Value, (sockaddr*)address, (uint)length);
        }

        if (result != 0)
        {
            throw LastError("bind", endPoint);
        }
    }

    public static void Listen(SafeHandle socket, int backlog)
    {
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.listen(fd.Value, backlog);
        }

        if (result != 0)
        {
            throw LastError("listen");
        }
    }

    public static void SetOption(SafeHandle socket, int level, int name, int value)
    {
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.setsockopt(fd.Value, level, name, &value, sizeof(int));
        }

        if (result != 0)
        {
            throw LastError("setsockopt");
        }
    }

    public static int GetOption(SafeHandle socket, int level, int name)
    {
        int value = 0;
        uint length = sizeof(int);
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.getsockopt(fd.Value, level, name, &value, &length);
        }

        return result == 0 ? value : throw LastError("getsockopt");
    }

    /// <summary>Makes the eventual close of descriptor <paramref name="fd"/> a reset (SO_LINGER 0), for a socket whose
    /// handle is already disposed but still held by an operation; a failure is ignored (the close stays a FIN).</summary>
    public static void ResetOnClose(int fd)
    {
        linger value = new() { l_onoff = 1, l_linger = 0 };
        _ = Libc.setsockopt(fd, Sockets.SOL_SOCKET, Sockets.SO_LINGER, &value, (uint)sizeof(linger));
    }

    public static void SetLinger(SafeHandle socket, bool enabled, int seconds)
    {
        linger value = new() { l_onoff = enabled ? 1 : 0, l_linger = seconds };
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.setsockopt(fd.Value, Sockets.SOL_SOCKET, Sockets.SO_LINGER, &value, (uint)sizeof(linger));
        }

        if (result != 0)
        {
            throw LastError("setsockopt");
        }
    }

    public static (bool Enabled, int Seconds) GetLinger(SafeHandle socket)
    {
        linger value = default;
        uint length = (uint)sizeof(linger);
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.getsockopt(fd.Value, Sockets.SOL_SOCKET, Sockets.SO_LINGER, &value, &length);
        }

        return result == 0 ? (value.l_onoff != 0, value.l_linger) : throw LastError("getsockopt");
    }

    /// <summary>The socket's own address (<c>getsockname</c>).</summary>
    public static EndPoint? LocalEndPoint(SafeHandle socket)
    {
        byte* address = stackalloc byte[SocketAddressCodec.MaxSize];
        uint length = SocketAddressCodec.MaxSize;
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.getsockname(fd.Value, (sockaddr*)address, &length);
        }

        return result == 0 ? SocketAddressCodec.Read(address, (int)length) : throw LastError("getsockname");
    }

    /// <summary>The peer's address (<c>getpeername</c>); <see langword="null"/> when it is no longer connected.</summary>
    public static EndPoint? RemoteEndPoint(SafeHandle socket)
    {
        byte* address = stackalloc byte[SocketAddressCodec.MaxSize];
        uint length = SocketAddressCodec.MaxSize;
        int result;
        using (var fd = new Descriptor(socket))
        {
            result = Libc.getpeername(fd.Value, (sockaddr*)address, &length);
        }

        return result == 0 ? SocketAddressCodec.Read(address, (int)length) : null;
    }

    /// <summary>How long ago a TCP socket last received data, in milliseconds, as the kernel measures it
    /// (<c>TCP_INFO</c>'s <c>tcpi_last_data_recv</c>: since the handshake when nothing arrived yet); false when the
    /// socket is not TCP or is closed.</summary>
    public static bool TryGetTimeSinceLastReceive(SafeHandle socket, out uint milliseconds)
    {
        byte* info = stackalloc byte[TcpInfoSize];
        uint length = TcpInfoSize;
        milliseconds = 0;
        int result;
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            result = Libc.getsockopt((int)socket.DangerousGetHandle(), Sockets.IPPROTO_TCP, TCP_INFO, info, &length);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }

        if (result != 0 || length < TcpInfoLastDataReceived + sizeof(uint))
        {
            return false;
        }

        milliseconds = *(uint*)(info + TcpInfoLastDataReceived);
        return true;
    }

    /// <summary>
    /// Whether a listener of another process (or a socket this process's Miniss listeners do not own) holds
    /// <paramref name="endPoint"/>: a probe socket binds it with <c>SO_REUSEADDR</c> and without <c>SO_REUSEPORT</c>,
    /// which the kernel refuses (<c>EADDRINUSE</c>) while any socket listens there, whatever its own options, and
    /// allows over connections in TIME_WAIT. Other failures are left to the real bind to report.
    /// </summary>
    public static bool IsAddressTaken(EndPoint endPoint, bool? dualMode)
    {
        AddressFamily family = SocketAddressCodec.FamilyOf(endPoint);
        int fd = Libc.socket(SocketAddressCodec.NativeFamily(family), Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, Sockets.IPPROTO_TCP);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            int on = 1;
            _ = Libc.setsockopt(fd, Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR, &on, sizeof(int));
            if (family == AddressFamily.InterNetworkV6 && dualMode is bool dual)
            {
                int v6Only = dual ? 0 : 1;
                _ = Libc.setsockopt(fd, Sockets.IPPROTO_IPV6, Sockets.IPV6_V6ONLY, &v6Only, sizeof(int));
            }

            byte* address = stackalloc byte[SocketAddressCodec.MaxSize];
            int addressLength = SocketAddressCodec.Write(endPoint, address);
            return Libc.bind(fd, (sockaddr*)address, (uint)addressLength) != 0 && Marshal.GetLastPInvokeError() == Errno.EADDRINUSE;
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    /// <summary><c>shutdown</c>, ignoring failures (a socket already reset or never connected): used to wake the
    /// operations still waiting on a socket being closed.</summary>
    public static void TryShutdown(SafeHandle socket, int how)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            _ = Libc.shutdown((int)socket.DangerousGetHandle(), how);
        }
        catch (ObjectDisposedException)
        {
            // Closed already: nothing can be waiting on it.
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>The exception for the errno of the last failed call.</summary>
    public static Exception LastError(string operation, EndPoint? endPoint = null) =>
        Error(Marshal.GetLastPInvokeError(), endPoint is null ? operation : $"{operation} {endPoint}");

    /// <summary>The exception a socket operation named <paramref name="operation"/> raises for <paramref name="errno"/>.</summary>
    public static Exception Error(int errno, string operation) => IoErrors.Create(errno, operation, IoDomain.Socket, null);

    /// <summary>Keeps a handle's descriptor from being closed (and its number reused) during one system call.</summary>
    private readonly ref struct Descriptor
    {
        private readonly SafeHandle _handle;

        public Descriptor(SafeHandle handle)
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            _handle = handle;
            Value = (int)handle.DangerousGetHandle();
        }

        public int Value { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}
