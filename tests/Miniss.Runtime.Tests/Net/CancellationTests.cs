using Miniss.IO;
using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Every wait can be given up: cancelled accepts, connects, receives and sends, and a close under a pending
/// operation, all complete their await and leave nothing open.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class CancellationTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(20_000)]
    public async Task A_cancelled_accept_throws_OperationCanceled_and_the_listener_accepts_afterwards(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        Exception? error = await scope.Runtime.SubmitTo(0, async () =>
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            try
            {
                await using ShardConnection unexpected = await listener.AcceptAsync(cancel.Token);
                return null;
            }
            catch (OperationCanceledException e) when (e.CancellationToken != cancel.Token)
            {
                return new InvalidOperationException("the OperationCanceledException does not carry the accept's token", e);
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);
        Assert.That(error, Is.InstanceOf<OperationCanceledException>());

        Task<ShardConnection> accepting = scope.Runtime.SubmitTo(0, () => listener.AcceptAsync()).Within(token);
        using Socket client = await ConnectDotNetAsync(listener.LocalEndPoint, token);
        ShardConnection accepted = await accepting;
        Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
        Assert.That(accepted.Shard.Id, Is.Zero);
        accepted.Dispose();
    }

    [Test, CancelAfter(20_000)]
    public async Task Disposing_a_listener_completes_a_pending_accept_with_OperationAborted(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        int descriptorsWithListener = OpenDescriptorCount();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Exception?> accepting = scope.Runtime.SubmitTo(1, async () =>
        {
            try
            {
                ValueTask<ShardConnection> accept = listener.AcceptAsync();
                started.SetResult();
                await using ShardConnection unexpected = await accept;
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);
        await started.Task.WaitAsync(token);
        await Task.Delay(20, token);
        listener.Dispose();

        Exception? error = await accepting;
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsWithListener - 1), "the listening socket is closed");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_connect_to_a_full_backlog_can_be_cancelled_or_time_out(CancellationToken token)
    {
        // A listener that never accepts, with a backlog of 0: once its queue holds a connection, the kernel drops
        // further handshakes, and their connects wait (the only loopback address that never answers).
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort, new ListenerOptions { Backlog = 0 });
        int descriptorsBefore = OpenDescriptorCount();

        (Exception? cancelled, Exception? timedOut, int queued) = await scope.Runtime.SubmitTo(0, async () =>
        {
            var fillers = new List<ShardConnection>();
            try
            {
                // Fill the queue: connect until one attempt times out, which proves it is full.
                while (fillers.Count < 16)
                {
                    try
                    {
                        fillers.Add(await ShardConnection.ConnectAsync(listener.LocalEndPoint, TimeSpan.FromMilliseconds(300)));
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                    {
                        break;
                    }
                }

                Exception? cancelledError = null;
                using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
                {
                    try
                    {
                        await using ShardConnection unexpected = await ShardConnection.ConnectAsync(listener.LocalEndPoint, cancel.Token);
                    }
                    catch (Exception e)
                    {
                        cancelledError = e;
                    }
                }

                Exception? timeoutError = null;
                try
                {
                    await using ShardConnection unexpected = await ShardConnection.ConnectAsync(listener.LocalEndPoint, TimeSpan.FromMilliseconds(100));
                }
                catch (Exception e)
                {
                    timeoutError = e;
                }

                return (cancelledError, timeoutError, fillers.Count);
            }
            finally
            {
                foreach (ShardConnection filler in fillers)
                {
                    filler.Dispose();
                }
            }
        }).Within(token);

        Assert.That(queued, Is.LessThan(16), "the backlog filled up");
        Assert.That(cancelled, Is.InstanceOf<OperationCanceledException>());
        Assert.That(timedOut, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)timedOut!).SocketErrorCode, Is.EqualTo(SocketError.TimedOut));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore), "every attempt's socket is closed");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_cancelled_receive_throws_OperationCanceled_and_the_connection_still_works(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        (Exception? error, byte[] echoed) = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            byte[] buffer = new byte[16];
            Exception? cancelled = null;
            using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            {
                try
                {
                    _ = await client.ReceiveAsync(buffer, cancel.Token);
                }
                catch (OperationCanceledException e) when (e.CancellationToken != cancel.Token)
                {
                    cancelled = new InvalidOperationException("the OperationCanceledException does not carry the receive's token", e);
                }
                catch (Exception e)
                {
                    cancelled = e;
                }
            }

            return (cancelled, await RoundTripAsync(client, "still here"u8.ToArray()));
        }).Within(token);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(echoed, Is.EqualTo("still here"u8.ToArray()));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_cancelled_send_to_a_peer_that_does_not_read_throws_OperationCanceled(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(AnyLoopbackPort);
        listener.Listen();
        Task<Socket> accepting = listener.AcceptAsync(token).AsTask();

        Exception? error = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint!);
            client.SendBufferSize = 64 * 1024;
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            try
            {
                await client.SendAsync(new byte[64 << 20], cancel.Token);
                return null;
            }
            catch (OperationCanceledException e) when (e.CancellationToken != cancel.Token)
            {
                return new InvalidOperationException("the OperationCanceledException does not carry the send's token", e);
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        using Socket peer = await accepting;
        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
    }

    [Test, CancelAfter(20_000)]
    public async Task Disposing_a_connection_completes_its_pending_receive_with_OperationAborted(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        int descriptorsBefore = OpenDescriptorCount();

        (Exception? error, bool disposedFirst) = await scope.Runtime.SubmitTo(0, async () =>
        {
            ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            ValueTask<int> receive = client.ReceiveAsync(new byte[16]);
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(20));
            client.Dispose();
            try
            {
                _ = await receive;
                return ((Exception?)null, client.IsDisposed);
            }
            catch (Exception e)
            {
                return (e, client.IsDisposed);
            }
        }).Within(token);

        Assert.That(disposedFirst, Is.True);
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
        await Bounded.Eventually(() => server.ActiveConnections == 0, "the server saw the close", token);
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore), "both ends are closed");
    }

    [Test, CancelAfter(20_000)]
    public async Task Disposing_a_connection_from_another_thread_completes_its_pending_send(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(AnyLoopbackPort);
        listener.Listen();
        Task<Socket> accepting = listener.AcceptAsync(token).AsTask();
        var connected = new TaskCompletionSource<ShardConnection>(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Exception?> sending = scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint!);
            client.SendBufferSize = 64 * 1024;
            try
            {
                // Started before the test thread hears of the connection: the dispose below always meets a send in
                // flight (64 MiB cannot complete while the peer reads nothing), however late this shard runs.
                ValueTask sent = client.SendAsync(new byte[64 << 20]);
                connected.SetResult(client);
                await sent;
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        using Socket peer = await accepting;
        ShardConnection connection = await connected.Task.WaitAsync(token);
        connection.Dispose();

        Exception? error = await sending;
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.OperationAborted));
    }

    [Test, CancelAfter(20_000)]
    public async Task Operations_on_a_disposed_connection_throw_ObjectDisposed(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        Exception?[] errors = await scope.Runtime.SubmitTo(0, async () =>
        {
            ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            await client.DisposeAsync();
            return new[]
            {
                await Capture(() => client.ReceiveAsync(new byte[1]).AsTask()),
                await Capture(() => client.SendAsync(new byte[1]).AsTask()),
                await Capture(() => client.ShutdownAsync().AsTask()),
                CaptureNow(() => client.AsStream()),
            };
        }).Within(token);

        Assert.That(errors, Is.All.InstanceOf<ObjectDisposedException>());
    }

    [Test, CancelAfter(20_000)]
    public async Task Receiving_off_the_connections_shard_throws_InvalidOperation(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        ShardConnection client = await scope.Runtime.SubmitTo(0, () => ShardConnection.ConnectAsync(server.LocalEndPoint)).Within(token);
        try
        {
            Exception? fromShard1 = await scope.Runtime.SubmitTo(1, () => new ValueTask<Exception?>(Capture(() => client.ReceiveAsync(new byte[1]).AsTask()))).Within(token);
            Exception? fromTestThread = await Capture(() => client.SendAsync(new byte[1]).AsTask());
            Assert.That(fromShard1, Is.TypeOf<InvalidOperationException>());
            Assert.That(fromTestThread, Is.TypeOf<InvalidOperationException>());
        }
        finally
        {
            client.Dispose();
        }
    }

    private static async Task<Exception?> Capture(Func<Task> operation)
    {
        try
        {
            await operation();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static Exception? CaptureNow(Action operation)
    {
        try
        {
            operation();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
