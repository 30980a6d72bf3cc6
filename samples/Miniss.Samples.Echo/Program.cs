using System;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Miniss;
using Miniss.Net;
using Miniss.Samples.Echo;

// An echo server: every shard listens on the port (SO_REUSEPORT), accepts its own connections and sends back what
// each one receives, until the client closes. Try it with: nc localhost 5000
// Options: --port N (default 5000), --max-connections N (default: the process's descriptor budget, see
// ShardServerOptions.MaxConnections). The backend follows MINISS_BACKEND (io_uring, epoll) or is probed. The runtime's
// warnings (descriptors exhausted, fall-backs) go to stderr, one line each.
int port = 5000;
int? maxConnections = null;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    int value = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--port": port = value; break;
        case "--max-connections": maxConnections = value; break;
        default: Console.Error.WriteLine($"miniss-echo: unknown option {args[i]}"); return 2;
    }
}

await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { LoggerFactory = new StderrLoggerFactory() });
await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Any, port), async connection =>
{
    // Runs on the shard that accepted the connection; every await resumes there.
    byte[] buffer = new byte[16 * 1024];
    int received;
    while ((received = await connection.ReceiveAsync(buffer)) > 0)
    {
        await connection.SendAsync(buffer.AsMemory(0, received));
    }
}, new ShardServerOptions { MaxConnections = maxConnections });

Console.WriteLine($"echo server on {server.LocalEndPoint}, {runtime.ShardCount} shards ({runtime.Backend.Name}); Ctrl-C stops it");
await ShutdownSignal();
Console.WriteLine($"stopping after {server.AcceptedConnections} connections");
return 0;

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
