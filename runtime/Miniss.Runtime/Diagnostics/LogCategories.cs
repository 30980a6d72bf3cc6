using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Miniss.Diagnostics;

/// <summary>The runtime's loggers, one per subsystem, created once from <see cref="RuntimeOptions.LoggerFactory"/>.
/// Without a factory every one is <see cref="NullLogger"/>, whose IsEnabled is false, so a message costs one check.</summary>
internal sealed class LogCategories
{
    /// <summary>The category of shards, their loops, stalls and failures.</summary>
    public const string RuntimeCategory = "Miniss.Runtime";

    /// <summary>The category of the I/O backend and of files.</summary>
    public const string IOCategory = "Miniss.IO";

    /// <summary>The category of listeners, servers and connections.</summary>
    public const string NetCategory = "Miniss.Net";

    /// <summary>The category of buffer pools and their registration with the ring.</summary>
    public const string BuffersCategory = "Miniss.Buffers";

    public LogCategories(ILoggerFactory? factory)
    {
        factory ??= NullLoggerFactory.Instance;
        Runtime = factory.CreateLogger(RuntimeCategory);
        IO = factory.CreateLogger(IOCategory);
        Net = factory.CreateLogger(NetCategory);
        Buffers = factory.CreateLogger(BuffersCategory);
    }

    public ILogger Runtime { get; }

    public ILogger IO { get; }

    public ILogger Net { get; }

    public ILogger Buffers { get; }
}
