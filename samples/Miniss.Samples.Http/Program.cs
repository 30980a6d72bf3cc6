using System;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Miniss;
using Miniss.Net;
using Miniss.Samples.Http;

// A minimal HTTP/1.1 plaintext server: every shard accepts its own connections (SO_REUSEPORT) and answers each request
// "Hello, World!". Connections are kept alive, and pipelined requests are answered in order with one send per batch.
// Request bodies are read by Content-Length and dropped: this serves GETs. Try it with: curl http://localhost:8080/
//
// Limits on hostile input (HelloServerOptions): request line and headers at most 16 KiB (else 414 or 431), the whole
// head within 10 s of its first byte (else 408), a well-formed request line (else 400); each refusal closes the
// connection, and a connection holds at most 32 KiB of input whatever its client sends.
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
