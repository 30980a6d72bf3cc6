using System;
using Microsoft.Extensions.Logging;

namespace Miniss.Samples.Echo;

/// <summary>Writes the runtime's messages of level Information and above to stderr, one line each
/// (<c>warn: message</c>), with the exception's message, not its stack.</summary>
internal sealed class StderrLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string level = logLevel switch
        {
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
        string message = formatter(state, exception);
        Console.Error.WriteLine(exception is null ? $"{level}: {message}" : $"{level}: {message}: {exception.Message}");
    }
}

/// <summary>Hands out <see cref="StderrLogger"/> for every category.</summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger();

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
