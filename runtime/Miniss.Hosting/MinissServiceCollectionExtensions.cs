using System;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Miniss.Hosting;

/// <summary>Registers Miniss with a host's services.</summary>
public static class MinissServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="MinissRuntime"/> singleton, started when the host starts (before every hosted service's
    /// <c>StartAsync</c>) and stopped when the host stops (after every hosted service's <c>StopAsync</c>, so servers drain
    /// first), within the host's shutdown timeout. Its <see cref="RuntimeOptions"/> come from the options system
    /// (<c>IOptions&lt;RuntimeOptions&gt;</c>); logging goes through the host's <see cref="ILoggerFactory"/> and metrics
    /// through its <see cref="IMeterFactory"/>. Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets options in code; runs after configuration binding.</param>
    public static IServiceCollection AddMiniss(this IServiceCollection services, Action<RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<RuntimeOptions> options = services.AddOptions<RuntimeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(static provider =>
        {
            RuntimeOptions options = provider.GetRequiredService<IOptions<RuntimeOptions>>().Value;
            options.LoggerFactory ??= provider.GetService<ILoggerFactory>();
            options.MeterFactory ??= provider.GetService<IMeterFactory>();
            return MinissRuntime.Start(options);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MinissHostedService>());
        return services;
    }

    /// <summary>
    /// Registers Miniss as <see cref="AddMiniss(IServiceCollection, Action{RuntimeOptions}?)"/> does, with its options
    /// bound from <paramref name="configuration"/> (a section such as <c>Miniss</c>: <c>Miniss:ShardCount</c>,
    /// <c>Miniss:Backend</c>, <c>Miniss:BufferPool:MaxMemory</c>; as environment variables <c>Miniss__Backend=epoll</c>).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <param name="configure">Sets options in code; runs after binding.</param>
    public static IServiceCollection AddMiniss(this IServiceCollection services, IConfiguration configuration, Action<RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RuntimeOptions>().Bind(configuration);
        return services.AddMiniss(configure);
    }
}
