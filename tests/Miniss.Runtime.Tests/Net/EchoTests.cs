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

/// <summary>Bytes sent through a Miniss server come back unchanged, whatever their size, address family or the API
/// that moved them.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class EchoTests(IoBackendKind backend) : BackendFixture(backend)
{
    [TestCase(1)]
    [TestCase(1_000)]
    [TestCase(65_537)]
    [TestCase(1 << 20)]
    [TestCase(4 << 20)]
    [CancelAfter(20_000)]
    public async Task A_random_payload_is_echoed_byte_for_byte(int size, CancellationToken token)
    {
        byte[] payload = RandomBytes(size, seed: size);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            return await RoundTripAsync(client, payload);
        }).Within(token);

        AssertSameBytes(echoed, payload);
    }

    [Test, CancelAfter(20_000)]
    public async Task IPv6_loopback_connections_echo(CancellationToken token)
    {
        byte[] payload = RandomBytes(100_000, seed: 6);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, new IPEndPoint(IPAddress.IPv6Loopback, 0), Echo).Within(token);

        (byte[] echoed, EndPoint? local, EndPoint? remote) = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            return (await RoundTripAsync(client, payload), client.LocalEndPoint, client.RemoteEndPoint);
        }).Within(token);

        AssertSameBytes(echoed, payload);
        Assert.That(((IPEndPoint)local!).Address, Is.EqualTo(IPAddress.IPv6Loopback));
        Assert.That(remote, Is.EqualTo(server.LocalEndPoint));
    }

    [Test, CancelAfter(20_000)]
    public async Task Unix_domain_socket_connections_echo(CancellationToken token)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"miniss-{Guid.NewGuid():N}.sock");
        byte[] payload = RandomBytes(300_000, seed: 7);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using (ShardServer server = await ShardServer.StartAsync(scope.Runtime, new UnixDomainSocketEndPoint(path), Echo).Within(token))
        {
            Assert.That(server.Distribution, Is.EqualTo(ConnectionDistribution.LeastLoaded), "a Unix socket cannot be shared by SO_REUSEPORT");
            byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
            {
                await using ShardConnection client = await ShardConnection.ConnectAsync(new UnixDomainSocketEndPoint(path));
                Assert.That(client.AddressFamily, Is.EqualTo(AddressFamily.Unix));
                return await RoundTripAsync(client, payload);
            }).Within(token);

            AssertSameBytes(echoed, payload);
        }

        Assert.That(System.IO.File.Exists(path), Is.False, "the listener deletes its socket file");
    }

    [Test, CancelAfter(60_000)]
    public async Task A_hundred_Unix_domain_echoes_in_a_row_each_end_with_the_end_of_stream(CancellationToken token)
    {
        // The echo above, repeated on one server: each round trip ends only when the server hears the client's end
        // of stream. One in a few dozen used to lose it (the server waited for ever), more often on a busy machine.
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"miniss-{Guid.NewGuid():N}.sock");
        byte[] payload = RandomBytes(300_000, seed: 7);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, new UnixDomainSocketEndPoint(path), Echo).Within(token);
        for (int i = 0; i < 100; i++)
        {
            byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
            {
                await using ShardConnection client = await ShardConnection.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return await RoundTripAsync(client, payload);
            }).Within(token);

            AssertSameBytes(echoed, payload);
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task A_plain_dotnet_client_is_echoed_by_a_Miniss_server(CancellationToken token)
    {
        byte[] payload = RandomBytes(2 << 20, seed: 8);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);

        Task sending = Task.Run(async () =>
        {
            await client.SendAsync(payload, SocketFlags.None, token);
            client.Shutdown(SocketShutdown.Send);
        }, token);
        byte[] echoed = new byte[payload.Length];
        int total = 0;
        int received;
        while ((received = await client.ReceiveAsync(echoed.AsMemory(total), SocketFlags.None, token)) > 0)
        {
            total += received;
        }

        await sending;
        Assert.That(total, Is.EqualTo(payload.Length));
        AssertSameBytes(echoed, payload);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_list_of_buffers_longer_than_one_vectored_write_is_sent_in_order(CancellationToken token)
    {
        // 200 buffers of 0 to 5000 bytes: several writev calls of MaxBuffersPerWrite, empty buffers skipped.
        var random = new Random(9);
        var buffers = new ReadOnlyMemory<byte>[200];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = RandomBytes(random.Next(0, 5000), seed: i);
        }

        byte[] expected = Concat(buffers);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            Task<byte[]> receiving = ReceiveToEndAsync(client, expected.Length).AsTask();
            await client.SendAsync(buffers);
            await client.ShutdownAsync(SocketShutdown.Send);
            return await receiving;
        }).Within(token);

        Assert.That(buffers, Has.Length.GreaterThan(ShardConnection.MaxBuffersPerWrite));
        AssertSameBytes(echoed, expected);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_multi_segment_sequence_is_sent_in_order(CancellationToken token)
    {
        byte[][] parts = [RandomBytes(10, 1), RandomBytes(70_000, 2), [], RandomBytes(1, 3), RandomBytes(3 << 20, 4)];
        System.Buffers.ReadOnlySequence<byte> sequence = Segments.Chain(parts);
        byte[] expected = Concat(Array.ConvertAll(parts, part => (ReadOnlyMemory<byte>)part));
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            Task<byte[]> receiving = ReceiveToEndAsync(client, expected.Length).AsTask();
            await client.SendAsync(sequence);
            await client.ShutdownAsync(SocketShutdown.Send);
            return await receiving;
        }).Within(token);

        Assert.That(sequence.IsSingleSegment, Is.False);
        AssertSameBytes(echoed, expected);
    }

    [Test, CancelAfter(20_000)]
    public async Task Pool_buffers_receive_and_send_without_copies_through_user_memory(CancellationToken token)
    {
        byte[] payload = RandomBytes(500_000, seed: 10);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            while (true)
            {
                (int received, Miniss.Buffers.BufferHandle buffer) = await connection.ReceiveAsync(64 * 1024);
                try
                {
                    if (received == 0)
                    {
                        return;
                    }

                    await connection.SendAsync(buffer, received);
                }
                finally
                {
                    connection.Shard.Buffers.Deallocate(buffer);
                }
            }
        }).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            return await RoundTripAsync(client, payload);
        }).Within(token);

        AssertSameBytes(echoed, payload);
        long[] allocated = await scope.Runtime.InvokeOnAll(() => Shard.Current!.Buffers.Stats.AllocatedBytes).Within(token);
        Assert.That(allocated, Is.All.Zero, "every pool buffer went back");
    }

    private static byte[] Concat(ReadOnlyMemory<byte>[] parts)
    {
        var all = new System.Collections.Generic.List<byte>();
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            all.AddRange(part.ToArray());
        }

        return [.. all];
    }
}
