using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Cli;

/// <summary>The connection handlers of <c>miniss serve</c> (copied from samples/Miniss.Samples.Echo and .Http).</summary>
internal static class EchoHandlers
{
    private static readonly byte[] s_response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: Miniss\r\n\r\nHello, World!"u8.ToArray();

    /// <summary>Sends back what the connection receives until the client closes. Runs on the connection's shard.</summary>
    public static async ValueTask EchoAsync(ShardConnection connection)
    {
        byte[] buffer = GC.AllocateArray<byte>(16 * 1024, pinned: true);
        int received;
        while ((received = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, received));
        }
    }

    /// <summary>A minimal HTTP/1.1 plaintext handler: answers each request "Hello, World!", keeps connections alive
    /// and answers pipelined requests in order with one send per batch. Request bodies are not read (GETs only).</summary>
    public static async ValueTask HttpAsync(ShardConnection connection)
    {
        await using ConnectionPipe pipe = connection.AsPipe();
        bool keepAlive = true;
        while (keepAlive)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (keepAlive && TryReadRequest(ref buffer, out keepAlive))
            {
                pipe.Output.Write(s_response);
            }

            pipe.Input.AdvanceTo(buffer.Start, buffer.End);
            await pipe.Output.FlushAsync();
            keepAlive &= !result.IsCompleted;
        }
    }

    // Takes one request's head (up to the blank line) off the buffer and says whether the connection stays open after
    // it: HTTP/1.1 keeps it unless the client sends "Connection: close"; HTTP/1.0 closes it.
    private static bool TryReadRequest(ref ReadOnlySequence<byte> buffer, out bool keepAlive)
    {
        var reader = new SequenceReader<byte>(buffer);
        keepAlive = true;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        ReadOnlySpan<byte> text = head.IsSingleSegment ? head.FirstSpan : head.ToArray();
        int requestLineEnd = text.IndexOf("\r\n"u8);
        keepAlive = !text[..(requestLineEnd < 0 ? text.Length : requestLineEnd)].EndsWith("HTTP/1.0"u8);
        foreach (Range line in text.Split("\r\n"u8))
        {
            keepAlive &= !Ascii.EqualsIgnoreCase(text[line], "Connection: close"u8);
        }

        return true;
    }
}

/// <summary><c>miniss serve echo|http</c>: the server on every shard until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(string kind, int port, int? shards)
    {
        Func<ShardConnection, ValueTask> handler = kind == "http" ? EchoHandlers.HttpAsync : EchoHandlers.EchoAsync;
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.TrySetResult();
        };
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        try
        {
            await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = shards });
            await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, port), handler).ConfigureAwait(false);
            string url = kind == "http" ? $"http://{server.LocalEndPoint}/" : server.LocalEndPoint.ToString()!;
            Console.WriteLine($"{kind} server on {url}, {runtime.ShardCount} shards; Ctrl-C stops it");
            await stop.Task.ConfigureAwait(false);
            Console.WriteLine($"stopping after {server.AcceptedConnections} connections");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        return 0;
    }
}
