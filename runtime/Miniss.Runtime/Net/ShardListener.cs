using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.Net.Internal;

namespace Miniss.Net;

/// <summary>
/// A listening socket (TCP over IPv4 or IPv6, or a Unix domain socket) that accepts connections on the io_uring ring
/// of the calling shard: a <see cref="TcpListener"/> for Miniss. With <see cref="ListenerOptions.ReusePort"/> (the
/// default) every shard binds its own listener to the same address and the kernel spreads the incoming connections
/// over them, so each shard accepts, and serves, its own; <see cref="ShardServer"/> does that for all shards at once.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> <see cref="Bind"/>, <see cref="LocalEndPoint"/> and <see cref="Dispose"/> work from any thread.
/// <see cref="AcceptAsync"/> must be called on a shard: the accepted connection belongs to that shard.</para>
/// <para><b>Accepting.</b> On the first shard that accepts, when its kernel supports it, one multishot accept
/// (<c>IORING_OP_ACCEPT</c> with <c>IORING_ACCEPT_MULTISHOT</c>) stays armed and queues the connections it accepts (up
/// to 128) until accepts take them; accepts on other shards take their connections from it too (the connection
/// crosses to the accepting shard), so an accept pending anywhere completes while a connection waits. Without
/// multishot accepts, single-shot accepts (one <c>IORING_OP_ACCEPT</c> per connection) on every shard. Several
/// accepts may be pending at once, on one shard or several.</para>
/// <para><b>Closing.</b> Disposing the listener stops it: the kernel drops connections not yet accepted and accepts
/// still pending complete with a <see cref="SocketException"/> of <see cref="SocketError.OperationAborted"/>; connections
/// accepted by the multishot accept and not taken yet are closed. A Unix
/// domain listener deletes its socket file.</para>
/// </remarks>
public sealed class ShardListener : IDisposable, IAsyncDisposable
{
    // The TCP endpoints that listeners of this process bind with SO_REUSEPORT, and how many hold each: another listener
    // of this process joins them without the probe. Also the lock that makes probe, bind and count one step.
    private static readonly Dictionary<IPEndPoint, int> s_ownPorts = [];

    private readonly bool _noDelay;
    private readonly string? _unixPath;
    private IPEndPoint? _ownPort;
    private MultishotAcceptor? _multishot;
    private int _disposed;

    private ShardListener(FileDescriptorHandle handle, AddressFamily family, EndPoint localEndPoint, bool noDelay, string? unixPath)
    {
        Handle = handle;
        AddressFamily = family;
        LocalEndPoint = localEndPoint;
        _noDelay = noDelay;
        _unixPath = unixPath;
    }

    /// <summary>The listening socket's descriptor, owned by this listener.</summary>
    public FileDescriptorHandle Handle { get; }

    /// <summary>The address family of the socket.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>The address the listener is bound to, with the port the kernel chose when port 0 was asked for.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Creates a socket, applies <paramref name="options"/>, binds it to <paramref name="endPoint"/> and listens.
    /// Any thread (no operation goes through a ring).
    /// </summary>
    /// <remarks>With <see cref="ListenerOptions.ReusePort"/>, listeners of this process share a TCP endpoint (one per
    /// shard); a fixed port that none of them holds yet is first checked for listeners of other processes, which
    /// <c>SO_REUSEPORT</c> would otherwise join silently, splitting the clients between the processes. Port 0 is not
    /// checked (the kernel picks a free port).</remarks>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0: the kernel chooses) or a
    /// <see cref="UnixDomainSocketEndPoint"/> (its file must not exist yet).</param>
    /// <param name="options">How to bind and listen; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentException">An endpoint of another kind.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListenerOptions.Backlog"/> is negative.</exception>
    /// <exception cref="SocketException">The address is taken or the kernel refused: <see cref="SocketError.AddressAlreadyInUse"/>
    /// when a socket that is not one of this process's Miniss listeners listens on the TCP port (another process, or a
    /// plain socket; set <see cref="ListenerOptions.ShareAcrossProcesses"/> to share it with them anyway), or when
    /// another socket holds the address without <c>SO_REUSEPORT</c>; <see cref="SocketError.AccessDenied"/> for a
    /// privileged port...</exception>
    public static ShardListener Bind(EndPoint endPoint, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new ListenerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Backlog, nameof(options));
        AddressFamily family = SocketAddressCodec.FamilyOf(endPoint);
        bool ip = family != AddressFamily.Unix;
        bool shared = ip && options.ReusePort;
        lock (s_ownPorts)
        {
            // SO_REUSEPORT would let this bind join another process's listeners silently: unless asked to, a fixed
            // port that no listener of this process holds is probed first (port 0 is always a fresh port).
            if (shared && !options.ShareAcrossProcesses && endPoint is IPEndPoint { Port: not 0 } fixedPort
                && !s_ownPorts.ContainsKey(fixedPort) && NativeSocket.IsAddressTaken(fixedPort, options.DualMode))
            {
                throw PortTaken(fixedPort);
            }

            ShardListener listener = BindCore(endPoint, family, options);
            if (shared && listener.LocalEndPoint is IPEndPoint local)
            {
                listener._ownPort = local;
                s_ownPorts[local] = s_ownPorts.GetValueOrDefault(local) + 1;
            }

            return listener;
        }
    }

    private static ShardListener BindCore(EndPoint endPoint, AddressFamily family, ListenerOptions options)
    {
        // Non-blocking whatever the backend: a readiness backend tries accept before it knows the socket is ready, and
        // io_uring polls a listening socket either way.
        FileDescriptorHandle handle = NativeSocket.Create(family, nonBlocking: true);
        try
        {
            bool ip = family != AddressFamily.Unix;
            if (ip && options.ReuseAddress)
            {
                NativeSocket.SetOption(handle, Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR, 1);
            }

            if (ip && options.ReusePort)
            {
                NativeSocket.SetOption(handle, Sockets.SOL_SOCKET, Sockets.SO_REUSEPORT, 1);
            }

            if (family == AddressFamily.InterNetworkV6 && options.DualMode is bool dual)
            {
                NativeSocket.SetOption(handle, Sockets.IPPROTO_IPV6, Sockets.IPV6_V6ONLY, dual ? 0 : 1);
            }

            NativeSocket.Bind(handle, endPoint);
            NativeSocket.Listen(handle, options.Backlog);
            EndPoint local = NativeSocket.LocalEndPoint(handle) ?? endPoint;
            string? path = endPoint is UnixDomainSocketEndPoint unix && unix.ToString() is { Length: > 0 } name && name[0] != '@' ? name : null;
            return new ShardListener(handle, family, local, ip && options.NoDelay, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the next connection and accepts it on the calling shard, which owns the returned connection.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (<see cref="OperationCanceledException"/>); a connection that
    /// arrives meanwhile stays queued for the next accept.</param>
    /// <exception cref="InvalidOperationException">Not called on a shard.</exception>
    /// <exception cref="SocketException">The kernel refused (<see cref="SocketError.TooManyOpenSockets"/> when the
    /// process is out of descriptors; the listener keeps working), or the listener was disposed while the accept was
    /// pending (<see cref="SocketError.OperationAborted"/>).</exception>
    /// <exception cref="ObjectDisposedException">The listener is disposed.</exception>
    public async ValueTask<ShardConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Shard shard = Shard.CurrentForIo();
        (FileDescriptorHandle accepted, EndPoint? peer) = await AcceptHandleAsync(cancellationToken).ConfigureAwait(true);
        return Adopt(shard, accepted, peer);
    }

    /// <summary>Accepts the next connection's descriptor without tying it to a shard yet (for hand-off to another
    /// shard, which adopts it with <see cref="Adopt"/>). On a shard.</summary>
    internal async ValueTask<(FileDescriptorHandle Handle, EndPoint? Peer)> AcceptHandleAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (MultishotAcceptorFor(Shard.CurrentForIo()) is { } acceptor)
        {
            int fd = await acceptor.AcceptAsync(cancellationToken).ConfigureAwait(true);
            if (fd >= 0)
            {
                var accepted = new FileDescriptorHandle(fd);
                if (IsDisposed)
                {
                    accepted.Dispose();
                    throw Aborted();
                }

                // A multishot accept shares one SQE among all its connections, so the peer's address is asked for
                // here (null when the peer is already gone; the first receive or send will say so).
                EndPoint? remote = null;
                try
                {
                    remote = NativeSocket.RemoteEndPoint(accepted);
                }
                catch (SocketException)
                {
                }

                return (accepted, remote);
            }
        }

        NativeSocketAddress peer = NativeSocketAddress.ForPeer();
        try
        {
            // The peer's address is written by the kernel until the completion, which the await waits for.
            int fd = await IoOperations.AcceptAsync(Handle, peer.Address, peer.LengthAddress, Sockets.SOCK_CLOEXEC, cancellationToken).ConfigureAwait(true);
            var accepted = new FileDescriptorHandle(fd);
            if (IsDisposed)
            {
                accepted.Dispose();
                throw Aborted();
            }

            return (accepted, peer.ReadPeer());
        }
        catch (Exception e) when (IsDisposed && e is SocketException { SocketErrorCode: not SocketError.OperationAborted } or ObjectDisposedException)
        {
            // Dispose's shutdown makes the pending accept fail (EINVAL): report it as .NET's listeners do.
            throw Aborted();
        }
        finally
        {
            peer.Dispose();
        }
    }

    /// <summary>Wraps an accepted descriptor as a connection of <paramref name="shard"/>, with the listener's
    /// connection options applied.</summary>
    internal ShardConnection Adopt(Shard shard, FileDescriptorHandle accepted, EndPoint? peer)
    {
        if (_noDelay)
        {
            try
            {
                NativeSocket.SetOption(accepted, Sockets.IPPROTO_TCP, Sockets.TCP_NODELAY, 1);
            }
            catch (SocketException)
            {
                // The peer may already have reset the connection; the first receive or send will say so.
            }
        }

        return new ShardConnection(shard, accepted, AddressFamily, peer);
    }

    /// <summary>Stops listening (see the remarks on <see cref="ShardListener"/>). Idempotent; any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Closing alone would leave a pending accept waiting (it holds the socket); shutting the listening socket
        // down makes it fail at once.
        NativeSocket.TryShutdown(Handle, Sockets.SHUT_RDWR);
        Handle.Dispose();
        if (_ownPort is { } own)
        {
            lock (s_ownPorts)
            {
                if (s_ownPorts[own] == 1)
                {
                    s_ownPorts.Remove(own);
                }
                else
                {
                    s_ownPorts[own]--;
                }
            }
        }

        Volatile.Read(ref _multishot)?.Close();
        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (IOException)
            {
                // Someone else removed or replaced it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether this listener accepts through a multishot accept (on the shard that accepted first, when the
    /// kernel supports it). Any thread.</summary>
    public bool AcceptsMultishot => Volatile.Read(ref _multishot) is { Unsupported: false };

    /// <summary>Connections accepted by the multishot accept and not yet taken by an accept. Any thread.</summary>
    public int QueuedConnections => Volatile.Read(ref _multishot)?.QueuedCount ?? 0;

    /// <summary>The multishot accept to use on <paramref name="shard"/>: the listener's, set up by the first shard that
    /// accepts when it can, and shared by the accepts of every shard (the connections it takes go to whichever accept
    /// waits first, wherever it runs); null when multishot accepts are off or refused (single-shot then).</summary>
    private MultishotAcceptor? MultishotAcceptorFor(Shard shard)
    {
        MultishotAcceptor? acceptor = Volatile.Read(ref _multishot);
        if (acceptor is null && shard.Networking.CanMultishotAccept)
        {
            acceptor = Interlocked.CompareExchange(ref _multishot, new MultishotAcceptor(this, shard), null) ?? _multishot;
            if (IsDisposed)
            {
                // Disposed while this was being set up: its Close may have missed the acceptor.
                acceptor!.Close();
            }
        }

        return acceptor is { Unsupported: false } ? acceptor : null;
    }

    /// <summary>The server stops accepting on this listener for a while (a connection limit): a multishot accept
    /// nobody waits on is cancelled, so that the kernel's backlog, not the listener's queue, holds new clients. On the
    /// shard that accepts.</summary>
    internal void PauseAccepting() => Volatile.Read(ref _multishot)?.CancelIfIdle();

    /// <inheritdoc/>
    public override string ToString() => $"{(IsDisposed ? "closed listener" : "listener")} {LocalEndPoint}";

    private static SocketException PortTaken(IPEndPoint endPoint)
    {
        var error = new SocketException((int)SocketError.AddressAlreadyInUse,
            $"bind {endPoint} failed: another process (or a socket that is not a Miniss listener of this process) already listens on port {endPoint.Port}. " +
            "Stop it or choose another port; to share the port with it on purpose (the kernel then splits the clients between the two), set ListenerOptions.ShareAcrossProcesses");
        error.Data["errno"] = Errno.EADDRINUSE;
        error.Data["errno.name"] = "EADDRINUSE";
        error.Data["operation"] = "bind";
        return error;
    }

    internal static SocketException Aborted()
    {
        var error = new SocketException((int)SocketError.OperationAborted, "accept was aborted: the listener was closed while it was pending");
        error.Data["operation"] = "accept";
        return error;
    }
}
