using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using Miniss;
using Miniss.Net;
using Miniss.Samples.Http;

// A minimal HTTP/1.1 plaintext server: every shard accepts its own connections (SO_REUSEPORT) and answers each request
// "Hello, World!". Connections are kept alive, and pipelined requests are answered in order with one send per batch.
// Request bodies are not read: this serves GETs. Try it with: curl http://localhost:8080/
int port = args is ["--port", var value] ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 8080;

await using MinissRuntime runtime = MinissRuntime.Start();
await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, port), HelloServer.HandleAsync);

Console.WriteLine($"HTTP server on http://{server.LocalEndPoint}/, {runtime.ShardCount} shards; Ctrl-C stops it");
await ShutdownSignal();
Console.WriteLine($"stopping after {server.AcceptedConnections} connections");

// Completes on Ctrl-C (SIGINT) or SIGTERM; the await usings above then stop the server and the runtime.
static Task ShutdownSignal()
{
    var signalled = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        signalled.TrySetResult();
    };
    PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        signalled.TrySetResult();
    });
    return signalled.Task.ContinueWith(_ => sigterm.Dispose(), TaskScheduler.Default);
}

namespace Miniss.Samples.Http
{
    /// <summary>The server's connection handler (public, so that tests drive this very code with curl and wrk).</summary>
    public static class HelloServer
    {
        /// <summary>The whole response to every request.</summary>
        public static ReadOnlyMemory<byte> Response { get; } =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: Miniss\r\n\r\nHello, World!"u8.ToArray();

        /// <summary>Serves one connection until the client closes it or asks to; runs on the connection's shard, where
        /// the pipe's awaits resume.</summary>
        public static async ValueTask HandleAsync(ShardConnection connection)
        {
            await using ConnectionPipe pipe = connection.AsPipe();
            bool keepAlive = true;
            while (keepAlive)
            {
                ReadResult result = await pipe.Input.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (keepAlive && TryReadRequest(ref buffer, out keepAlive))
                {
                    pipe.Output.Write(Response.Span);
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
}
