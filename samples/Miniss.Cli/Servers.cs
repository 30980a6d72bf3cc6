using System;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Cli;

/// <summary>The connection handlers of <c>miniss serve</c> (the echo handler as in samples/Miniss.Samples.Echo; the HTTP one is the sample's own).</summary>
internal static class EchoHandlers
{
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

    /// <summary>The HTTP sample's handler (samples/Miniss.Samples.Http): "Hello, World!" to every request, with
    /// keep-alive and pipelining.</summary>
    public static ValueTask HttpAsync(ShardConnection connection) => Samples.Http.HelloServer.HandleAsync(connection);
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
