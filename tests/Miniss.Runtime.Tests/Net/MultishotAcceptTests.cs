using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>A multishot accept serves as many connections as single-shot accepts, and a listener closed with accepted
/// connections still queued closes them.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class MultishotAcceptTests
{
    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(30_000)]
    public async Task Two_hundred_and_fifty_connections_are_accepted_and_served(bool multishot, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { ShardCount = 2, StallThreshold = TimeSpan.Zero, Multishot = multishot });
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        // .NET clients from the thread pool, 25 at a time, each a small round trip.
        const int count = 250;
        int served = 0;
        var gate = new SemaphoreSlim(25);
        var clients = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(token);
            try
            {
                using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
                byte[] payload = RandomBytes(100 + i, seed: i);
                await client.SendAsync(payload, SocketFlags.None, token);
                byte[] back = new byte[payload.Length];
                for (int total = 0; total < back.Length;)
                {
                    int received = await client.ReceiveAsync(back.AsMemory(total), SocketFlags.None, token);
                    Assert.That(received, Is.GreaterThan(0));
                    total += received;
                }

                Assert.That(back, Is.EqualTo(payload));
                Interlocked.Increment(ref served);
            }
            finally
            {
                gate.Release();
            }
        }).ToArray();
        await Task.WhenAll(clients);

        Assert.That(served, Is.EqualTo(count));
        Assert.That(server.AcceptedConnections, Is.EqualTo(count));
        long accepted = scope.Runtime.Shards.Sum(s => s.MultishotStatistics.Accepted);
        long armed = scope.Runtime.Shards.Sum(s => s.MultishotStatistics.AcceptsArmed);
        if (multishot)
        {
            Assert.That(accepted, Is.EqualTo(count), "every connection came from a multishot accept");
            Assert.That(armed, Is.LessThan(count / 4), "one accept armed serves many connections");
        }
        else
        {
            Assert.That(accepted + armed, Is.Zero);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task A_connection_queued_by_one_shards_multishot_accept_is_taken_by_an_accept_on_another_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        // Shard 0 accepts once, which arms its multishot accept; the next connection waits in its queue.
        Task<ShardConnection> first = scope.Runtime.SubmitTo(0, () => listener.AcceptAsync()).AsTask();
        using Socket firstClient = await ConnectDotNetAsync(listener.LocalEndPoint, token);
        using ShardConnection firstAccepted = await first.WaitAsync(token);
        using Socket secondClient = await ConnectDotNetAsync(listener.LocalEndPoint, token);
        await Bounded.Eventually(() => listener.QueuedConnections == 1, "the second connection is queued on shard 0", token);

        using ShardConnection second = await scope.Runtime.SubmitTo(1, () => listener.AcceptAsync()).Within(token);

        Assert.That(second.Shard.Id, Is.EqualTo(1), "the connection belongs to the shard that accepted it");
        Assert.That(second.RemoteEndPoint, Is.EqualTo(secondClient.LocalEndPoint));
        Assert.That(listener.QueuedConnections, Is.Zero);
    }

    [Test, CancelAfter(60_000)]
    public async Task An_accept_pending_on_another_shard_completes_with_the_next_connection_of_the_multishot_accept(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        Task<ShardConnection> first = scope.Runtime.SubmitTo(0, () => listener.AcceptAsync()).AsTask();
        using Socket firstClient = await ConnectDotNetAsync(listener.LocalEndPoint, token);
        using ShardConnection firstAccepted = await first.WaitAsync(token);
        Assert.That(listener.AcceptsMultishot, Is.True);

        // Shard 1 waits first; then several connections come: every one reaches an accept, none stays queued.
        var clients = new List<Socket>();
        var accepted = new List<ShardConnection>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                Task<ShardConnection> pending = scope.Runtime.SubmitTo(1, () => listener.AcceptAsync()).AsTask();
                clients.Add(await ConnectDotNetAsync(listener.LocalEndPoint, token));
                accepted.Add(await pending.WaitAsync(token));
                Assert.That(accepted[i].Shard.Id, Is.EqualTo(1));
            }
        }
        finally
        {
            accepted.ForEach(connection => connection.Dispose());
            clients.ForEach(client => client.Dispose());
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Disposing_a_listener_closes_the_connections_it_accepted_and_nobody_took(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        int descriptorsBefore = OpenDescriptorCount();
        ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        EndPoint endPoint = listener.LocalEndPoint;

        // One accept arms the multishot accept; it takes the first connection, the next ones queue.
        Task<ShardConnection> first = scope.Runtime.SubmitTo(0, () => listener.AcceptAsync()).AsTask();
        var clients = new List<Socket>();
        for (int i = 0; i < 21; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(endPoint);
            clients.Add(client);
        }

        ShardConnection accepted = await first.WaitAsync(token);
        await Bounded.Eventually(() => listener.QueuedConnections == 20, "20 connections are queued", token);
        Assert.That(listener.AcceptsMultishot, Is.True);
        Assert.That(OpenDescriptorCount(), Is.GreaterThanOrEqualTo(descriptorsBefore + 1 + 21 + 21), "listener, clients, accepted");

        listener.Dispose();
        Assert.That(listener.QueuedConnections, Is.Zero);
        accepted.Dispose();
        foreach (Socket client in clients)
        {
            // The server side was closed: each client reads the end of the stream.
            Assert.That(client.Receive(new byte[1]), Is.Zero);
            client.Dispose();
        }

        await Bounded.Eventually(() => OpenDescriptorCount() == descriptorsBefore, "every descriptor is closed", token);
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await scope.Runtime.SubmitTo(0, () => listener.AcceptAsync()).Within(token));
    }
}
