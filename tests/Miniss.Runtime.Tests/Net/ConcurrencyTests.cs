using Miniss.IO;
using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Many connections open at once, on both shards, each served to completion.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ConcurrencyTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Connections = 1_000;

    [Test, CancelAfter(30_000)]
    public async Task A_thousand_concurrent_connections_across_two_shards_are_all_echoed(CancellationToken token)
    {
        // Both ends live in this process: two descriptors per connection, plus the runtime's and the test host's.
        EnsureDescriptorLimit(2 * Connections + 256);
        int descriptorsBefore = OpenDescriptorCount();
        var servedBy = new int[2];
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using (ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            Interlocked.Increment(ref servedBy[Shard.Current!.Id]);
            await Echo(connection);
        }).Within(token))
        {
            // Every client keeps its connection open until all of them have had their echo: all are open at once.
            int echoed = 0;
            var allEchoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await scope.Runtime.InvokeOnAll(async () =>
            {
                int shard = Shard.Current!.Id;
                var clients = new Task[Connections / 2];
                for (int i = 0; i < clients.Length; i++)
                {
                    int id = shard * clients.Length + i;
                    clients[i] = ClientAsync(id);
                }

                await Task.WhenAll(clients);
            }).Within(token);

            async Task ClientAsync(int id)
            {
                await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint, token);
                byte[] message = BitConverter.GetBytes(id);
                await client.SendAsync(message, token);
                byte[] reply = new byte[message.Length];
                await ReceiveExactlyAsync(client, reply);
                Assert.That(BitConverter.ToInt32(reply), Is.EqualTo(id));
                if (Interlocked.Increment(ref echoed) == Connections)
                {
                    Assert.That(server.ActiveConnections, Is.EqualTo(Connections), "every connection is open at the peak");
                    allEchoed.SetResult();
                }

                await allEchoed.Task;
                await client.ShutdownAsync(SocketShutdown.Send, token);
                Assert.That(await client.ReceiveAsync(reply, token), Is.Zero, "the server closes after the client's end of stream");
            }

            await Bounded.Eventually(() => server.ActiveConnections == 0, "every handler has returned", token);
            Assert.That(server.AcceptedConnections, Is.EqualTo(Connections));
            Assert.That(server.FaultedConnections, Is.Zero);
        }

        Assert.That(servedBy[0] + servedBy[1], Is.EqualTo(Connections));
        Assert.That(servedBy, Is.All.GreaterThan(0), "SO_REUSEPORT spreads connections over both shards");
        Assert.That(OpenDescriptorCount(), Is.LessThanOrEqualTo(descriptorsBefore + 16), "every socket is closed");
    }

    /// <summary>Raises the soft RLIMIT_NOFILE to <paramref name="needed"/> when it is lower (up to the hard limit),
    /// and makes the test inconclusive when even the hard limit is too low.</summary>
    private static unsafe void EnsureDescriptorLimit(int needed)
    {
        rlimit limit;
        Assert.That(Libc.getrlimit(Files.RLIMIT_NOFILE, &limit), Is.Zero);
        if (limit.rlim_cur >= (nuint)needed)
        {
            return;
        }

        if (limit.rlim_max < (nuint)needed)
        {
            Assert.Inconclusive($"RLIMIT_NOFILE hard limit {limit.rlim_max} is below the {needed} descriptors this test needs");
        }

        limit.rlim_cur = (nuint)needed;
        Assert.That(Libc.setrlimit(Files.RLIMIT_NOFILE, &limit), Is.Zero, "raising the soft descriptor limit");
    }
}
