using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Miniss.Hosting;
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

/// <summary><c>miniss serve echo|http</c>: the server on every shard, on the Generic Host, until Ctrl-C or SIGTERM (the
/// host's console lifetime turns either into a graceful stop).</summary>
internal static class ServeCommand
{
    /// <summary>How long stopping may take after Ctrl-C or SIGTERM (the host's shutdown timeout) before the runtime's
    /// stop gives up waiting for its shards and says what they still held.</summary>
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(ServeOptions options, LogLevel level, ExitWatchdog watchdog)
    {
        Func<ShardConnection, ValueTask> handler = options.Kind == "http" ? EchoHandlers.HttpAsync : EchoHandlers.EchoAsync;
        var endPoint = new IPEndPoint(options.Address, options.Port);
        using IHost host = BuildHost(options, level, endPoint, handler);
        try
        {
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (FailureText.Find<SocketException>(e) is { } socket)
        {
            throw new CommandFailedException(ListenFailure(endPoint, socket), e);
        }

        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using var guard = new HostStopGuard(watchdog, Program.RuntimeFailure, lifetime.ApplicationStopping);
        MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
        ShardServer server = host.Services.GetRequiredService<HostedShardServer>().Server;
        string url = options.Kind == "http" ? $"http://{server.LocalEndPoint}/" : server.LocalEndPoint.ToString()!;
        Console.WriteLine($"{options.Kind} server on {url}, {runtime.ShardCount} shards, backend {runtime.Backend.Name}; Ctrl-C stops it");
        await WhenCancelled(lifetime.ApplicationStopping).ConfigureAwait(false);
        Console.WriteLine($"stopping after {server.AcceptedConnections} connections");
        await host.StopAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>The host: options from <c>Miniss__*</c> environment variables (<c>Miniss__Backend=epoll</c>) under
    /// the command line's, the console log of <c>miniss</c>, and the server.</summary>
    private static IHost BuildHost(ServeOptions options, LogLevel level, IPEndPoint endPoint, Func<ShardConnection, ValueTask> handler)
    {
        // No defaults: no appsettings.json of whatever folder miniss runs in, no command-line configuration.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        ConsoleLogging.Configure(builder.Logging, level);

        // The host's own messages break the output contract: "Application started. Press Ctrl+C" chatter, and a failed
        // start logged with its stack trace. miniss reports a failure itself, in one line.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None).AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.Configure<ConsoleLifetimeOptions>(console => console.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = s_stopTimeout);

        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"), runtime =>
        {
            if (options.Shards is { } shards)
            {
                runtime.ShardCount = shards;
            }
        });
        builder.Services.AddShardServer(endPoint, handler,
            new ShardServerOptions { Listener = new ListenerOptions { ShareAcrossProcesses = options.ReusePort } });
        return builder.Build();
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), cancelled);
        return cancelled.Task;
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
