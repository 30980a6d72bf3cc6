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
        await using var scope = NetRuntime.Start();
        int descriptorsBefore = OpenDescriptorCount();

        var error = Assert.ThrowsAsync<SocketException>(async () => await ShardServer.StartAsync(scope.Runtime, holder.LocalEndPoint!, Echo).Within(token));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore));
    }

    [Test, CancelAfter(20_000)]
    public async Task Accepted_connections_know_both_endpoints_and_start_with_NoDelay(CancellationToken token)
    {
        await using var scope = NetRuntime.Start();
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
        await using var scope = NetRuntime.Start();
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
        await using var scope = NetRuntime.Start();
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
}
