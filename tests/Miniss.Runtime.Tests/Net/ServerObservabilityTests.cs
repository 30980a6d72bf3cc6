using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Miniss.Diagnostics;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>A server logs each connection's accept and close at Debug and its failure at Warning, in the Miniss.Net
/// category and inside a scope naming the connection; with the Miniss activity source listened to, each connection's
/// handler runs in a miniss.connection activity.</summary>
[NonParallelizable] // Activity listeners are process-wide.
public sealed class ServerObservabilityTests
{
    private static (ILoggerFactory Factory, FakeLogCollector Collector) Logging()
    {
        var collector = new FakeLogCollector();
        ILoggerFactory factory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Debug)
            .AddProvider(new FakeLoggerProvider(collector)));
        return (factory, collector);
    }

    [Test, CancelAfter(60_000)]
    public async Task Connections_closed_by_the_servers_stop_are_neither_faulted_nor_warned_about(CancellationToken token)
    {
        (ILoggerFactory factory, FakeLogCollector collector) = Logging();
        using var _ = factory;
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, LoggerFactory = factory });
        ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            byte[] buffer = new byte[16];
            while (await connection.ReceiveAsync(buffer) > 0)
            {
            }
        }, cancellationToken: token).Within(token);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await ConnectDotNetAsync(server.LocalEndPoint, token));
            }

            await Bounded.Eventually(() => server.ActiveConnections == 3, "three handlers waiting in a receive", token);
            await server.StopAsync().Within(token);

            Assert.That(server.FaultedConnections, Is.Zero, "connections the stop closed are not failures");
            IReadOnlyList<FakeLogRecord> records = collector.GetSnapshot();
            Assert.That(records.Where(r => r.Category == "Miniss.Net" && r.Level >= LogLevel.Warning).Select(r => r.Message), Is.Empty);
            Assert.That(records.Count(r => r.Id.Id == 107 && r.Level == LogLevel.Debug), Is.EqualTo(3), "one Debug line per connection ended by the stop");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task Accepts_and_closes_are_logged_at_Debug_and_failures_at_Warning_in_a_connection_scope(CancellationToken token)
    {
        (ILoggerFactory factory, FakeLogCollector collector) = Logging();
        using var _ = factory;
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, LoggerFactory = factory });
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            byte[] buffer = new byte[16];
            int received = await connection.ReceiveAsync(buffer);
            if (buffer[0] == (byte)'!')
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            await connection.SendAsync(buffer.AsMemory(0, received));
        }, cancellationToken: token).Within(token);

        using (Socket good = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await good.SendAsync("hi"u8.ToArray(), token);
            byte[] reply = new byte[2];
            Assert.That(await good.ReceiveAsync(reply, token), Is.EqualTo(2));
        }

        using (Socket bad = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await bad.SendAsync("!"u8.ToArray(), token);
            await Bounded.Eventually(() => server.FaultedConnections == 1, "the bad connection is counted as faulted", token);
        }

        await Bounded.Eventually(() => collector.GetSnapshot().Count(r => r.Id.Id == 105) == 2, "two connections closed, two Debug lines expected", token);
        IReadOnlyList<FakeLogRecord> records = collector.GetSnapshot();
        FakeLogRecord[] accepted = records.Where(r => r.Id.Id == 104).ToArray();
        FakeLogRecord[] closed = records.Where(r => r.Id.Id == 105).ToArray();
        FakeLogRecord faulted = records.Single(r => r.Id.Id == 106);

        Assert.That(accepted, Has.Length.EqualTo(2));
        Assert.That(accepted.Concat(closed).Append(faulted).Select(r => r.Category).Distinct(), Is.EqualTo(new[] { "Miniss.Net" }));
        Assert.That(accepted.Concat(closed).Select(r => r.Level).Distinct(), Is.EqualTo(new[] { LogLevel.Debug }));
        Assert.That(faulted.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(faulted.Message, Does.Contain("reset"));

        // Every line about a connection is logged inside its scope, which names the same connection as the line.
        foreach (FakeLogRecord record in accepted.Concat(closed).Append(faulted))
        {
            object? id = record.StructuredState!.First(pair => pair.Key == "ConnectionId").Value;
            Assert.That(record.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>()
                .Any(s => s.Any(pair => pair.Key == "ConnectionId" && Equals(pair.Value?.ToString(), id))), Is.True,
                $"'{record.Message}' was not logged in the scope of connection {id}");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task A_listened_source_runs_each_handler_in_a_connection_activity(CancellationToken token)
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MinissTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2 });
        var seen = new ConcurrentQueue<string?>();
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            seen.Enqueue(Activity.Current?.OperationName);
            await Echo(connection);
            seen.Enqueue(Activity.Current?.OperationName);
        }, cancellationToken: token).Within(token);

        using (Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await client.SendAsync("x"u8.ToArray(), token);
            Assert.That(await client.ReceiveAsync(new byte[1], token), Is.EqualTo(1));
        }

        await Bounded.Eventually(() => stopped.Any(a => a.OperationName == MinissTracing.ConnectionActivityName), "a connection activity stops", token);
        Assert.That(seen, Is.EqualTo(new[] { MinissTracing.ConnectionActivityName, MinissTracing.ConnectionActivityName }));
        Activity connectionActivity = stopped.First(a => a.OperationName == MinissTracing.ConnectionActivityName);
        Assert.That(connectionActivity.Kind, Is.EqualTo(ActivityKind.Server));
        Assert.That(connectionActivity.GetTagItem("network.peer.address"), Is.Not.Null);

        // Nothing of the activity is left on the shard threads.
        string?[] after = await scope.Runtime.InvokeOnAll(() => Activity.Current?.OperationName == MinissTracing.ConnectionActivityName ? "left" : null, token).Within(token);
        Assert.That(after, Is.All.Null);
    }
}
