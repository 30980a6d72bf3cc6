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

/// <summary>How a <see cref="ShardServer"/> spreads, serves and stops its connections.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ServerTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(20_000)]
    public async Task Least_loaded_distribution_accepts_on_one_shard_and_serves_on_the_least_busy(CancellationToken token)
    {
        var servedOn = new List<int>();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            lock (servedOn)
            {
                servedOn.Add(Shard.Current!.Id);
            }

            Assert.That(connection.Shard, Is.SameAs(Shard.Current));
            await Echo(connection);
        }, new ShardServerOptions { Distribution = ConnectionDistribution.LeastLoaded, AcceptorShard = 1 }).Within(token);

        var clients = new List<Socket>();
        try
        {
            // Long-lived connections, one at a time: each goes to the shard with fewer.
            for (int i = 0; i < 10; i++)
            {
                Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
                clients.Add(client);
                await client.SendAsync(new byte[] { 1 }, SocketFlags.None, token);
                Assert.That(await client.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.EqualTo(1));
            }

            Assert.That(server.ActiveConnectionsOn(0), Is.EqualTo(5));
            Assert.That(server.ActiveConnectionsOn(1), Is.EqualTo(5));
            Assert.That(servedOn.FindAll(shard => shard == 0), Has.Count.EqualTo(5));
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }

        await Bounded.Eventually(() => server.ActiveConnections == 0, "every connection ended", token);
    }

    [Test, CancelAfter(20_000)]
    public async Task Stopping_closes_open_connections_waits_for_their_handlers_and_frees_every_socket(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        int descriptorsBefore = OpenDescriptorCount();
        int handlersReturned = 0;
        ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            try
            {
                await Echo(connection);
            }
            finally
            {
                Interlocked.Increment(ref handlersReturned);
            }
        }).Within(token);

        var clients = new List<Socket>();
        for (int i = 0; i < 6; i++)
        {
            clients.Add(await ConnectDotNetAsync(server.LocalEndPoint, token));
        }

        await Bounded.Eventually(() => server.ActiveConnections == 6, "all six are served", token);
        await server.StopAsync().Within(token);

        Assert.That(handlersReturned, Is.EqualTo(6));
        Assert.That(server.ActiveConnections, Is.Zero);
        foreach (Socket client in clients)
        {
            Assert.That(await client.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.Zero, "the client sees the end of stream");
            client.Dispose();
        }

        Assert.That(OpenDescriptorCount(), Is.EqualTo(descriptorsBefore), "listeners and connections are closed");
        var refused = Assert.ThrowsAsync<SocketException>(async () => (await ConnectDotNetAsync(server.LocalEndPoint, token)).Dispose());
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        await server.StopAsync().Within(token);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_handler_bug_is_reported_as_an_unhandled_exception_and_the_server_goes_on(CancellationToken token)
    {
        var reported = new TaskCompletionSource<ShardExceptionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        scope.Runtime.UnhandledException += (_, e) => reported.TrySetResult(e);
        int calls = 0;
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("handler bug");
            }

            await Echo(connection);
        }).Within(token);

        using (Socket first = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            Assert.That(await first.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.Zero, "the failed connection is closed");
        }

        ShardExceptionEventArgs report = await reported.Task.WaitAsync(token);
        Assert.That(report.Exception.Message, Is.EqualTo("handler bug"));
        Assert.That(server.FaultedConnections, Is.EqualTo(1));

        byte[] echoed = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            return await RoundTripAsync(client, "again"u8.ToArray());
        }).Within(token);
        Assert.That(echoed, Is.EqualTo("again"u8.ToArray()));
    }

    [Test, CancelAfter(20_000)]
    public async Task Stopping_the_runtime_under_a_running_server_ends_it(CancellationToken token)
    {
        var scope = RuntimeScope.Start(detectStalls: false);
        ShardServer server;
        Socket client;
        await using (scope)
        {
            server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
            client = await ConnectDotNetAsync(server.LocalEndPoint, token);
            await Bounded.Eventually(() => server.ActiveConnections == 1, "the client is served", token);
        }

        using (client)
        {
            await server.StopAsync().Within(token);
            Assert.That(server.ActiveConnections, Is.Zero);
            Assert.That(await client.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.Zero);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task MaxConnections_stops_accepting_until_a_connection_closes(CancellationToken token)
    {
        var served = new ServedCounter();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, served.EchoAsync,
            new ShardServerOptions { MaxConnections = 3 }).Within(token);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await ConnectDotNetAsync(server.LocalEndPoint, token));
                await EchoesOneByteAsync(clients[i], token);
            }

            // The kernel completes the fourth handshake, but no shard accepts it while three are served.
            using Socket waiting = await ConnectDotNetAsync(server.LocalEndPoint, token);
            await waiting.SendAsync(new byte[] { 4 }, SocketFlags.None, token);
            Task<int> reply = waiting.ReceiveAsync(new byte[1], SocketFlags.None, token).AsTask();
            await Task.Delay(500, token);
            Assert.That(reply.IsCompleted, Is.False, "a fourth connection was served beside three");
            Assert.That(server.AcceptedConnections, Is.EqualTo(3));

            clients[0].Dispose();
            Assert.That(await reply.WaitAsync(token), Is.EqualTo(1), "served once one of the three closed");
            Assert.That(served.Most, Is.EqualTo(3));
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task MaxConnectionsPerShard_stops_the_acceptor_when_every_shard_is_full_and_resumes_when_one_closes(CancellationToken token)
    {
        var served = new ServedCounter();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, served.EchoAsync,
            new ShardServerOptions { Distribution = ConnectionDistribution.LeastLoaded, MaxConnectionsPerShard = 2 }).Within(token);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                clients.Add(await ConnectDotNetAsync(server.LocalEndPoint, token));
                await EchoesOneByteAsync(clients[i], token);
            }

            Assert.That(server.ActiveConnectionsOn(0), Is.EqualTo(2));
            Assert.That(server.ActiveConnectionsOn(1), Is.EqualTo(2));
            using Socket waiting = await ConnectDotNetAsync(server.LocalEndPoint, token);
            await waiting.SendAsync(new byte[] { 5 }, SocketFlags.None, token);
            Task<int> reply = waiting.ReceiveAsync(new byte[1], SocketFlags.None, token).AsTask();
            await Task.Delay(500, token);
            Assert.That(reply.IsCompleted, Is.False, "a third connection was served on a shard that had two");
            Assert.That(server.AcceptedConnections, Is.EqualTo(4));

            clients[1].Dispose();
            Assert.That(await reply.WaitAsync(token), Is.EqualTo(1), "served once one of the four closed");
            Assert.That(served.Most, Is.EqualTo(4));
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task IdleTimeout_closes_a_connection_that_receives_nothing_and_spares_one_that_does(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo,
            new ShardServerOptions { IdleTimeout = TimeSpan.FromSeconds(3) }).Within(token);

        using Socket busy = await ConnectDotNetAsync(server.LocalEndPoint, token);
        using Socket idle = await ConnectDotNetAsync(server.LocalEndPoint, token);
        Task<int> end = idle.ReceiveAsync(new byte[1], SocketFlags.None, token).AsTask();
        while (!end.IsCompleted)
        {
            // A byte every 50 ms keeps this one alive.
            await EchoesOneByteAsync(busy, token);
            await Task.WhenAny(end, Task.Delay(50, token));
        }

        Assert.That(await end, Is.Zero, "the idle connection was closed by the server");
        Assert.That(server.TimedOutConnections, Is.EqualTo(1));
        await EchoesOneByteAsync(busy, token);
        await Bounded.Eventually(() => server.ActiveConnections == 1, "the idle connection's handler ended", token);
    }

    private static async Task EchoesOneByteAsync(Socket client, CancellationToken token)
    {
        await client.SendAsync(new byte[] { 42 }, SocketFlags.None, token);
        byte[] back = new byte[1];
        Assert.That(await client.ReceiveAsync(back, SocketFlags.None, token), Is.EqualTo(1));
        Assert.That(back[0], Is.EqualTo(42));
    }

    /// <summary>An echo handler that counts the connections it serves at once, and the most it ever served.</summary>
    private sealed class ServedCounter
    {
        private int _serving;
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public async ValueTask EchoAsync(ShardConnection connection)
        {
            int now = Interlocked.Increment(ref _serving);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }

            try
            {
                await Echo(connection);
            }
            finally
            {
                Interlocked.Decrement(ref _serving);
            }
        }
    }
}
