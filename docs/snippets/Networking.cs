using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the networking guide.</summary>
internal static class Networking
{
    internal static async Task<ShardServer> ServerAsync(MinissRuntime runtime)
    {
        // <server>
        var options = new ShardServerOptions
        {
            Distribution = ConnectionDistribution.ReusePort,      // every shard listens; the kernel spreads connections
            MaxConnectionsPerShard = 10_000,                      // pause accepting on a shard that serves this many
            IdleTimeout = TimeSpan.FromSeconds(30),               // close connections that receive nothing this long
            Listener = new ListenerOptions { Backlog = 1024 },
        };
        ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, 7000), async connection =>
        {
            // On the connection's shard. Many handlers run at once on each shard: never block the thread.
            byte[] buffer = new byte[8192];
            int received;
            while ((received = await connection.ReceiveAsync(buffer)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, received));
            }
        }, options);
        Console.WriteLine($"{server} accepting; limit {server.ConnectionLimit}");
        // </server>
        return server;
    }

    internal static async Task ListenerAsync(MinissRuntime runtime, CancellationToken stop)
    {
        // <listener>
        using ShardListener listener = ShardListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await runtime.SubmitTo(0, async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // The accepted connection belongs to the shard that accepts it: here shard 0.
                await using ShardConnection connection = await listener.AcceptAsync(stop);
                connection.NoDelay = true;
                await connection.SendAsync(Encoding.ASCII.GetBytes($"hello {connection.RemoteEndPoint}\n"));
            }
        }, stop);
        // </listener>
    }

    // <stream>
    internal static async ValueTask LineProtocolAsync(ShardConnection connection)
    {
        // A Stream over the connection: StreamReader, SslStream, serializers work on it as on a NetworkStream.
        await using Stream stream = connection.AsStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, Encoding.UTF8) { AutoFlush = true };
        while (await reader.ReadLineAsync() is { } line)
        {
            await writer.WriteLineAsync(line.ToUpperInvariant());
        }
    }
    // </stream>

    // <pipe>
    internal static async ValueTask PipeProtocolAsync(ShardConnection connection)
    {
        // The pipe owns the connection from here on; its loops run on the connection's shard.
        await using ConnectionPipe pipe = connection.AsPipe(new ConnectionPipeOptions { MaxBufferedInput = 64 * 1024 });
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } end)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, buffer.GetPosition(1, end));
                foreach (ReadOnlyMemory<byte> segment in line)
                {
                    await pipe.Output.WriteAsync(segment);        // echo each whole line
                }

                buffer = buffer.Slice(buffer.GetPosition(1, end));
            }

            pipe.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await pipe.Output.CompleteAsync();                        // sends what is left, then half-closes
    }
    // </pipe>

    internal static async Task ClientAsync(MinissRuntime runtime, EndPoint server)
    {
        // <client>
        await runtime.SubmitTo(1, async () =>
        {
            try
            {
                await using ShardConnection connection = await ShardConnection.ConnectAsync(server, TimeSpan.FromSeconds(5));
                await connection.SendAsync("ping\n"u8.ToArray());
                await connection.ShutdownAsync(SocketShutdown.Send);
                byte[] reply = new byte[64];
                int received = await connection.ReceiveAsync(reply);
                Console.WriteLine(Encoding.ASCII.GetString(reply, 0, received));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut)
            {
                Console.WriteLine($"{server}: {e.SocketErrorCode}");
            }
        });
        // </client>
    }
}
