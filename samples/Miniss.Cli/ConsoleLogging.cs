using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Miniss.Cli;

/// <summary>The log of <c>miniss</c>: Microsoft.Extensions.Logging's console logger, one line per message, every level
/// on stderr (stdout carries the command's own output); the runtime logs through it (RuntimeOptions.LoggerFactory, or
/// the host's logging for <c>serve</c>).</summary>
internal static class ConsoleLogging
{
    /// <summary>The logger factory for <paramref name="minimum"/> and above: Information by default, Debug with
    /// <c>--verbose</c>, Error with <c>--quiet</c>. Dispose it before exit: messages are written on a background thread.</summary>
    public static ILoggerFactory Create(LogLevel minimum) => LoggerFactory.Create(builder => Configure(builder, minimum));

    /// <summary>Sets up <paramref name="builder"/> (a host's logging, or a factory's) as <see cref="Create"/> does.</summary>
    public static ILoggingBuilder Configure(ILoggingBuilder builder, LogLevel minimum) => builder
        .SetMinimumLevel(minimum)
        .AddSimpleConsole(format =>
        {
            format.SingleLine = true;
            format.IncludeScopes = false;
            format.ColorBehavior = LoggerColorBehavior.Disabled;
        })
        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
}
