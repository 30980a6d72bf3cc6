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
        await using var scope = NetRuntime.Start();
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

        await Eventually(() => server.ActiveConnections == 0, TimeSpan.FromSeconds(5), "every connection ended", token);
    }

    [Test, CancelAfter(20_000)]
    public async Task Stopping_closes_open_connections_waits_for_their_handlers_and_frees_every_socket(CancellationToken token)
    {
        await using var scope = NetRuntime.Start();
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

        await Eventually(() => server.ActiveConnections == 6, TimeSpan.FromSeconds(5), "all six are served", token);
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
        await using var scope = NetRuntime.Start();
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
        var scope = NetRuntime.Start();
        ShardServer server;
        Socket client;
        await using (scope)
        {
            server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
            client = await ConnectDotNetAsync(server.LocalEndPoint, token);
            await Eventually(() => server.ActiveConnections == 1, TimeSpan.FromSeconds(5), "the client is served", token);
        }

        using (client)
        {
            await server.StopAsync().Within(token);
            Assert.That(server.ActiveConnections, Is.Zero);
            Assert.That(await client.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.Zero);
        }
    }
}
