using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;
using Miniss;
using Miniss.Net;

// A minimal HTTP/1.1 plaintext server: every shard accepts its own connections (SO_REUSEPORT) and answers each request
// "Hello, World!". Connections are kept alive, and pipelined requests are answered in order with one send per batch.
// Request bodies are not read: this serves GETs. Try it with: curl http://localhost:8080/
int port = args is ["--port", var value] ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 8080;
byte[] response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: Miniss\r\n\r\nHello, World!"u8.ToArray();

await using MinissRuntime runtime = MinissRuntime.Start();
await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, port), async connection =>
{
    // Runs on the shard that accepted the connection; the pipe's awaits resume there.
    await using ConnectionPipe pipe = connection.AsPipe();
    bool keepAlive = true;
    while (keepAlive)
    {
        ReadResult result = await pipe.Input.ReadAsync();
        ReadOnlySequence<byte> buffer = result.Buffer;
        while (keepAlive && TryReadRequest(ref buffer, out keepAlive))
        {
            pipe.Output.Write(response);
        }

        pipe.Input.AdvanceTo(buffer.Start, buffer.End);
        await pipe.Output.FlushAsync();
        keepAlive &= !result.IsCompleted;
    }
});

Console.WriteLine($"HTTP server on http://{server.LocalEndPoint}/, {runtime.ShardCount} shards; Ctrl-C stops it");
await ShutdownSignal();
Console.WriteLine($"stopping after {server.AcceptedConnections} connections");

// Takes one request's head (up to the blank line) off the buffer and says whether the connection stays open after
// it: HTTP/1.1 keeps it unless the client sends "Connection: close"; HTTP/1.0 closes it.
static bool TryReadRequest(ref ReadOnlySequence<byte> buffer, out bool keepAlive)
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
