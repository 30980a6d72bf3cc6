using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.Net.Internal;

namespace Miniss.Net;

/// <summary>
/// A connected stream socket (TCP over IPv4 or IPv6, or a Unix domain socket) whose operations run on the io_uring
/// ring of the shard that owns it: the shard that connected it or accepted it.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> Receive, send, shutdown, <see cref="Abort"/> and <see cref="AsPipe"/> must be called on the
/// owning <see cref="Shard"/> and are awaited there (their continuations run on that shard); anything else throws
/// <see cref="InvalidOperationException"/>. <see cref="Dispose"/>, the options, the endpoints and the
/// <see cref="ConnectionStream"/> may be used from any thread. To move work onto the owner, use
/// <see cref="MinissRuntime.SubmitTo{T}(int, Func{ValueTask{T}}, CancellationToken)"/>.</para>
/// <para><b>Memory.</b> A buffer passed to a receive or send belongs to the kernel until the await completes, also
/// when the operation is cancelled or the connection closed; it may be reused or freed right after.</para>
/// <para><b>Concurrency and allocation.</b> One receive and one send may be in flight at the same time (full duplex);
/// each reuses an awaitable of the connection, so a steady stream of them allocates nothing. More receives or sends
/// at once work, at one allocation each, but are not ordered with each other: do not.</para>
/// <para><b>Errors.</b> Failures throw <see cref="SocketException"/> with the <see cref="SocketError"/> .NET's own
/// sockets report (<c>ConnectionReset</c>, <c>ConnectionRefused</c>, <c>TimedOut</c>, <c>Shutdown</c> for a send after
/// the peer closed...) and the errno in <c>Data["errno"]</c>; a cancelled operation throws
/// <see cref="OperationCanceledException"/>; an operation on a disposed connection throws
/// <see cref="ObjectDisposedException"/>, and one still pending when the connection is disposed completes with a
/// <see cref="SocketException"/> of <see cref="SocketError.OperationAborted"/>.</para>
/// </remarks>
public sealed partial class ShardConnection : IDisposable, IAsyncDisposable
{
    private EndPoint? _localEndPoint;
    private readonly EndPoint? _remoteEndPoint;
    private int _disposed;

    // Operations in flight, counted on the owning shard only: Abort shuts the socket down first when some are.
    private int _receiving;
    private int _sending;

    internal ShardConnection(Shard shard, FileDescriptorHandle handle, AddressFamily addressFamily, EndPoint? remoteEndPoint)
    {
        Shard = shard;
        Handle = handle;
        AddressFamily = addressFamily;
        _remoteEndPoint = remoteEndPoint;
    }

    /// <summary>The shard that owns the connection: its operations run on that shard's ring.</summary>
    public Shard Shard { get; }

    /// <summary>The socket's descriptor, owned by this connection (for options Miniss does not wrap).</summary>
    public FileDescriptorHandle Handle { get; }

    /// <summary>The address family of the socket (<see cref="AddressFamily.InterNetwork"/>,
    /// <see cref="AddressFamily.InterNetworkV6"/> or <see cref="AddressFamily.Unix"/>).</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>Whether <see cref="Dispose"/> or <see cref="Abort"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The local address of the connection (<c>getsockname</c>, read once), or <see langword="null"/> when
    /// the kernel has none to report (an unnamed Unix domain socket). Any thread.</summary>
    /// <exception cref="ObjectDisposedException">The connection is disposed and the address was never read.</exception>
    public EndPoint? LocalEndPoint => _localEndPoint ??= NativeSocket.LocalEndPoint(Handle);

    /// <summary>The peer's address: the endpoint connected to, or the one <c>accept</c> reported; <see langword="null"/>
    /// when the kernel has none to report (a peer on an unnamed Unix domain socket). Any thread.</summary>
    public EndPoint? RemoteEndPoint => _remoteEndPoint;

    /// <summary>
    /// Connects to <paramref name="remoteEndPoint"/> from the calling shard, which then owns the connection.
    /// </summary>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="cancellationToken">Cancels the attempt (the await then throws <see cref="OperationCanceledException"/>
    /// and the socket is closed).</param>
    /// <exception cref="InvalidOperationException">Not called on a shard.</exception>
    /// <exception cref="ArgumentException">An endpoint of another kind (a <see cref="DnsEndPoint"/>: resolve it first).</exception>
    /// <exception cref="SocketException">The kernel refused: <see cref="SocketError.ConnectionRefused"/> when nothing
    /// listens, <see cref="SocketError.TimedOut"/>, <see cref="SocketError.NetworkUnreachable"/>...</exception>
    public static ValueTask<ShardConnection> ConnectAsync(EndPoint remoteEndPoint, CancellationToken cancellationToken = default) =>
        ConnectCoreAsync(remoteEndPoint, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Connects to <paramref name="remoteEndPoint"/> from the calling shard, giving up after <paramref name="timeout"/>
    /// with a <see cref="SocketException"/> of <see cref="SocketError.TimedOut"/>.
    /// </summary>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="timeout">How long the attempt may take; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Cancels the attempt (<see cref="OperationCanceledException"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative (and not infinite).</exception>
    /// <inheritdoc cref="ConnectAsync(EndPoint, CancellationToken)" path="/exception"/>
    public static ValueTask<ShardConnection> ConnectAsync(EndPoint remoteEndPoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a connect timeout must be positive, or Timeout.InfiniteTimeSpan");
        }

        return ConnectCoreAsync(remoteEndPoint, timeout, cancellationToken);
    }

    private static async ValueTask<ShardConnection> ConnectCoreAsync(EndPoint remoteEndPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        Shard shard = Shard.CurrentForIo();
        AddressFamily family = SocketAddressCodec.FamilyOf(remoteEndPoint);
        FileDescriptorHandle handle = NativeSocket.Create(family, nonBlocking: shard.UsesReadiness);
        CancellationTokenSource? deadline = null;
        NativeSocketAddress address = default;
        try
        {
            address = NativeSocketAddress.Of(remoteEndPoint);
            CancellationToken token = cancellationToken;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(timeout);
                token = deadline.Token;
            }

            // The address stays allocated until the await completes, which is the kernel's completion (also when the
            // connect is cancelled).
            await IoOperations.ConnectAsync(handle, address.Address, address.Length, token).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (deadline is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            handle.Dispose();
            throw NativeSocket.Error(Errno.ETIMEDOUT, $"connect to {remoteEndPoint} (timeout {timeout.TotalMilliseconds} ms)");
        }
        catch (SocketException e) when (e.Data["errno"] is int errno)
        {
            handle.Dispose();
            throw NativeSocket.Error(errno, $"connect to {remoteEndPoint}");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        finally
        {
            address.Dispose();
            deadline?.Dispose();
        }

        return new ShardConnection(shard, handle, family, remoteEndPoint);
    }

    /// <summary>
    /// Closes the connection: shuts the socket down in both directions (the peer sees the end of the stream;
    /// operations still pending here complete, with <see cref="SocketError.OperationAborted"/>), then closes the
    /// descriptor once no operation holds it. Idempotent; any thread.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Closing alone would not wake an operation in flight: it holds the socket until its completion. A shutdown
        // makes pending receives see the end of the stream and pending sends fail, so their awaits complete.
        NativeSocket.TryShutdown(Handle, Sockets.SHUT_RDWR);
        Handle.Dispose();
        ReleaseReceived();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Resets the connection: closes it with <c>SO_LINGER</c> 0, so the kernel drops unsent data and the peer gets a
    /// reset (<see cref="SocketError.ConnectionReset"/>) instead of the end of the stream. When operations are in
    /// flight they are woken first by a shutdown, and the peer may see the end of the stream before the reset.
    /// Idempotent. On the owning shard.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called off the owning shard.</exception>
    public void Abort()
    {
        EnsureOnShard();
        if (IsDisposed)
        {
            return;
        }

        try
        {
            NativeSocket.SetLinger(Handle, enabled: true, seconds: 0);
        }
        catch (SocketException)
        {
            // A socket that cannot linger (already reset) is closed all the same.
        }

        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_sending > 0)
        {
            NativeSocket.TryShutdown(Handle, Sockets.SHUT_RDWR);
        }
        else if (_receiving > 0)
        {
            // A read shutdown wakes receivers without sending anything, so the close still resets.
            NativeSocket.TryShutdown(Handle, Sockets.SHUT_RD);
        }

        Handle.Dispose();
        ReleaseReceived();
    }

    /// <summary>A <see cref="System.IO.Stream"/> over this connection, for protocol code written against streams
    /// (an <see cref="System.Net.Security.SslStream"/>, say). Use it on the owning shard.</summary>
    /// <param name="ownsConnection">Whether disposing the stream disposes the connection. Default: true.</param>
    /// <exception cref="ObjectDisposedException">The connection is disposed.</exception>
    public ConnectionStream AsStream(bool ownsConnection = true)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new ConnectionStream(this, ownsConnection);
    }

    /// <summary>
    /// An <see cref="System.IO.Pipelines.IDuplexPipe"/> over this connection, for protocol code written against
    /// <see cref="System.IO.Pipelines.PipeReader"/> and <see cref="System.IO.Pipelines.PipeWriter"/>. It starts
    /// receiving at once and takes the connection over: do not receive or send on the connection directly
    /// afterwards; disposing the pipe disposes the connection. On the owning shard.
    /// </summary>
    /// <param name="options">Buffer sizes and thresholds; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="InvalidOperationException">Called off the owning shard.</exception>
    /// <exception cref="ObjectDisposedException">The connection is disposed.</exception>
    public ConnectionPipe AsPipe(ConnectionPipeOptions? options = null)
    {
        EnsureUsable();
        return new ConnectionPipe(this, options ?? ConnectionPipeOptions.Default);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(IsDisposed ? "closed" : "connection")} {_localEndPoint?.ToString() ?? "?"} -> {_remoteEndPoint?.ToString() ?? "?"} on shard {Shard.Id}";

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        EnsureOnShard();
    }

    private void EnsureOnShard()
    {
        if (Shard.Current != Shard)
        {
            ThrowNotOnShard();
        }
    }

    private void ThrowNotOnShard() =>
        throw new InvalidOperationException($"This connection belongs to shard {Shard.Id}; use it there (MinissRuntime.SubmitTo).");

    /// <summary>The error of an operation that was pending when the connection was disposed.</summary>
    internal static SocketException Aborted(string operation, Exception? cause = null)
    {
        var error = new SocketException((int)SocketError.OperationAborted, $"{operation} was aborted: the connection was closed while it was pending");
        error.Data["operation"] = operation;
        if (cause is not null)
        {
            error.Data["cause"] = cause.Message;
        }

        return error;
    }
}
