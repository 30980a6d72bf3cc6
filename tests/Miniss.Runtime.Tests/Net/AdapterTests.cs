using Miniss.IO;
using System;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>The <see cref="Stream"/> and <see cref="IDuplexPipe"/> adapters carry the same echo as the raw
/// connection, and keep their awaits on the connection's shard.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class AdapterTests(IoBackendKind backend) : BackendFixture(backend)
{
    [TestCase(1)]
    [TestCase(100_000)]
    [TestCase(4 << 20)]
    [CancelAfter(20_000)]
    public async Task A_Stream_on_both_ends_echoes_byte_for_byte(int size, CancellationToken token)
    {
        byte[] payload = RandomBytes(size, seed: size);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using Stream stream = connection.AsStream();
            await stream.CopyToAsync(stream);
            Assert.That(Shard.Current, Is.SameAs(connection.Shard), "the stream's awaits resume on the connection's shard");
        }).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
        {
            ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            await using ConnectionStream stream = client.AsStream();
            Task<byte[]> receiving = ReadToEndAsync(stream);
            await stream.WriteAsync(payload);
            await stream.FlushAsync();
            await client.ShutdownAsync(SocketShutdown.Send);
            return await receiving;
        }).Within(token);

        AssertSameBytes(echoed, payload);
    }

    [TestCase(1)]
    [TestCase(100_000)]
    [TestCase(4 << 20)]
    [CancelAfter(20_000)]
    public async Task A_pipe_on_both_ends_echoes_byte_for_byte(int size, CancellationToken token)
    {
        byte[] payload = RandomBytes(size, seed: size + 1);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using ConnectionPipe pipe = connection.AsPipe();
            while (true)
            {
                ReadResult result = await pipe.Input.ReadAsync();
                Assert.That(Shard.Current, Is.SameAs(connection.Shard), "the pipe's awaits resume on the connection's shard");
                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                {
                    await pipe.Output.WriteAsync(segment);
                }

                pipe.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }).Within(token);

        byte[] echoed = await scope.Runtime.SubmitTo(0, async () =>
        {
            ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            await using ConnectionPipe pipe = client.AsPipe();
            Task<byte[]> receiving = ReadToEndAsync(pipe.Input, payload.Length);

            // Written in uneven pieces, flushed now and then: several segments per send.
            for (int offset = 0; offset < payload.Length; offset += 7_919)
            {
                ReadOnlyMemory<byte> piece = payload.AsMemory(offset, Math.Min(7_919, payload.Length - offset));
                piece.Span.CopyTo(pipe.Output.GetSpan(piece.Length));
                pipe.Output.Advance(piece.Length);
                if (offset % (10 * 7_919) == 0)
                {
                    await pipe.Output.FlushAsync();
                }
            }

            // Completing the output half-closes: the server sees the end of the stream, echoes the rest, and closes.
            await pipe.Output.CompleteAsync();
            return await receiving;
        }).Within(token);

        AssertSameBytes(echoed, payload);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_stream_called_from_another_thread_carries_its_reads_and_writes_to_the_shard(CancellationToken token)
    {
        byte[] payload = RandomBytes(200_000, seed: 12);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        ShardConnection client = await scope.Runtime.SubmitTo(1, () => ShardConnection.ConnectAsync(server.LocalEndPoint)).Within(token);

        // The test thread is no shard: each call travels to shard 1 and its result comes back.
        await using ConnectionStream stream = await scope.Runtime.SubmitTo(1, () => client.AsStream()).Within(token);
        Task<byte[]> receiving = ReadToEndAsync(stream);
        await stream.WriteAsync(payload, token);
        await scope.Runtime.SubmitTo(1, () => client.ShutdownAsync()).Within(token);

        AssertSameBytes(await receiving.WaitAsync(token), payload);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_reset_reaches_the_pipe_reader_as_a_SocketException(CancellationToken token)
    {
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using ConnectionPipe pipe = connection.AsPipe();
            try
            {
                while (true)
                {
                    ReadResult result = await pipe.Input.ReadAsync();
                    pipe.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        outcome.SetResult(null);
                        return;
                    }
                }
            }
            catch (Exception e)
            {
                outcome.SetResult(e);
            }
        }).Within(token);

        using (Socket peer = await ConnectDotNetAsync(server.LocalEndPoint, token))
        {
            await peer.SendAsync(new byte[10], SocketFlags.None, token);
            await Task.Delay(20, token);
            Reset(peer);
        }

        Exception? error = await outcome.Task.WaitAsync(token);
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
    }

    [Test, CancelAfter(20_000)]
    public async Task Blocking_stream_calls_are_refused_rather_than_stalling_the_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        Exception?[] errors = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            Stream stream = client.AsStream(ownsConnection: false);
            return new[] { Catch(() => stream.ReadByte()), Catch(() => stream.Write(new byte[1])), Catch(() => stream.Seek(0, SeekOrigin.Begin)) };
        }).Within(token);

        Assert.That(errors, Is.All.InstanceOf<NotSupportedException>());
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var all = new MemoryStream();
        await stream.CopyToAsync(all);
        return all.ToArray();
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader, int expected)
    {
        byte[] all = new byte[expected];
        int total = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                Assert.That(total + segment.Length, Is.LessThanOrEqualTo(expected), "more bytes than sent");
                segment.Span.CopyTo(all.AsSpan(total));
                total += segment.Length;
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all[..total];
            }
        }
    }
}
