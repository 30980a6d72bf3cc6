using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Receives through a multishot receive and the shard's provided-buffer ring deliver the same bytes and
/// outcomes as single-shot receives, and every buffer goes back to the ring whatever happens to the connection.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class MultishotReceiveTests
{
    private static RuntimeScope StartRuntime(bool multishot, int bufferCount = 256, int bufferSize = 8 * 1024) =>
        RuntimeScope.Start(new RuntimeOptions
        {
            ShardCount = 2,
            StallThreshold = TimeSpan.Zero,
            Multishot = multishot,
            ReceiveBufferCount = bufferCount,
            ReceiveBufferSize = bufferSize,
        });

    private static Task<MultishotStatistics[]> StatisticsAsync(RuntimeScope scope, CancellationToken token) =>
        scope.Runtime.InvokeOnAll(() => Shard.Current!.MultishotStatistics).Within(token);

    /// <summary>Waits until no shard's ring has a buffer out (completions may still be on their way).</summary>
    private static Task BuffersBackToRing(RuntimeScope scope, CancellationToken token) =>
        Bounded.Eventually(() => scope.Runtime.Shards.All(s => s.MultishotStatistics.BuffersInUse == 0), "every buffer is back in its ring", token);

    [TestCase(1, true)]
    [TestCase(1_000, true)]
    [TestCase(65_537, true)]
    [TestCase(1 << 20, true)]
    [TestCase(4 << 20, true)]
    [TestCase(1, false)]
    [TestCase(65_537, false)]
    [TestCase(4 << 20, false)]
    [CancelAfter(20_000)]
    public async Task A_random_payload_is_echoed_byte_for_byte_with_and_without_multishot_receives(int size, bool multishot, CancellationToken token)
    {
        byte[] payload = RandomBytes(size, seed: size + 11);
        await using RuntimeScope scope = StartRuntime(multishot);
        bool serverMultishot = false;
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await Echo(connection);
            serverMultishot = connection.ReceivesMultishot || serverMultishot;
        }).Within(token);

        (byte[] echoed, bool clientMultishot) = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            byte[] back = await RoundTripAsync(client, payload);
            return (back, client.ReceivesMultishot);
        }).Within(token);

        AssertSameBytes(echoed, payload);
        MultishotStatistics[] stats = await StatisticsAsync(scope, token);
        if (multishot)
        {
            Assert.That(clientMultishot && serverMultishot, Is.True, "both ends received through multishot receives");
            Assert.That(stats[1].BufferRingRegistered, Is.True, "the client's shard set up its ring");
            Assert.That(stats.Sum(s => s.ReceivesArmed), Is.GreaterThanOrEqualTo(2));
            Assert.That(stats.Sum(s => s.BuffersFilled), Is.GreaterThan(0));
            Assert.That(stats.Sum(s => s.AcceptsArmed), Is.GreaterThan(0));
        }
        else
        {
            Assert.That(serverMultishot || clientMultishot, Is.False);
            Assert.That(stats.Select(s => s.BufferRingRegistered), Is.All.False);
            Assert.That(stats.Sum(s => s.ReceivesArmed + s.AcceptsArmed + s.BuffersFilled), Is.Zero, "the single-shot path only");
        }

        await BuffersBackToRing(scope, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task Many_connections_at_once_are_echoed_and_give_every_buffer_back(CancellationToken token)
    {
        // 64 buffers for 300 connections: the ring runs dry and receives fall back or wait, without losing a byte.
        await using RuntimeScope scope = StartRuntime(multishot: true, bufferCount: 64, bufferSize: 4096);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        int[] failures = await scope.Runtime.InvokeOnAll(async () =>
        {
            int shard = Shard.Current!.Id;
            var clients = new List<Task<bool>>();
            for (int i = 0; i < 150; i++)
            {
                int seed = shard * 1000 + i;
                clients.Add(OneAsync(seed));
            }

            bool[] results = await Task.WhenAll(clients);
            return results.Count(ok => !ok);

            async Task<bool> OneAsync(int seed)
            {
                byte[] payload = RandomBytes(20_000 + seed % 7_000, seed);
                await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
                byte[] echoed = await RoundTripAsync(client, payload);
                return echoed.AsSpan().SequenceEqual(payload);
            }
        }).Within(token);

        Assert.That(failures, Is.All.Zero, "every connection got its own bytes back");
        Assert.That(server.AcceptedConnections, Is.EqualTo(300));
        await BuffersBackToRing(scope, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task Data_that_arrives_after_a_receive_was_cancelled_is_kept_for_the_next_receive(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime(multishot: true);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        byte[] payload = RandomBytes(50_000, seed: 21);

        (bool cancelled, bool multishot, byte[] received) = await scope.Runtime.SubmitTo(0, async () =>
        {
            ValueTask<ShardConnection> accepting = listener.AcceptAsync();
            await using ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint);
            await using ShardConnection server = await accepting;

            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = server.ReceiveAsync(new byte[1024], cts.Token);
            cts.Cancel();
            bool wasCancelled = false;
            try
            {
                await pending;
            }
            catch (OperationCanceledException)
            {
                wasCancelled = true;
            }

            await client.SendAsync(payload);
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(20));
            byte[] buffer = new byte[payload.Length];
            await ReceiveExactlyAsync(server, buffer);
            return (wasCancelled, server.ReceivesMultishot, buffer);
        }).Within(token);

        Assert.That(cancelled, Is.True, "the pending receive ended with OperationCanceledException");
        Assert.That(multishot, Is.True);
        AssertSameBytes(received, payload);
        await BuffersBackToRing(scope, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_peer_reset_during_a_multishot_receive_throws_ConnectionReset(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime(multishot: true);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        Task<SocketError> receiving = scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection server = await listener.AcceptAsync();
            byte[] buffer = new byte[4096];
            try
            {
                // The peer's bytes first, then its reset.
                while (await server.ReceiveAsync(buffer) > 0)
                {
                }

                return SocketError.Success;
            }
            catch (SocketException e)
            {
                Assert.That(server.ReceivesMultishot || Shard.Current!.MultishotStatistics.ReceivesArmed > 0, Is.True);
                return e.SocketErrorCode;
            }
        }).AsTask();

        using (Socket peer = await ConnectDotNetAsync(listener.LocalEndPoint, token))
        {
            await peer.SendAsync(RandomBytes(10_000, seed: 22), SocketFlags.None, token);
            await Task.Delay(50, token);
            Reset(peer);
        }

        Assert.That(await receiving.WaitAsync(token), Is.EqualTo(SocketError.ConnectionReset));
        await BuffersBackToRing(scope, token);
    }

    [Test, CancelAfter(20_000)]
    public async Task Disposing_a_connection_with_unread_data_gives_its_buffers_back(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime(multishot: true);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        (int held, int queued) = await scope.Runtime.SubmitTo(0, async () =>
        {
            ValueTask<ShardConnection> accepting = listener.AcceptAsync();
            await using ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint);
            ShardConnection server = await accepting;

            // One small read arms the multishot receive; the rest of the 200 KB lands in provided buffers unread.
            await client.SendAsync(RandomBytes(200_000, seed: 23));
            byte[] first = new byte[10];
            await ReceiveExactlyAsync(server, first);
            for (int i = 0; i < 200 && server.BufferedReceiveBytes < 200_000 - 10; i++)
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(2));
            }

            int inUse = Shard.Current!.MultishotStatistics.BuffersInUse;
            int bytes = server.BufferedReceiveBytes;
            server.Dispose();
            return (inUse, bytes);
        }).Within(token);

        Assert.That(queued, Is.EqualTo(200_000 - 10), "the unread bytes were queued in provided buffers");
        Assert.That(held, Is.GreaterThan(0));
        await BuffersBackToRing(scope, token);
    }

    [Test, CancelAfter(30_000)]
    public async Task More_data_than_the_ring_holds_reaches_a_slow_reader_without_loss(CancellationToken token)
    {
        // 16 buffers of 4 KiB (64 KiB) for 2 MiB: the ring runs dry (ENOBUFS) again and again, and the receive is armed
        // again as the reader catches up.
        await using RuntimeScope scope = StartRuntime(multishot: true, bufferCount: 16, bufferSize: 4096);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        byte[] payload = RandomBytes(2 << 20, seed: 24);

        Task<byte[]> reading = scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection server = await listener.AcceptAsync();
            byte[] data = new byte[payload.Length];
            int total = 0;
            int reads = 0;
            while (total < data.Length)
            {
                int received = await server.ReceiveAsync(data.AsMemory(total, Math.Min(3000, data.Length - total)));
                Assert.That(received, Is.GreaterThan(0), "early end of stream");
                total += received;
                if (++reads % 64 == 0)
                {
                    await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                }
            }

            return data;
        }).AsTask();

        using (Socket peer = await ConnectDotNetAsync(listener.LocalEndPoint, token))
        {
            await peer.SendAsync(payload, SocketFlags.None, token);
            AssertSameBytes(await reading.WaitAsync(token), payload);
        }

        MultishotStatistics stats = scope.Runtime[0].MultishotStatistics;
        Assert.That(stats.BufferStarvations, Is.GreaterThan(0), "the ring ran dry");
        Assert.That(stats.ReceivesArmed, Is.GreaterThan(1), "and the receive was armed again");
        await BuffersBackToRing(scope, token);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_connection_that_does_not_read_holds_at_most_an_eighth_of_the_shards_ring(CancellationToken token)
    {
        const int size = 4 << 20;
        await using RuntimeScope scope = StartRuntime(multishot: true);
        var connected = new TaskCompletionSource<ShardConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            byte[] buffer = new byte[64 * 1024];
            long total = await connection.ReceiveAsync(buffer.AsMemory(0, 1));
            connected.TrySetResult(connection);
            await resume.Task;
            int n;
            while (total < size && (n = await connection.ReceiveAsync(buffer)) > 0)
            {
                total += n;
            }

            received.TrySetResult(total);
        }).Within(token);

        using var client = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.LocalEndPoint, token);
        Task sending = client.SendAsync(RandomBytes(size, seed: 5), SocketFlags.None, token).AsTask();
        ShardConnection reader = await connected.Task.WaitAsync(token);
        Shard shard = scope.Runtime.Shards.First(s => s.MultishotStatistics.BuffersInUse > 0 || s.MultishotStatistics.ReceivesArmed > 0);

        // The reader reads nothing more: its multishot receive ends (paused, or, before the cap, when the ring ran dry).
        await Bounded.Eventually(() => !reader.MultishotReceiveArmed && shard.MultishotStatistics.BuffersInUse > 0, "the idle reader's receive ends", token);
        int cap = Math.Max(4, 256 / 8);
        Assert.That(shard.MultishotStatistics.BuffersInUse, Is.LessThanOrEqualTo(cap + 8), "a reader that does not read holds at most an eighth of the ring (and what was in flight)");

        resume.SetResult();
        Assert.That(await received.Task.WaitAsync(token), Is.EqualTo((long)size), "every byte arrives once the reader reads again");
        await sending.WaitAsync(token);
        await BuffersBackToRing(scope, token);
    }
}
