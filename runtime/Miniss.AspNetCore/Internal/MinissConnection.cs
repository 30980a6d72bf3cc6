using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Miniss.Net;

namespace Miniss.AspNetCore.Internal;

/// <summary>
/// One Kestrel connection on a Miniss shard: a <see cref="ShardConnection"/> and two pipes, moved by two loops on the
/// connection's shard. The receive loop receives (through the shard's multishot receive when it has one) into the input
/// pipe, which Kestrel reads; the send loop sends what Kestrel flushed to the output pipe, everything flushed during a
/// tick in one vectored send.
/// </summary>
/// <remarks>
/// <para><b>Ending.</b> The peer's end of stream completes the input (Kestrel sees <c>IsCompleted</c>) and fires
/// <see cref="ConnectionClosed"/>; a failure completes it with a <see cref="ConnectionResetException"/> or an
/// <see cref="IOException"/>, or with the abort's reason after <see cref="Abort(ConnectionAbortedException)"/>, and also
/// ends the send loop. When Kestrel completes the output (or the send loop ends otherwise) the socket is shut down and
/// closed, which ends the receive loop. Both loops ended, the connection is over for the listener.</para>
/// <para><b>Threads.</b> The loops run on the shard. <see cref="Abort(ConnectionAbortedException)"/> and
/// <see cref="DisposeAsync"/> may be called from any thread and do their work on the shard.</para>
/// </remarks>
internal sealed class MinissConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature,
    IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature, IMemoryPoolFeature, IDuplexPipe
{
    private static readonly Action<object?> s_abort = static state => ((MinissConnection)state!).AbortOnShard();
    private static readonly Action<object?> s_fireClosed = static state => ((MinissConnection)state!).FireConnectionClosed();
    private static long s_lastId;

    private readonly ShardConnection _connection;
    private readonly ShardTransport _transport;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly ShardAffineReader _applicationInput;
    private readonly CancellationTokenSource _closed = new();
    private readonly long _id;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private FeatureCollection? _features;
    private IDuplexPipe _transportPipe;
    private ConnectionAbortedException? _abortReason;
    private Task _processing = Task.CompletedTask;
    private Task? _disposing;

    // Set on the shard when the send loop has ended (and closed the socket).
    private bool _sendEnded;

    public MinissConnection(ShardConnection connection, ShardTransport transport)
    {
        _connection = connection;
        _transport = transport;
        _id = Interlocked.Increment(ref s_lastId);
        _input = new Pipe(transport.Input);
        _output = new Pipe(transport.Output);
        _applicationInput = new ShardAffineReader(transport.Shard, _input.Reader);
        _transportPipe = this;
        LocalEndPoint = connection.LocalEndPoint;
        RemoteEndPoint = connection.RemoteEndPoint;
        ConnectionClosed = _closed.Token;

        // Where the request middleware finds the shard (HTTP/2 streams are served from the thread pool).
        _items = new ConnectionItems();
        _items[ShardAffinityStartupFilter.ShardKey] = transport.Shard;
    }

    /// <summary>The shard the connection lives on.</summary>
    public Shard Shard => _transport.Shard;

    /// <summary>Ends when both loops have ended: nothing of the connection runs any more.</summary>
    public Task Processing => _processing;

    public override string ConnectionId
    {
        get => _connectionId ??= $"miniss-{_transport.Shard.Id}-{_id:x}";
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => _features ??= CreateFeatures();

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport
    {
        get => _transportPipe;
        set => _transportPipe = value;
    }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public MemoryPool<byte> MemoryPool => _transport.Pool;

    PipeReader IDuplexPipe.Input => _applicationInput;

    PipeWriter IDuplexPipe.Output => _output.Writer;

    /// <summary>Starts the loops. On the connection's shard.</summary>
    public void Start() => _processing = RunAsync();

    public override void Abort(ConnectionAbortedException abortReason)
    {
        // The first reason wins; the loops read it when their operations fail.
        Interlocked.CompareExchange(ref _abortReason, abortReason, null);
        if (Shard.Current == _transport.Shard)
        {
            AbortOnShard();
        }
        else
        {
            _transport.Shard.Post(s_abort, this);
        }
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

#pragma warning disable CA2215 // ConnectionContext.DisposeAsync holds nothing to free: it completes at once.
    public override ValueTask DisposeAsync()
#pragma warning restore CA2215
    {
        Task? disposing = Volatile.Read(ref _disposing);
        if (disposing is null)
        {
            Task started = DisposeCoreAsync();
            disposing = Interlocked.CompareExchange(ref _disposing, started, null) ?? started;
        }

        return new ValueTask(disposing);
    }

    public override string ToString() => $"{ConnectionId} {RemoteEndPoint} -> {LocalEndPoint}";

    private async Task DisposeCoreAsync()
    {
        await new ShardSwitch(_transport.Shard);

        // Kestrel completed its ends already, unless the connection never reached it; completing again does nothing.
        await _input.Reader.CompleteAsync().ConfigureAwait(true);
        await _output.Writer.CompleteAsync().ConfigureAwait(true);
        await _processing.ConfigureAwait(true);
    }

    private FeatureCollection CreateFeatures()
    {
        var features = new FeatureCollection(7);
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionEndPointFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        return features;
    }

    private async Task RunAsync()
    {
        Task receiving = ReceiveLoopAsync();
        Task sending = SendLoopAsync();
        await receiving.ConfigureAwait(true);
        await sending.ConfigureAwait(true);
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter input = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = input.GetMemory(_transport.MinimumReceive);
                int received = await _connection.ReceiveAsync(memory).ConfigureAwait(true);
                if (received == 0)
                {
                    break;
                }

                input.Advance(received);
                FlushResult flushed = await input.FlushAsync().ConfigureAwait(true);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    // Kestrel stopped reading, or the send loop ended and closed the socket.
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = TranslateError(e);
        }

        await input.CompleteAsync(error).ConfigureAwait(true);
        if (error is not null && !_sendEnded)
        {
            // The connection is gone both ways: the send loop must not wait for output Kestrel may never write.
            _output.Reader.CancelPendingRead();
        }

        // Not inline: the callbacks are Kestrel's and the application's, and run after this loop's step.
        _transport.Shard.Post(s_fireClosed, this);
    }

    private async Task SendLoopAsync()
    {
        PipeReader output = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await output.ReadAsync().ConfigureAwait(true);
                if (result.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await _connection.SendAsync(buffer).ConfigureAwait(true);
                    }
                }
                finally
                {
                    output.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = TranslateError(e);
        }

        _sendEnded = true;

        // Shut down and closed: the peer sees the end of the stream (a reset when it sent bytes nobody read), and a
        // receive still pending ends.
        _connection.Dispose();
        _input.Writer.CancelPendingFlush();
        await output.CompleteAsync(error).ConfigureAwait(true);
    }

    private void AbortOnShard()
    {
        _connection.Dispose();
        _output.Reader.CancelPendingRead();
    }

    private void FireConnectionClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (AggregateException)
        {
            // A callback of Kestrel's or the application's threw; the connection ends all the same.
        }

        // The source is not disposed: a registration may still be removed after this, and without timers or a wait
        // handle it holds nothing the GC does not reclaim.
    }

    private Exception TranslateError(Exception error)
    {
        if (Volatile.Read(ref _abortReason) is { } reason)
        {
            return reason;
        }

        return error switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted } reset =>
                new ConnectionResetException(reset.Message, reset),
            SocketException { SocketErrorCode: SocketError.OperationAborted } or ObjectDisposedException =>
                new ConnectionAbortedException("The connection was closed by the transport.", error),
            _ => new IOException(error.Message, error),
        };
    }
}
