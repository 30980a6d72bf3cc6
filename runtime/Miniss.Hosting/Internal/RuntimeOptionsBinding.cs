using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Miniss.IO;

namespace Miniss.Hosting.Internal;

/// <summary>
/// Binds <see cref="RuntimeOptions"/> from a configuration section. The options binder reads every property but
/// <c>Backend</c>, which is read with the names Miniss documents (<c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>,
/// <c>auto</c>, as <c>MINISS_BACKEND</c> spells them; the enum names <c>IoUring</c>... work too). A list given in
/// configuration (<c>Cpus</c>, <c>BufferPool:SizeClasses</c>) replaces the default list instead of extending it. A
/// value that cannot be read fails with an <see cref="OptionsValidationException"/> naming its key.
/// </summary>
internal sealed class RuntimeOptionsBinding(IConfiguration section) : IConfigureOptions<RuntimeOptions>
{
    private const string BackendKey = nameof(RuntimeOptions.Backend);

    /// <summary>How the keys of this section are written in messages: <c>Miniss:ShardCount</c>.</summary>
    public string KeyPrefix { get; } = section is IConfigurationSection { Path: { Length: > 0 } path } ? path + ConfigurationPath.KeyDelimiter : "";

    public void Configure(RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (HasChildren(section.GetSection($"{nameof(RuntimeOptions.BufferPool)}:{nameof(Buffers.BufferPoolConfig.SizeClasses)}")))
        {
            // The binder appends to a list that already has items; configuration that names size classes means these.
            options.BufferPool.SizeClasses = [];
        }

        try
        {
            new ConfigurationWithout(section, BackendKey).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            failures.Add(e.InnerException is { } inner ? $"{e.Message.TrimEnd('.')}: {inner.Message}" : e.Message);
        }

        if (section[BackendKey] is { } backend)
        {
            try
            {
                options.Backend = IoBackendSelection.Parse(backend);
            }
            catch (ArgumentException)
            {
                failures.Add($"{KeyPrefix}{BackendKey} is '{backend}': use io_uring, epoll, kqueue or auto.");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(RuntimeOptions), failures);
        }
    }

    private static bool HasChildren(IConfiguration configuration)
    {
        using IEnumerator<IConfigurationSection> children = configuration.GetChildren().GetEnumerator();
        return children.MoveNext();
    }
}
