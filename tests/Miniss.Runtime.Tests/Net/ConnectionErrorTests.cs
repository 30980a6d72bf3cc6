using Miniss.IO;
using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Failures reach user code as the <see cref="SocketException"/> a .NET user expects, and a failed connection
/// never stops the server from serving the others.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ConnectionErrorTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(20_000)]
    public async Task Connecting_where_nothing_listens_throws_ConnectionRefused(CancellationToken token)
    {
        IPEndPoint nobody = UnusedLoopbackEndPoint();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        int descriptorsBefore = OpenDescriptorCount();

        Exception? error = await scope.Runtime.SubmitTo(0, async () =>
        {
            try
            {
                await using ShardConnection connection = await ShardConnection.ConnectAsync(nobody);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(error.Message, Does.Contain(nobody.ToString()));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore), "the failed socket is closed");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_peer_reset_fails_a_pending_receive_with_ConnectionReset_and_the_server_goes_on(CancellationToken token)
    {
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            if (outcome.Task.IsCompleted)
            {
                await Echo(connection);
                return;
            }

            try
            {
                byte[] buffer = new byte[100];
                await ReceiveExactlyAsync(connection, buffer.AsMemory(0, 5));
                await connection.ReceiveAsync(buffer);
                outcome.SetResult(null);
            }
            catch (Exception e)
            {
                outcome.SetResult(e);
                throw;
            }
        }).Within(token);

        using (Socket peer = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await peer.SendAsync("hello"u8.ToArray(), SocketFlags.None, token);
            await Task.Delay(50, token);
            Reset(peer);
        }

        Exception? error = await outcome.Task.WaitAsync(token);
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
        await AssertStillServes(scope.Runtime, server, token);
        Assert.That(server.FaultedConnections, Is.EqualTo(1));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_peer_reset_fails_a_pending_send_with_ConnectionReset_and_the_server_goes_on(CancellationToken token)
    {
        var sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            if (outcome.Task.IsCompleted)
            {
                await Echo(connection);
                return;
            }

            try
            {
                // Far more than the socket buffers hold: the send waits for a reader that never reads.
                connection.SendBufferSize = 64 * 1024;
                sending.SetResult();
                await connection.SendAsync(new byte[64 << 20]);
                outcome.SetResult(null);
            }
            catch (Exception e)
            {
                outcome.SetResult(e);
                throw;
            }
        }).Within(token);

        using (Socket peer = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            peer.ReceiveBufferSize = 64 * 1024;
            await sending.Task.WaitAsync(token);
            await Task.Delay(100, token);
            Reset(peer);
        }

        Exception? error = await outcome.Task.WaitAsync(token);
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
        await AssertStillServes(scope.Runtime, server, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_peer_that_disappears_mid_response_fails_the_send_and_the_server_goes_on(CancellationToken token)
    {
        // The peer asks, reads a little of the answer, and closes with unread data: the kernel resets, and the
        // server's next sends fail (ConnectionReset first, then Shutdown: EPIPE).
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            if (outcome.Task.IsCompleted)
            {
                await Echo(connection);
                return;
            }

            try
            {
                await ReceiveExactlyAsync(connection, new byte[3]);
                byte[] chunk = new byte[256 * 1024];
                for (int i = 0; i < 1000; i++)
                {
                    await connection.SendAsync(chunk);
                }

                outcome.SetResult(null);
            }
            catch (Exception e)
            {
                outcome.SetResult(e);
                throw;
            }
        }).Within(token);

        using (Socket peer = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await peer.SendAsync("GET"u8.ToArray(), SocketFlags.None, token);
            byte[] some = new byte[1000];
            _ = await peer.ReceiveAsync(some, SocketFlags.None, token);
        }

        Exception? error = await outcome.Task.WaitAsync(token);
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.AnyOf(SocketError.ConnectionReset, SocketError.Shutdown));
        await AssertStillServes(scope.Runtime, server, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_client_that_sends_nothing_holds_up_nobody_and_is_closed_when_the_server_stops(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        await using (server)
        {
            using Socket silent = await ConnectDotNetAsync(server.LocalEndPoint, token);
            await Bounded.Eventually(() => server.ActiveConnections == 1, "the silent client is being served", token);

            await AssertStillServes(scope.Runtime, server, token);

            await server.StopAsync().Within(token);
            Assert.That(server.ActiveConnections, Is.Zero);
            byte[] buffer = new byte[1];
            Assert.That(await silent.ReceiveAsync(buffer, SocketFlags.None, token), Is.Zero, "the silent client sees the end of stream");
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task A_half_closed_peer_still_receives_the_reply(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            // Read the whole request (to the client's half-close), then answer it.
            byte[] request = await ReceiveToEndAsync(connection, 1000);
            await connection.SendAsync(Encoding.ASCII.GetBytes($"got {request.Length} bytes: {Encoding.ASCII.GetString(request)}"));
        }).Within(token);

        string reply = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            await client.SendAsync("question"u8.ToArray());
            await client.ShutdownAsync(SocketShutdown.Send);
            return Encoding.ASCII.GetString(await ReceiveToEndAsync(client, 1000));
        }).Within(token);

        Assert.That(reply, Is.EqualTo("got 8 bytes: question"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_send_after_the_peer_closed_throws_instead_of_raising_SIGPIPE(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(AnyLoopbackPort);
        listener.Listen();

        Task<Exception?> client = scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection connection = await ShardConnection.ConnectAsync(listener.LocalEndPoint!);
            Assert.That(await connection.ReceiveAsync(new byte[1]), Is.Zero, "the peer closed");
            try
            {
                for (int i = 0; i < 100; i++)
                {
                    await connection.SendAsync(new byte[1000]);
                    await connection.SendAsync(new[] { new ReadOnlyMemory<byte>(new byte[10]), new ReadOnlyMemory<byte>(new byte[10]) });
                    await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                }

                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        using (Socket accepted = await listener.AcceptAsync(token))
        {
            accepted.Shutdown(SocketShutdown.Both);
        }

        Exception? error = await client;
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.AnyOf(SocketError.ConnectionReset, SocketError.Shutdown));
    }

    /// <summary>A fresh connection to <paramref name="server"/> gets its echo.</summary>
    private static async Task AssertStillServes(MinissRuntime runtime, ShardServer server, CancellationToken token)
    {
        byte[] payload = RandomBytes(10_000, seed: 42);
        byte[] echoed = await runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            return await RoundTripAsync(client, payload);
        }).Within(token);
        AssertSameBytes(echoed, payload);
    }
}
