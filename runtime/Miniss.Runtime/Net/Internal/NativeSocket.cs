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
