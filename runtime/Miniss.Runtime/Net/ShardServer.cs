using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Net.Internal;

namespace Miniss.Net;

/// <summary>
/// A server on every shard of a runtime: listeners that accept connections and run a handler for each, on the shard
/// that serves it. By default every shard listens on the address with <c>SO_REUSEPORT</c> and serves what it accepts
/// (see <see cref="ConnectionDistribution"/>).
/// </summary>
/// <example>
/// <code>
/// await using var runtime = MinissRuntime.Start();
/// await using var server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, 5000), async connection =>
/// {
///     var buffer = new byte[4096];
///     int received;
///     while ((received = await connection.ReceiveAsync(buffer)) > 0)
///     {
///         await connection.SendAsync(buffer.AsMemory(0, received));
///     }
/// });
/// </code>
/// </example>
/// <remarks>
/// <para><b>Handlers.</b> The handler runs on the connection's shard (its awaits resume there) and owns the connection
/// until it returns; the server then disposes the connection. Many handlers run at once on each shard: a handler must
/// not block its thread.</para>
/// <para><b>Failures.</b> A connection's failure ends its handler only: the server keeps accepting and serving the
/// others. A handler that throws a network error (<see cref="SocketException"/>, <see cref="System.IO.IOException"/>,
/// <see cref="OperationCanceledException"/>) is counted in <see cref="FaultedConnections"/>; any other exception is also
/// raised as <see cref="MinissRuntime.UnhandledException"/>.</para>
/// <para><b>Limits.</b> An accept that fails for lack of descriptors or memory (<c>EMFILE</c>, <c>ENFILE</c>,
/// <c>ENOBUFS</c>, <c>ENOMEM</c>) pauses that shard's accept loop, for a growing interval
/// (<see cref="ShardServerOptions.AcceptRetryDelay"/> doubling up to <see cref="ShardServerOptions.MaxAcceptRetryDelay"/>),
/// until an accept works again: the connections already served go on, new clients wait in the listen backlog, and
/// the runtime's logger hears of the exhaustion once when it starts (Warning) and once when it ends (Information).
/// Nothing accepts and closes clients to drain the backlog: they are served once descriptors return, or time out
/// on their side. <see cref="ShardServerOptions.MaxConnections"/> and
/// <see cref="ShardServerOptions.MaxConnectionsPerShard"/> pause accepting the same way until a connection ends;
/// <see cref="ShardServerOptions.IdleTimeout"/> closes connections that receive nothing.</para>
/// <para><b>Stopping.</b> <see cref="StopAsync()"/> closes the listeners, then the connections still open (their pending
/// operations complete with <see cref="SocketError.OperationAborted"/>), and waits for every handler to return; a
/// handler that ends with that abort (or a cancellation) is not counted as faulted and is logged at Debug only. Do
/// not await it from a handler of the same server, which it would wait for. Stopping the runtime also ends the
/// server's loops and handlers (their operations are cancelled).</para>
/// </remarks>
public sealed class ShardServer : IAsyncDisposable
{
    private readonly MinissRuntime _runtime;
    private readonly Func<ShardConnection, ValueTask> _handler;
    private readonly ShardServerOptions _options;

    // The connection limit in force: the options' MaxConnections, or the process's descriptor budget.
    private readonly int? _maxConnections;
    private readonly ServerShard[] _shards;
    private readonly int[] _active;
    private readonly Lock _stopGate = new();
    private long _accepted;
    private long _faulted;
    private long _timedOut;

    // Connections served, over all shards: counted only with a MaxConnections, where an accepted connection takes
    // its place before it is served, so that the shards together never serve more.
    private int _connections;
    private int _nextTarget;
    private Task? _stopTask;
    private Task? _stopAcceptingTask;

    private ShardServer(MinissRuntime runtime, Func<ShardConnection, ValueTask> handler, ShardServerOptions options)
    {
        _runtime = runtime;
        _handler = handler;
        _options = options;
        _maxConnections = options.MaxConnections ?? DescriptorBudget.DefaultMaxConnections();
        _shards = new ServerShard[runtime.ShardCount];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ServerShard(this, runtime[i]);
        }

        _active = new int[runtime.ShardCount];
        LocalEndPoint = new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>The address the server listens on, with the port the kernel chose when port 0 was asked for.</summary>
    public EndPoint LocalEndPoint { get; private set; }

    /// <summary>How connections are spread over the shards.</summary>
    public ConnectionDistribution Distribution { get; private set; }

    /// <summary>Connections accepted since the start. Any thread.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    /// <summary>Connections whose handler ended with an exception. Any thread.</summary>
    public long FaultedConnections => Interlocked.Read(ref _faulted);

    /// <summary>Connections the server closed because they received nothing for
    /// <see cref="ShardServerOptions.IdleTimeout"/>. Any thread.</summary>
    public long TimedOutConnections => Interlocked.Read(ref _timedOut);

    /// <summary>Connections being served now (handed over and not finished), over all shards. Any thread.</summary>
    public int ActiveConnections
    {
        get
        {
            int total = 0;
            for (int i = 0; i < _active.Length; i++)
            {
                total += Volatile.Read(ref _active[i]);
            }

            return total;
        }
    }

    internal Func<ShardConnection, ValueTask> Handler => _handler;

    internal ShardServerOptions Options => _options;

    /// <summary>The most connections this server serves at once: <see cref="ShardServerOptions.MaxConnections"/>, or
    /// the process's descriptor budget when the options set none; <see langword="null"/>: no limit.</summary>
    public int? ConnectionLimit => _maxConnections;

    /// <summary>Connections being served now by shard <paramref name="shard"/>. Any thread.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such shard.</exception>
    public int ActiveConnectionsOn(int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, _active.Length);
        return Volatile.Read(ref _active[shard]);
    }

    /// <summary>
    /// Starts listening on <paramref name="endPoint"/> and serving each connection with <paramref name="handler"/>.
    /// Returns once every listener is bound. Any thread (a shard too).
    /// </summary>
    /// <param name="runtime">The runtime whose shards serve.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0: the kernel chooses one, and every shard listens on
    /// it) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Serves one connection, on its shard; the server disposes the connection when the
    /// returned task completes.</param>
    /// <param name="options">How to listen and distribute; <see langword="null"/> takes the defaults.</param>
    /// <param name="cancellationToken">Cancels the start: the listeners already bound are closed and the await throws
    /// <see cref="OperationCanceledException"/> carrying the token.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ShardServerOptions.AcceptorShard"/> names no shard, or
    /// a limit or delay of <paramref name="options"/> is not positive.</exception>
    /// <exception cref="SocketException">A listener could not bind; the listeners already bound are closed.
    /// <see cref="SocketError.AddressAlreadyInUse"/> when another process (or a socket that is not a Miniss listener of
    /// this process) listens on the TCP port, unless <see cref="ListenerOptions.ShareAcrossProcesses"/> is set (see
    /// <see cref="ShardListener.Bind"/>).</exception>
    /// <exception cref="ObjectDisposedException">The runtime is stopping.</exception>
    public static async ValueTask<ShardServer> StartAsync(MinissRuntime runtime, EndPoint endPoint, Func<ShardConnection, ValueTask> handler, ShardServerOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new ShardServerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.AcceptorShard, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(options.AcceptorShard, runtime.ShardCount, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.AcceptRetryDelay, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAcceptRetryDelay, options.AcceptRetryDelay, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConnections ?? 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConnectionsPerShard ?? 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout ?? TimeSpan.MaxValue, TimeSpan.Zero, nameof(options));
        _ = SocketAddressCodec.FamilyOf(endPoint);

        var server = new ShardServer(runtime, handler, options);
        bool reusePort = options.Distribution == ConnectionDistribution.ReusePort && endPoint is not UnixDomainSocketEndPoint;
        server.Distribution = reusePort ? ConnectionDistribution.ReusePort : ConnectionDistribution.LeastLoaded;
        try
        {
            if (reusePort)
            {
                ListenerOptions listen = WithReusePort(options.Listener);
                EndPoint bound = await runtime.SubmitTo(0, () => server._shards[0].Listen(endPoint, listen), cancellationToken).ConfigureAwait(true);
                server.LocalEndPoint = bound;
                for (int i = 1; i < server._shards.Length; i++)
                {
                    // The others bind what the first one got, so that port 0 means one port for all.
                    ServerShard shard = server._shards[i];
                    await runtime.SubmitTo(i, () => shard.Listen(bound, listen), cancellationToken).ConfigureAwait(true);
                }
            }
            else
            {
                ServerShard acceptor = server._shards[options.AcceptorShard];
                server.LocalEndPoint = await runtime.SubmitTo(options.AcceptorShard, () => acceptor.Listen(endPoint, options.Listener), cancellationToken).ConfigureAwait(true);
            }
        }
        catch
        {
            await server.StopAsync(CancellationToken.None).ConfigureAwait(true);
            throw;
        }

        return server;
    }

    /// <summary>
    /// Stops the server (see the remarks on <see cref="ShardServer"/>): no more accepting, open connections closed,
    /// every handler awaited. Idempotent; every call returns the same task. Any thread, except a handler of this server.
    /// </summary>
    public ValueTask StopAsync()
    {
        lock (_stopGate)
        {
            _stopTask ??= StopCoreAsync();
            return new ValueTask(_stopTask);
        }
    }

    /// <summary>
    /// Stops the server as <see cref="StopAsync()"/> does, waiting at most until <paramref name="cancellationToken"/> is
    /// cancelled (a host's shutdown timeout): the await then throws <see cref="OperationCanceledException"/> carrying the
    /// token, and the stop goes on (the connections are closed; the handlers still running end when their operations fail).
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled before every handler returned.</exception>
    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Task stop = StopAsync().AsTask();
        await stop.WaitAsync(cancellationToken).ConfigureAwait(true);
    }

    /// <inheritdoc cref="StopAsync()"/>
    public ValueTask DisposeAsync() => StopAsync();

    /// <summary>
    /// Stops accepting and leaves the connections being served to their handlers (a graceful shutdown drains them,
    /// then calls <see cref="StopAsync()"/>): closes the listeners (the kernel refuses new clients and drops those not
    /// accepted yet) and waits for every accept loop to end, which a loop paused after an exhaustion does within
    /// <see cref="ShardServerOptions.MaxAcceptRetryDelay"/>. Idempotent; every call returns the same task. Any thread,
    /// a handler of this server too.
    /// </summary>
    public ValueTask StopAcceptingAsync()
    {
        lock (_stopGate)
        {
            _stopAcceptingTask ??= StopAcceptingCoreAsync();
            return new ValueTask(_stopAcceptingTask);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"server {LocalEndPoint} ({Distribution}, {ActiveConnections} connections)";

    private async Task StopCoreAsync()
    {
        try
        {
            await _runtime.InvokeOnAll(() => _shards[Shard.Current!.Id].StopAsync()).ConfigureAwait(true);
        }
        catch (Exception) when (_runtime.IsStopping)
        {
            // The runtime's own stop cancels every accept and operation: the loops and handlers end by themselves.
        }
    }

    private async Task StopAcceptingCoreAsync()
    {
        try
        {
            await _runtime.InvokeOnAll(() => _shards[Shard.Current!.Id].StopAcceptingAsync()).ConfigureAwait(true);
        }
        catch (Exception) when (_runtime.IsStopping)
        {
            // The runtime's own stop ends the accept loops.
        }
    }

    /// <summary>A connection was accepted on <paramref name="acceptor"/>: serve it there, or hand it to the least
    /// loaded shard. On the acceptor's shard.</summary>
    internal void Dispatch(ServerShard acceptor, ShardListener listener, FileDescriptorHandle accepted, EndPoint? peer)
    {
        Interlocked.Increment(ref _accepted);
        int target = Distribution == ConnectionDistribution.ReusePort ? acceptor.Shard.Id : LeastLoaded();
        Interlocked.Increment(ref _active[target]);
        if (target == acceptor.Shard.Id)
        {
            acceptor.Serve(listener, accepted, peer);
        }
        else
        {
            _ = HandOffAsync(target, listener, accepted, peer);
        }
    }

    /// <summary>A connection of shard <paramref name="shard"/> ended: an accept loop paused by a limit looks again.
    /// Any thread.</summary>
    internal void OnConnectionEnded(int shard)
    {
        Interlocked.Decrement(ref _active[shard]);
        if (_maxConnections is not null)
        {
            Interlocked.Decrement(ref _connections);
        }

        if (_maxConnections is not null || _options.MaxConnectionsPerShard is not null)
        {
            foreach (ServerShard serverShard in _shards)
            {
                serverShard.WakeForRoom();
            }
        }
    }

    /// <summary>A connection's handler threw.</summary>
    internal void OnConnectionFaulted() => Interlocked.Increment(ref _faulted);

    /// <summary>A connection was closed for <see cref="ShardServerOptions.IdleTimeout"/>.</summary>
    internal void OnConnectionTimedOut() => Interlocked.Increment(ref _timedOut);

    /// <summary>Takes a place for a connection <paramref name="acceptor"/> accepted, or says the limits leave none. On
    /// the acceptor's shard; the place is the connection's until <see cref="OnConnectionEnded"/>.</summary>
    internal bool TryReserve(ServerShard acceptor)
    {
        if (!HasShardRoom(acceptor))
        {
            return false;
        }

        if (_maxConnections is not int max)
        {
            return true;
        }

        int current = Volatile.Read(ref _connections);
        while (current < max)
        {
            int seen = Interlocked.CompareExchange(ref _connections, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Whether <see cref="TryReserve"/> could take a place now. Any thread.</summary>
    internal bool HasRoom(ServerShard acceptor) =>
        HasShardRoom(acceptor) && (_maxConnections is not int max || Volatile.Read(ref _connections) < max);

    /// <summary>The limit that stops <paramref name="acceptor"/> now, and its value (for the log).</summary>
    internal (string Limit, int Value) LimitReached(ServerShard acceptor) => HasShardRoom(acceptor)
        ? (nameof(ShardServerOptions.MaxConnections), _maxConnections ?? 0)
        : (nameof(ShardServerOptions.MaxConnectionsPerShard), _options.MaxConnectionsPerShard ?? 0);

    /// <summary>With <see cref="ConnectionDistribution.ReusePort"/>, whether the acceptor serves fewer connections than
    /// <see cref="ShardServerOptions.MaxConnectionsPerShard"/>; with <see cref="ConnectionDistribution.LeastLoaded"/>,
    /// whether any shard does (the least loaded gets the connection).</summary>
    private bool HasShardRoom(ServerShard acceptor)
    {
        if (_options.MaxConnectionsPerShard is not int perShard)
        {
            return true;
        }

        if (Distribution == ConnectionDistribution.ReusePort)
        {
            return Volatile.Read(ref _active[acceptor.Shard.Id]) < perShard;
        }

        for (int i = 0; i < _active.Length; i++)
        {
            if (Volatile.Read(ref _active[i]) < perShard)
            {
                return true;
            }
        }

        return false;
    }

    private async Task HandOffAsync(int target, ShardListener listener, FileDescriptorHandle accepted, EndPoint? peer)
    {
        ServerShard shard = _shards[target];
        try
        {
            await _runtime.SubmitTo(target, () => shard.Serve(listener, accepted, peer)).ConfigureAwait(true);
        }
        catch (Exception)
        {
            // The target refused the message (the runtime is stopping): the connection was never served.
            accepted.Dispose();
            OnConnectionEnded(target);
        }
    }

    /// <summary>The shard serving the fewest connections; ties go round-robin. Only the acceptor shard calls it.</summary>
    private int LeastLoaded()
    {
        int best = _nextTarget;
        int bestLoad = int.MaxValue;
        for (int i = 0; i < _active.Length; i++)
        {
            int candidate = (_nextTarget + i) % _active.Length;
            int load = Volatile.Read(ref _active[candidate]);
            if (load < bestLoad)
            {
                best = candidate;
                bestLoad = load;
            }
        }

        _nextTarget = (best + 1) % _active.Length;
        return best;
    }

    private static ListenerOptions WithReusePort(ListenerOptions options) => options.ReusePort
        ? options
        : new ListenerOptions
        {
            Backlog = options.Backlog,
            ReusePort = true,
            ShareAcrossProcesses = options.ShareAcrossProcesses,
            ReuseAddress = options.ReuseAddress,
            DualMode = options.DualMode,
            NoDelay = options.NoDelay,
        };
}
