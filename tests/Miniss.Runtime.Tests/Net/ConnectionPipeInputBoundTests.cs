using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>
/// <see cref="ConnectionPipeOptions.MaxBufferedInput"/> bounds the received bytes the application has not consumed,
/// whatever it examines: receiving stops at the bound and resumes when the application consumes, and an application
/// that examines a full input without consuming any gets an error instead of unbounded growth or a hang.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ConnectionPipeInputBoundTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Bound = 64 * 1024;
    private const int Segment = 4096;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Test, CancelAfter(60_000)]
    public async Task Input_stops_at_the_bound_and_the_read_fails_when_the_application_examines_without_consuming(CancellationToken token)
    {
        var pool = new CountingMemoryPool();
        var outcome = new TaskCompletionSource<(Exception? Error, long Largest)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using ConnectionPipe pipe = connection.AsPipe(new ConnectionPipeOptions { Pool = pool, MaxBufferedInput = Bound });
            long largest = 0;
            try
            {
                // A parser waiting for the end of a message that never comes: it examines everything, consumes nothing.
                while (true)
                {
                    ReadResult result = await pipe.Input.ReadAsync();
                    largest = Math.Max(largest, result.Buffer.Length);
                    pipe.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    if (result.IsCompleted || largest >= (4 << 20))
                    {
                        outcome.SetResult((null, largest));
                        return;
                    }
                }
            }
            catch (Exception e)
            {
                outcome.SetResult((e, largest));
            }
        }).Within(token);

        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
        Task sending = SendIgnoringCloseAsync(client, new byte[4 << 20], token);
        (Exception? error, long largest) = await outcome.Task.WaitAsync(Wait, token);

        Assert.That(error, Is.TypeOf<IOException>(), $"the read's outcome (after a buffer of at most {largest} bytes)");
        Assert.That(error!.Message, Does.Contain("MaxBufferedInput (65536 bytes)"));
        Assert.That(largest, Is.EqualTo(Bound), "the largest buffer read: exactly the bound");
        // Segments are filled but for tails under an eighth of a segment: at most 8/7 of the bound, and one segment more.
        Assert.That(pool.Peak, Is.LessThanOrEqualTo((Bound * 8 / 7) + Segment), "bytes the pipe held at once");
        client.Dispose();
        await sending.WaitAsync(Wait, token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Receiving_resumes_when_the_application_consumes_and_every_byte_arrives_in_order(CancellationToken token)
    {
        const int Record = 48 * 1024;
        byte[] payload = RandomBytes(20 * Record, seed: 48);
        var received = new TaskCompletionSource<(byte[] Data, long MostBuffered)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using ConnectionPipe pipe = connection.AsPipe(new ConnectionPipeOptions { MaxBufferedInput = Bound });
            using var all = new MemoryStream();
            long mostBuffered = 0;
            try
            {
                // Records of 48 KiB, each consumed only once whole: the input reaches the bound, pauses, and resumes.
                while (true)
                {
                    ReadResult result = await pipe.Input.ReadAsync();
                    mostBuffered = Math.Max(mostBuffered, pipe.BufferedInput);
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    while (buffer.Length >= Record)
                    {
                        foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, Record))
                        {
                            all.Write(segment.Span);
                        }

                        buffer = buffer.Slice(Record);
                    }

                    pipe.Input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        received.SetResult((all.ToArray(), mostBuffered));
                        return;
                    }
                }
            }
            catch (Exception e)
            {
                received.SetException(e);
            }
        }).Within(token);

        using (Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await client.SendAsync(payload, token).AsTask().WaitAsync(Wait, token);
            client.Shutdown(SocketShutdown.Send);
            (byte[] data, long mostBuffered) = await received.Task.WaitAsync(Wait, token);

            AssertSameBytes(data, payload);
            Assert.That(mostBuffered, Is.LessThanOrEqualTo(Bound), "unconsumed bytes the pipe held");
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task Disposing_the_pipe_while_receiving_waits_for_room_ends_it(CancellationToken token)
    {
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            ConnectionPipe pipe = connection.AsPipe(new ConnectionPipeOptions { MaxBufferedInput = Bound });

            // Reads nothing until the input is full: the receive loop then waits for room.
            while (pipe.BufferedInput < Bound)
            {
                await connection.Shard.Delay(TimeSpan.FromMilliseconds(5));
            }

            full.SetResult();
            await pipe.DisposeAsync();
            disposed.SetResult();
        }).Within(token);

        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
        Task sending = SendIgnoringCloseAsync(client, new byte[1 << 20], token);

        await full.Task.WaitAsync(Wait, token);
        await disposed.Task.WaitAsync(Wait, token);
        client.Dispose();
        await sending.WaitAsync(Wait, token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Bytes_received_one_at_a_time_share_a_segment_instead_of_holding_one_each(CancellationToken token)
    {
        const int Count = 512;
        var pool = new CountingMemoryPool();
        var seen = Channel.CreateUnbounded<long>();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using ConnectionPipe pipe = connection.AsPipe(new ConnectionPipeOptions { Pool = pool, MaxBufferedInput = Bound });
            while (true)
            {
                // Waits for a message that has not ended: examines everything, consumes nothing, says how much it has.
                ReadResult result = await pipe.Input.ReadAsync();
                seen.Writer.TryWrite(result.Buffer.Length);
                pipe.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    seen.Writer.TryComplete();
                    return;
                }
            }
        }).Within(token);

        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
        client.NoDelay = true;
        for (int sent = 1; sent <= Count; sent++)
        {
            // One byte, then wait until the server has read it: every receive brings exactly one byte.
            await client.SendAsync(new byte[] { (byte)sent }, token);
            long held;
            do
            {
                held = await seen.Reader.ReadAsync(token).AsTask().WaitAsync(Wait, token);
            }
            while (held < sent);
        }

        TestContext.Out.WriteLine($"{Count} one-byte receives; the pipe held at most {pool.Peak} bytes");
        Assert.That(pool.Peak, Is.EqualTo(Segment), "the pipe's memory for 512 bytes received one at a time");
    }

    /// <summary>Sends <paramref name="data"/>; the server closing the connection (or the test disposing the socket)
    /// ends the send without failing the test.</summary>
    private static async Task SendIgnoringCloseAsync(Socket client, byte[] data, CancellationToken token)
    {
        try
        {
            await client.SendAsync(data, token);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
