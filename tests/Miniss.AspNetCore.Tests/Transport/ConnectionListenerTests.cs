using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Miniss.AspNetCore.Internal;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.Transport;

/// <summary>The transport's listener and connections used directly, as Kestrel uses them, on every backend.</summary>
[TestFixtureSource(typeof(TransportBackends), nameof(TransportBackends.Available))]
[CancelAfter(120_000)]
public sealed class ConnectionListenerTests(IoBackendKind backend)
{
    [Test]
    public async Task Disposing_the_listener_ends_a_connection_whose_input_is_full_and_never_read(CancellationToken token)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2, Backend = backend, PinThreads = false });
        using var factory = new MinissTransportFactory(runtime, Options.Create(new MinissTransportOptions { MaxBufferedInput = 64 * 1024 }));
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), token);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint, token);
        ConnectionContext? connection = await listener.AcceptAsync(token);
        Assert.That(connection, Is.Not.Null);

        // More than the input bound and the kernel's buffers: the receive loop waits for room that never comes.
        using var sending = new CancellationTokenSource();
        Task send = client.SendAsync(new byte[8 << 20], SocketFlags.None, sending.Token).AsTask();
        Assert.That(await TransportApp.EventuallyAsync(() => factory.RentedBlocks >= 16), Is.True, "the input never filled");

        // Disposed as Kestrel does after its drain, without the connection having been disposed first.
        await listener.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60), token);
        Assert.That(factory.Connections, Is.Zero);
        await sending.CancelAsync();
        Assert.CatchAsync(async () => await send);
        await connection!.DisposeAsync();
    }

    [Test]
    public async Task Abort_from_another_thread_closes_the_connection_and_fires_ConnectionClosed(CancellationToken token)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2, Backend = backend, PinThreads = false });
        using var factory = new MinissTransportFactory(runtime, Options.Create(new MinissTransportOptions()));
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), token);
        try
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.EndPoint, token);
            ConnectionContext connection = (await listener.AcceptAsync(token))!;
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using CancellationTokenRegistration registration = connection.ConnectionClosed.Register(() => closed.TrySetResult());

            Assert.That(Shard.Current, Is.Null);
            connection.Abort(new ConnectionAbortedException("aborted by the test"));

            // The peer sees the end of the stream (nothing was sent), and the transport's input ends with the reason.
            Assert.That(await client.ReceiveAsync(new byte[16], SocketFlags.None, token), Is.Zero);
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(60), token);
            var error = Assert.CatchAsync<ConnectionAbortedException>(async () => await connection.Transport.Input.ReadAsync(token));
            Assert.That(error!.Message, Is.EqualTo("aborted by the test"));
            await connection.DisposeAsync();
            Assert.That(await TransportApp.EventuallyAsync(() => factory.Connections == 0), Is.True);
        }
        finally
        {
            await listener.DisposeAsync();
        }
    }
}
