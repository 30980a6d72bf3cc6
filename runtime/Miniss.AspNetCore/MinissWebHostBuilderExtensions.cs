using System;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Miniss.AspNetCore.Internal;
using Miniss.Hosting;

namespace Miniss.AspNetCore;

/// <summary>Runs Kestrel on Miniss shards.</summary>
public static class MinissWebHostBuilderExtensions
{
    /// <summary>The configuration section the runtime's options are bound from (<c>Miniss:ShardCount</c>,
    /// <c>Miniss:Backend</c>...).</summary>
    public const string ConfigurationSection = "Miniss";

    /// <summary>
    /// Makes Kestrel take its connections from Miniss shards: registers the Miniss runtime (<c>AddMiniss</c>, with its
    /// options bound from the <see cref="ConfigurationSection"/> section of the host's configuration) and a transport
    /// for IP and Unix domain socket endpoints (<c>Listen</c>, <c>ListenLocalhost</c>, <c>ListenAnyIP</c>,
    /// <c>ListenUnixSocket</c>, <c>UseUrls</c>). Each connection lives on one shard, and Kestrel's HTTP parsing and
    /// the application's code run there: a middleware put first in the pipeline moves the requests that Kestrel
    /// serves from the thread pool (HTTP/2 streams) onto their connection's shard. Endpoints of other kinds (a file handle) are left to the other transports
    /// registered (Kestrel's sockets). Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="builder">The web host builder (<c>WebApplicationBuilder.WebHost</c>).</param>
    /// <param name="configure">Sets the transport's options; runs after configuration binding.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static IWebHostBuilder UseMiniss(this IWebHostBuilder builder, Action<MinissTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) =>
        {
            services.AddMiniss(context.Configuration.GetSection(ConfigurationSection));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, MinissTransportFactory>());
            services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ShardAffinityStartupFilter>());
            var options = services.AddOptions<MinissTransportOptions>();
            if (configure is not null)
            {
                options.Configure(configure);
            }
        });
    }
}
