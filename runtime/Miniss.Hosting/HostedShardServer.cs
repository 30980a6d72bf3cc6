using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Miniss.Hosting.Internal;
using Miniss.Net;

namespace Miniss.Hosting;

/// <summary>
/// A <see cref="ShardServer"/> run by the host (see
/// <see cref="ShardServerServiceCollectionExtensions.AddShardServer(IServiceCollection, EndPoint, Func{ShardConnection, ValueTask}, ShardServerOptions?)"/>):
/// started on the host's <see cref="MinissRuntime"/> when the host starts, stopped when it stops, before the runtime.
/// Resolve it from the host's services to read where it listens (<see cref="LocalEndPoint"/>, for port 0).
/// </summary>
public sealed class HostedShardServer : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly Func<ShardConnection, ValueTask> _handler;
    private readonly ShardServerOptions? _options;
    private readonly ILogger _logger;
    private ShardServer? _server;

    internal HostedShardServer(IServiceProvider services, string? name, EndPoint endPoint, Func<ShardConnection, ValueTask> handler, ShardServerOptions? options)
    {
        _services = services;
        Name = name;
        EndPoint = endPoint;
        _handler = handler;
        _options = options;
        _logger = (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(HostingLog.Category);
    }

    /// <summary>The name given to <c>AddShardServer</c>, or <see langword="null"/>.</summary>
    public string? Name { get; }

    /// <summary>The address the server was asked to listen on (port 0: any free port).</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The server, once the host has started it.</summary>
    /// <exception cref="InvalidOperationException">The host has not started (or could not start) the server.</exception>
    public ShardServer Server => _server ?? throw new InvalidOperationException(
        $"The Miniss server for {EndPoint} has not started: start the host first (IHost.StartAsync) and check that it started.");

    /// <summary>The address the server listens on, with the port the kernel chose when port 0 was asked for.</summary>
    /// <exception cref="InvalidOperationException">The host has not started the server.</exception>
    public EndPoint LocalEndPoint => Server.LocalEndPoint;

    /// <summary>Starts listening (called by the host; the runtime was started before every hosted service starts).</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address could not be bound (see
    /// <see cref="ShardServer.StartAsync(MinissRuntime, System.Net.EndPoint, System.Func{ShardConnection, System.Threading.Tasks.ValueTask}, ShardServerOptions?, CancellationToken)"/>); the host's start fails with it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option of the server is out of range.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        MinissRuntime runtime = _services.GetRequiredService<MinissRuntime>();
        _server = await ShardServer.StartAsync(runtime, EndPoint, _handler, _options, cancellationToken).ConfigureAwait(false);
        HostingLog.ServerStarted(_logger, _server.LocalEndPoint.ToString() ?? "", runtime.ShardCount, runtime.Backend.Name);
    }

    /// <summary>Stops the server (no more accepting, open connections closed, handlers awaited), waiting at most until
    /// <paramref name="cancellationToken"/> (the host's shutdown timeout) fires: then the host goes on, and the
    /// runtime's stop, which comes after, cancels what the handlers still hold.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not { } server)
        {
            return;
        }

        try
        {
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            HostingLog.ServerStopTimedOut(_logger, server.LocalEndPoint.ToString() ?? "", server.ActiveConnections);
        }
    }
}
