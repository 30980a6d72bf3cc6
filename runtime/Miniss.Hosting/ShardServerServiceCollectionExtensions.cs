using System;
using System.Net;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Miniss.Net;

namespace Miniss.Hosting;

/// <summary>Registers <see cref="ShardServer"/>s that a host starts and stops.</summary>
public static class ShardServerServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="ShardServer"/> on <paramref name="endPoint"/> serving each connection with
    /// <paramref name="handler"/>: started on the host's <see cref="MinissRuntime"/> when the host starts (the runtime
    /// starts first), stopped when the host stops, within its shutdown timeout and before the runtime. Registers the
    /// runtime too (<see cref="MinissServiceCollectionExtensions.AddMiniss(IServiceCollection, Action{RuntimeOptions}?)"/>)
    /// when no <c>AddMiniss</c> call did. Resolve <see cref="HostedShardServer"/> after the host started to read
    /// <see cref="HostedShardServer.LocalEndPoint"/>. A port that cannot be bound fails the host's start with the
    /// <see cref="System.Net.Sockets.SocketException"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="endPoint">Where to listen (see <see cref="ShardServer.StartAsync"/>; port 0: any free port).</param>
    /// <param name="handler">Serves one connection, on its shard (see <see cref="ShardServer"/>).</param>
    /// <param name="options">How to listen and the limits to serve under; <see langword="null"/>: the defaults.</param>
    /// <exception cref="InvalidOperationException">A server without a name is registered already: give each a name.</exception>
    public static IServiceCollection AddShardServer(this IServiceCollection services, EndPoint endPoint, Func<ShardConnection, ValueTask> handler,
        ShardServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handler);
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(HostedShardServer) && !descriptor.IsKeyedService)
            {
                throw new InvalidOperationException(
                    "AddShardServer without a name was called twice: give each server a name (AddShardServer(name, ...)) and resolve it with GetRequiredKeyedService<HostedShardServer>(name).");
            }
        }

        services.AddMiniss();
        services.AddSingleton(provider => new HostedShardServer(provider, null, endPoint, handler, options));
        services.AddSingleton<IHostedService>(static provider => provider.GetRequiredService<HostedShardServer>());
        return services;
    }

    /// <summary>
    /// Registers a named <see cref="ShardServer"/>, as
    /// <see cref="AddShardServer(IServiceCollection, EndPoint, Func{ShardConnection, ValueTask}, ShardServerOptions?)"/>
    /// does; resolve it with <c>GetRequiredKeyedService&lt;HostedShardServer&gt;(name)</c>. Servers start in the order
    /// they were added and stop in the reverse order.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="name">The server's name, unique among the host's servers.</param>
    /// <param name="endPoint">Where to listen (port 0: any free port).</param>
    /// <param name="handler">Serves one connection, on its shard.</param>
    /// <param name="options">How to listen and the limits to serve under; <see langword="null"/>: the defaults.</param>
    /// <exception cref="InvalidOperationException">A server of this name is registered already.</exception>
    public static IServiceCollection AddShardServer(this IServiceCollection services, string name, EndPoint endPoint, Func<ShardConnection, ValueTask> handler,
        ShardServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handler);
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(HostedShardServer) && descriptor.IsKeyedService && Equals(descriptor.ServiceKey, name))
            {
                throw new InvalidOperationException($"A Miniss server named '{name}' is registered already: give each server its own name.");
            }
        }

        services.AddMiniss();
        services.AddKeyedSingleton(name, (provider, _) => new HostedShardServer(provider, name, endPoint, handler, options));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredKeyedService<HostedShardServer>(name));
        return services;
    }
}
