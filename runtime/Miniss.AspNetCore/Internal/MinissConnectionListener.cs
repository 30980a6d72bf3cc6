using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Miniss.Net;

namespace Miniss.AspNetCore.Internal;

/// <summary>
/// Kestrel's listener for one endpoint: a <see cref="ShardServer"/> whose shards accept and serve the connections
/// (every shard with <c>SO_REUSEPORT</c>, or one acceptor handing them to the least loaded shard). Each connection is
/// set up on its shard and queued for <see cref="AcceptAsync"/>, which Kestrel's accept loop calls on the thread pool.
/// </summary>
internal sealed class MinissConnectionListener : IConnectionListener
{
    private readonly MinissTransportFactory _factory;
    private readonly Func<ShardConnection, ValueTask> _serve;

    // Written by every shard, read by Kestrel's accept loop.
    private readonly Channel<MinissConnection> _accepted = Channel.CreateUnbounded<MinissConnection>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = false });

    // The connections being served, per shard; each set is touched only by its shard.
    private readonly HashSet<MinissConnection>[] _live;
    private ShardServer? _server;
    private Task? _unbinding;
    private Task? _disposing;
    private int _connections;

    private MinissConnectionListener(MinissTransportFactory factory, EndPoint endPoint)
    {
        _factory = factory;
        _serve = ServeAsync;
        EndPoint = endPoint;
        _live = new HashSet<MinissConnection>[factory.Runtime.ShardCount];
        for (int i = 0; i < _live.Length; i++)
        {
            _live[i] = [];
        }
    }

    /// <summary>The bound address: the port the kernel chose when port 0 was asked for.</summary>
    public EndPoint EndPoint { get; private set; }

    /// <summary>Connections set up and not finished (both loops ended), queued or held by Kestrel. Any thread.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The server underneath (tests).</summary>
    internal ShardServer? Server => _server;

    public static async ValueTask<MinissConnectionListener> BindAsync(MinissTransportFactory factory, EndPoint endPoint, ShardServerOptions options,
        CancellationToken cancellationToken)
    {
        var listener = new MinissConnectionListener(factory, endPoint);
        listener._server = await ShardServer.StartAsync(factory.Runtime, endPoint, listener._serve, options, cancellationToken).ConfigureAwait(false);
        listener.EndPoint = listener._server.LocalEndPoint;
        return listener;
    }

    public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (_accepted.Reader.TryRead(out MinissConnection? connection))
        {
            return new ValueTask<ConnectionContext?>(connection);
        }

        return AcceptSlowAsync(cancellationToken);
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        Task? unbinding = Volatile.Read(ref _unbinding);
        if (unbinding is null)
        {
            Task started = UnbindCoreAsync();
            unbinding = Interlocked.CompareExchange(ref _unbinding, started, null) ?? started;
        }

        return new ValueTask(unbinding.WaitAsync(cancellationToken));
    }

    public ValueTask DisposeAsync()
    {
        Task? disposing = Volatile.Read(ref _disposing);
        if (disposing is null)
        {
            Task started = DisposeCoreAsync();
            disposing = Interlocked.CompareExchange(ref _disposing, started, null) ?? started;
        }

        return new ValueTask(disposing);
    }

    public override string ToString() => $"Miniss listener {EndPoint} ({Connections} connections)";

    private async ValueTask<ConnectionContext?> AcceptSlowAsync(CancellationToken cancellationToken)
    {
        while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_accepted.Reader.TryRead(out MinissConnection? connection))
            {
                return connection;
            }
        }

        // Unbound: Kestrel's accept loop ends.
        return null;
    }

    /// <summary>Serves one accepted connection, on its shard, until both its loops have ended.</summary>
    private async ValueTask ServeAsync(ShardConnection accepted)
    {
        Interlocked.Increment(ref _connections);
        HashSet<MinissConnection> live = _live[accepted.Shard.Id];
        MinissConnection? connection = null;
        try
        {
            connection = new MinissConnection(accepted, _factory.TransportOf(accepted.Shard));
            live.Add(connection);
            connection.Start();
            if (!_accepted.Writer.TryWrite(connection))
            {
                // Unbound between the accept and here: Kestrel will not take it.
                await connection.DisposeAsync().ConfigureAwait(true);
            }

            await connection.Processing.ConfigureAwait(true);
        }
        finally
        {
            if (connection is not null)
            {
                live.Remove(connection);
            }

            Interlocked.Decrement(ref _connections);
        }
    }

    private ValueTask AbortLiveOnCurrentShard()
    {
        HashSet<MinissConnection> live = _live[Shard.Current!.Id];
        if (live.Count > 0)
        {
            var abort = new ConnectionAbortedException("The Miniss listener was disposed while the connection was open.");
            // A copy: an abort may end a connection, and its removal from the set, before the loop is done.
            foreach (MinissConnection connection in new List<MinissConnection>(live))
            {
                connection.Abort(abort);
            }
        }

        return ValueTask.CompletedTask;
    }

    private async Task UnbindCoreAsync()
    {
        if (_server is not null)
        {
            await _server.StopAcceptingAsync().ConfigureAwait(false);
        }

        _accepted.Writer.TryComplete();

        // Connections accepted and never taken by Kestrel: nobody else will close them.
        while (_accepted.Reader.TryRead(out MinissConnection? connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await UnbindAsync().ConfigureAwait(false);

        // Kestrel disposes the connections it served before it disposes the listener; those still open (an application
        // that ignored the abort) are aborted here, which also ends loops that wait on a pipe rather than the socket,
        // and the server closes them and waits for their loops.
        try
        {
            await _factory.Runtime.InvokeOnAll(AbortLiveOnCurrentShard).ConfigureAwait(false);
        }
        catch (Exception) when (_factory.Runtime.IsStopping)
        {
            // The runtime is stopping: its stop cancels every operation of the connections.
        }

        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
        }

        _factory.OnListenerDisposed(this);
    }
}
