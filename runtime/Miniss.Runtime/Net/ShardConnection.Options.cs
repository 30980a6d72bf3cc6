using System.Net.Sockets;
using Miniss.Bindings.Linux;
using Miniss.Net.Internal;

namespace Miniss.Net;

// Socket options: plain getsockopt/setsockopt calls, from any thread.
public sealed partial class ShardConnection
{
    /// <summary>Whether Nagle's algorithm is off (<c>TCP_NODELAY</c>): small sends leave at once instead of waiting to
    /// be coalesced. TCP only. Any thread.</summary>
    /// <exception cref="SocketException">Not a TCP connection (<see cref="SocketError.OperationNotSupported"/>), or the
    /// kernel refused.</exception>
    /// <exception cref="System.ObjectDisposedException">The connection is disposed.</exception>
    public bool NoDelay
    {
        get => NativeSocket.GetOption(Handle, Sockets.IPPROTO_TCP, Sockets.TCP_NODELAY) != 0;
        set => NativeSocket.SetOption(Handle, Sockets.IPPROTO_TCP, Sockets.TCP_NODELAY, value ? 1 : 0);
    }

    /// <summary>The kernel's receive buffer for this socket, in bytes (<c>SO_RCVBUF</c>). Linux doubles the value set
    /// (for its bookkeeping) and reports the doubled value; it caps it at <c>net.core.rmem_max</c>. Any thread.</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    /// <exception cref="System.ObjectDisposedException">The connection is disposed.</exception>
    public int ReceiveBufferSize
    {
        get => NativeSocket.GetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_RCVBUF);
        set => NativeSocket.SetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_RCVBUF, value);
    }

    /// <summary>The kernel's send buffer for this socket, in bytes (<c>SO_SNDBUF</c>); doubled and capped
    /// (<c>net.core.wmem_max</c>) like <see cref="ReceiveBufferSize"/>. Any thread.</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    /// <exception cref="System.ObjectDisposedException">The connection is disposed.</exception>
    public int SendBufferSize
    {
        get => NativeSocket.GetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_SNDBUF);
        set => NativeSocket.SetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_SNDBUF, value);
    }

    /// <summary>Whether the kernel probes an idle connection (<c>SO_KEEPALIVE</c>). Any thread.</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    /// <exception cref="System.ObjectDisposedException">The connection is disposed.</exception>
    public bool KeepAlive
    {
        get => NativeSocket.GetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_KEEPALIVE) != 0;
        set => NativeSocket.SetOption(Handle, Sockets.SOL_SOCKET, Sockets.SO_KEEPALIVE, value ? 1 : 0);
    }

    /// <summary>What closing does with unsent data (<c>SO_LINGER</c>). Enabled with 0 seconds, the close resets the
    /// connection (see <see cref="Abort"/>). Any thread.</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    /// <exception cref="System.ObjectDisposedException">The connection is disposed.</exception>
    public LingerOption LingerState
    {
        get
        {
            (bool enabled, int seconds) = NativeSocket.GetLinger(Handle);
            return new LingerOption(enabled, seconds);
        }

        set
        {
            System.ArgumentNullException.ThrowIfNull(value);
            NativeSocket.SetLinger(Handle, value.Enabled, value.LingerTime);
        }
    }
}
