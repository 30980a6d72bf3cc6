using System;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Miniss.Hosting.Internal;

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
    /// The options are checked when the host starts: a value that breaks a rule fails the host's <c>StartAsync</c> with
    /// an <see cref="OptionsValidationException"/> whose failures name each key and its rule.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets options in code; runs after configuration binding.</param>
    public static IServiceCollection AddMiniss(this IServiceCollection services, Action<RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<RuntimeOptions> options = services.AddOptions<RuntimeOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RuntimeOptions>, RuntimeOptionsValidator>());
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
    /// <c>Miniss:Backend</c>, <c>Miniss:BufferPool:MaxMemory</c>, <c>Miniss:StallThreshold</c> as <c>00:00:00.050</c>,
    /// <c>Miniss:Cpus:0</c>; as environment variables <c>Miniss__Backend=epoll</c>). <c>Backend</c> takes the names
    /// <c>MINISS_BACKEND</c> takes (<c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>, <c>auto</c>) and the enum names
    /// (<c>IoUring</c>); a list (<c>Cpus</c>, <c>BufferPool:SizeClasses</c>) replaces the default one. A value that
    /// cannot be read, or breaks a rule, fails the host's start with an <see cref="OptionsValidationException"/> naming
    /// its key (docs/hosting.md lists every key, its default and its rule).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <param name="configure">Sets options in code; runs after binding.</param>
    public static IServiceCollection AddMiniss(this IServiceCollection services, IConfiguration configuration, Action<RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var binding = new RuntimeOptionsBinding(configuration);
        services.AddSingleton<IConfigureOptions<RuntimeOptions>>(binding);
        services.AddSingleton(binding);
        return services.AddMiniss(configure);
    }
}
