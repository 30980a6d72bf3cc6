using Miniss.IO;
using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Steady-state receives and sends allocate nothing on the shard's thread.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class AllocationTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(20_000)]
    public async Task Ten_thousand_request_response_round_trips_allocate_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        long allocated = await scope.Runtime.SubmitTo(0, async () =>
        {
            ValueTask<ShardConnection> accepting = listener.AcceptAsync();
            await using ShardConnection client = await ShardConnection.ConnectAsync(listener.LocalEndPoint);
            await using ShardConnection server = await accepting;
            Memory<byte> request = new byte[64];
            Memory<byte> response = new byte[64];

            async ValueTask RoundTrips(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await client.SendAsync(request);
                    for (int received = 0; received < response.Length;)
                    {
                        received += await server.ReceiveAsync(response[received..]);
                    }

                    await server.SendAsync(response);
                    for (int received = 0; received < request.Length;)
                    {
                        received += await client.ReceiveAsync(request[received..]);
                    }
                }
            }

            await RoundTrips(1_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            await RoundTrips(10_000);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }).Within(token);

        // The local async method above boxes its own state machine once per call: nothing per round trip.
        TestContext.Out.WriteLine($"{allocated} bytes allocated for 10,000 round trips");
        Assert.That(allocated, Is.LessThanOrEqualTo(256));
    }

    [Test, CancelAfter(20_000)]
    public async Task Ten_thousand_round_trips_through_pipes_allocate_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);

        long allocated = await scope.Runtime.SubmitTo(1, async () =>
        {
            ValueTask<ShardConnection> accepting = listener.AcceptAsync();
            await using ConnectionPipe client = (await ShardConnection.ConnectAsync(listener.LocalEndPoint)).AsPipe();
            await using ConnectionPipe server = (await accepting).AsPipe();
            byte[] message = new byte[64];

            async ValueTask RoundTrips(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await client.Output.WriteAsync(message);

                    // The server echoes one message...
                    ReadResult request = await server.Input.ReadAsync();
                    while (request.Buffer.Length < message.Length)
                    {
                        server.Input.AdvanceTo(request.Buffer.Start, request.Buffer.End);
                        request = await server.Input.ReadAsync();
                    }

                    ReadOnlySequence<byte> echoed = request.Buffer.Slice(0, message.Length);
                    foreach (ReadOnlyMemory<byte> segment in echoed)
                    {
                        server.Output.Write(segment.Span);
                    }

                    server.Input.AdvanceTo(echoed.End);
                    await server.Output.FlushAsync();

                    // ...and the client reads it back.
                    ReadResult response = await client.Input.ReadAsync();
                    while (response.Buffer.Length < message.Length)
                    {
                        client.Input.AdvanceTo(response.Buffer.Start, response.Buffer.End);
                        response = await client.Input.ReadAsync();
                    }

                    client.Input.AdvanceTo(response.Buffer.GetPosition(message.Length));
                }
            }

            await RoundTrips(1_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            await RoundTrips(10_000);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }).Within(token);

        TestContext.Out.WriteLine($"{allocated} bytes allocated for 10,000 round trips");
        Assert.That(allocated, Is.LessThanOrEqualTo(1024));
    }
}
