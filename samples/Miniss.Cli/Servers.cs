using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
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

/// <summary>The options of <c>miniss serve</c>.</summary>
internal sealed class ServeOptions
{
    /// <summary><c>echo</c> or <c>http</c>.</summary>
    public string Kind { get; set; } = "echo";

    /// <summary>The address to listen on. Default: 127.0.0.1, reachable from this machine only.</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>The TCP port; 0 lets the kernel pick a free one.</summary>
    public int Port { get; set; }

    public int? Shards { get; set; }

    /// <summary>Whether the port may be shared with other processes that ask for it too
    /// (<see cref="ListenerOptions.ShareAcrossProcesses"/>).</summary>
    public bool ReusePort { get; set; }
}

/// <summary><c>miniss serve echo|http</c>: the server on every shard until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    /// <summary>How long stopping may take after Ctrl-C or SIGTERM before the process exits regardless.</summary>
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(ServeOptions options, ILoggerFactory logging, ExitWatchdog watchdog)
    {
        ILogger logger = logging.CreateLogger("Miniss");
        Func<ShardConnection, ValueTask> handler = options.Kind == "http" ? EchoHandlers.HttpAsync : EchoHandlers.EchoAsync;
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var signals = new StopSignals(() => stop.TrySetResult(), watchdog, Program.RuntimeFailure);
        MinissRuntime? runtime = null;
        ShardServer? server = null;
        try
        {
            runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = options.Shards, LoggerFactory = logging });
            var endPoint = new IPEndPoint(options.Address, options.Port);
            var serverOptions = new ShardServerOptions { Listener = new ListenerOptions { ShareAcrossProcesses = options.ReusePort } };
            try
            {
                server = await ShardServer.StartAsync(runtime, endPoint, handler, serverOptions).ConfigureAwait(false);
            }
            catch (Exception e) when (FailureText.Find<SocketException>(e) is { } socket)
            {
                throw new CommandFailedException(ListenFailure(endPoint, socket), e);
            }

            string url = options.Kind == "http" ? $"http://{server.LocalEndPoint}/" : server.LocalEndPoint.ToString()!;
            Console.WriteLine($"{options.Kind} server on {url}, {runtime.ShardCount} shards, backend {runtime.Backend.Name}; Ctrl-C stops it");
            await stop.Task.ConfigureAwait(false);
            Console.WriteLine($"stopping after {server.AcceptedConnections} connections");
        }
        finally
        {
            await StopAsync(server, runtime, logger).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Stops the server and the runtime within <see cref="s_stopTimeout"/>; a failure to stop is logged, not thrown,
    /// so Ctrl-C always ends the process.</summary>
    private static async Task StopAsync(ShardServer? server, MinissRuntime? runtime, ILogger logger)
    {
        try
        {
            if (server is not null)
            {
                await server.DisposeAsync().AsTask().WaitAsync(s_stopTimeout).ConfigureAwait(false);
            }

            if (runtime is not null)
            {
                await runtime.DisposeAsync().AsTask().WaitAsync(s_stopTimeout).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            CliLog.StopTimedOut(logger, "the server", s_stopTimeout.TotalSeconds);
        }
        catch (Exception e)
        {
            CliLog.StopFailed(logger, "the server", FailureText.Describe(e));
        }
    }

    /// <summary>Why listening on <paramref name="endPoint"/> failed, and what to change.</summary>
    private static string ListenFailure(IPEndPoint endPoint, SocketException error) => error.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse =>
            $"cannot listen on {endPoint}: port {endPoint.Port} is already in use by another process (EADDRINUSE): stop it, choose another --port, or pass --reuse-port to every server that should share the port",
        SocketError.AccessDenied =>
            $"cannot listen on {endPoint}: permission denied (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE: choose --port 1024 or above",
        SocketError.AddressNotAvailable =>
            $"cannot listen on {endPoint}: {endPoint.Address} is not an address of this machine (EADDRNOTAVAIL): use one of its addresses, 127.0.0.1, ::1, 0.0.0.0 or ::",
        SocketError.AddressFamilyNotSupported =>
            $"cannot listen on {endPoint}: this machine has no {(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} (EAFNOSUPPORT): use an address of the other family",
        _ => $"cannot listen on {endPoint}: {error.Message} ({error.SocketErrorCode})",
    };
}
