using Miniss.IO;
using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Binding, address sharing and the options of listeners and of the connections they accept.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ListenerTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test]
    public void Binding_an_address_a_plain_socket_holds_throws_AddressAlreadyInUse()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(AnyLoopbackPort);
        holder.Listen();

        var error = Assert.Throws<SocketException>(() => ShardListener.Bind(holder.LocalEndPoint!));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        Assert.That(error.Message, Does.Contain(holder.LocalEndPoint!.ToString()));
    }

    [Test]
    public void Without_SO_REUSEPORT_a_second_listener_on_the_port_throws_AddressAlreadyInUse()
    {
        var exclusive = new ListenerOptions { ReusePort = false };
        using ShardListener first = ShardListener.Bind(AnyLoopbackPort, exclusive);

        var error = Assert.Throws<SocketException>(() => ShardListener.Bind(first.LocalEndPoint, exclusive));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
    }

    [Test]
    public void With_SO_REUSEPORT_listeners_share_the_port()
    {
        using ShardListener first = ShardListener.Bind(AnyLoopbackPort);
        using ShardListener second = ShardListener.Bind(first.LocalEndPoint);

        Assert.That(second.LocalEndPoint, Is.EqualTo(first.LocalEndPoint));
        Assert.That(((IPEndPoint)first.LocalEndPoint).Port, Is.Not.Zero, "port 0 is replaced by the kernel's choice");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_server_on_a_port_in_use_fails_to_start_and_leaves_nothing_open(CancellationToken token)
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(AnyLoopbackPort);
        holder.Listen();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        int descriptorsBefore = OpenDescriptorCount();

        var error = Assert.ThrowsAsync<SocketException>(async () => await ShardServer.StartAsync(scope.Runtime, holder.LocalEndPoint!, Echo).Within(token));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore));
    }

    [Test]
    public void Binding_a_port_another_socket_listens_on_with_SO_REUSEPORT_throws_AddressAlreadyInUse_naming_the_option()
    {
        using Socket other = ListenWithReusePort();

        var error = Assert.Throws<SocketException>(() => ShardListener.Bind(other.LocalEndPoint!));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        Assert.That(error.Message, Does.Contain(other.LocalEndPoint!.ToString()).And.Contain(nameof(ListenerOptions.ShareAcrossProcesses)));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_server_on_a_port_another_socket_listens_on_with_SO_REUSEPORT_fails_to_start_and_leaves_nothing_open(CancellationToken token)
    {
        using Socket other = ListenWithReusePort();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        int descriptorsBefore = OpenDescriptorCount();

        var error = Assert.ThrowsAsync<SocketException>(async () => await ShardServer.StartAsync(scope.Runtime, other.LocalEndPoint!, Echo).Within(token));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        Assert.That(error.Message, Does.Contain(nameof(ListenerOptions.ShareAcrossProcesses)));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore));
    }

    [Test, CancelAfter(20_000)]
    public async Task With_ShareAcrossProcesses_a_listener_and_a_server_join_a_port_another_socket_listens_on(CancellationToken token)
    {
        using Socket other = ListenWithReusePort();
        var sharing = new ListenerOptions { ShareAcrossProcesses = true };
        await using var scope = RuntimeScope.Start(detectStalls: false);

        using (ShardListener listener = ShardListener.Bind(other.LocalEndPoint!, sharing))
        {
            Assert.That(listener.LocalEndPoint, Is.EqualTo(other.LocalEndPoint));
        }

        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, other.LocalEndPoint!, Echo, new ShardServerOptions { Listener = sharing }).Within(token);
        Assert.That(server.LocalEndPoint, Is.EqualTo(other.LocalEndPoint));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_restarted_server_binds_its_port_while_connections_of_the_previous_one_linger_in_TIME_WAIT(CancellationToken token)
    {
        IPEndPoint endPoint = UnusedLoopbackEndPoint();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        for (int run = 0; run < 2; run++)
        {
            // The server closes first, so its side of each connection lingers in TIME_WAIT.
            await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, endPoint, static connection => connection.SendAsync("bye"u8.ToArray())).Within(token);
            for (int i = 0; i < 3; i++)
            {
                using Socket client = await ConnectDotNetAsync(endPoint, token);
                byte[] buffer = new byte[8];
                int total = 0;
                int received;
                while ((received = await client.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, token)) > 0)
                {
                    total += received;
                }

                Assert.That(buffer.AsSpan(0, total).ToArray(), Is.EqualTo("bye"u8.ToArray()));
            }

            await server.StopAsync().Within(token);
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Accepted_connections_know_both_endpoints_and_start_with_NoDelay(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        Task<ShardConnection> accepting = scope.Runtime.SubmitTo(1, () => listener.AcceptAsync()).Within(token);
        ShardConnection client = await scope.Runtime.SubmitTo(0, () => ShardConnection.ConnectAsync(listener.LocalEndPoint)).Within(token);
        ShardConnection accepted = await accepting;
        try
        {
            Assert.That(accepted.Shard.Id, Is.EqualTo(1));
            Assert.That(accepted.LocalEndPoint, Is.EqualTo(listener.LocalEndPoint));
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
            Assert.That(client.RemoteEndPoint, Is.EqualTo(listener.LocalEndPoint));
            Assert.That(accepted.NoDelay, Is.True, "ListenerOptions.NoDelay defaults to true");
            Assert.That(client.NoDelay, Is.False, "a connecting socket keeps the kernel's default");
        }
        finally
        {
            client.Dispose();
            accepted.Dispose();
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Connection_options_read_back_what_was_set(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        ShardConnection client = await scope.Runtime.SubmitTo(0, () => ShardConnection.ConnectAsync(server.LocalEndPoint)).Within(token);
        using (client)
        {
            // Options are plain system calls: any thread may set them.
            client.NoDelay = true;
            client.KeepAlive = true;
            client.ReceiveBufferSize = 32 * 1024;
            client.SendBufferSize = 48 * 1024;
            client.LingerState = new LingerOption(true, 3);

            Assert.That(client.NoDelay, Is.True);
            Assert.That(client.KeepAlive, Is.True);
            Assert.That(client.ReceiveBufferSize, Is.EqualTo(64 * 1024), "Linux doubles SO_RCVBUF");
            Assert.That(client.SendBufferSize, Is.EqualTo(96 * 1024), "Linux doubles SO_SNDBUF");
            Assert.That(client.LingerState.Enabled, Is.True);
            Assert.That(client.LingerState.LingerTime, Is.EqualTo(3));
        }

        Assert.Throws<ObjectDisposedException>(() => _ = client.NoDelay);
    }

    [Test, CancelAfter(20_000)]
    public async Task An_aborted_connection_resets_its_peer(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(AnyLoopbackPort);
        listener.Listen();
        Task<Socket> accepting = listener.AcceptAsync(token).AsTask();

        await scope.Runtime.SubmitTo(0, async () =>
        {
            ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint!);
            await client.SendAsync("bye"u8.ToArray());
            client.Abort();
            Assert.That(client.IsDisposed, Is.True);
        }).Within(token);

        using Socket peer = await accepting;
        var error = Assert.ThrowsAsync<SocketException>(async () =>
        {
            byte[] buffer = new byte[16];
            while (await peer.ReceiveAsync(buffer, SocketFlags.None, token) > 0)
            {
            }
        });
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
    }

    /// <summary>A plain .NET socket listening on a loopback port with <c>SO_REUSEPORT</c>, as another process's
    /// server would (or a second Miniss server of another process).</summary>
    private static Socket ListenWithReusePort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            const int SOL_SOCKET = 1;
            const int SO_REUSEPORT = 15;
            socket.SetRawSocketOption(SOL_SOCKET, SO_REUSEPORT, BitConverter.GetBytes(1));
            socket.Bind(AnyLoopbackPort);
            socket.Listen();
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
