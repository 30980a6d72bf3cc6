using Microsoft.Extensions.Logging;

namespace Miniss.Runtime.Tests.Support;

/// <summary>A logger factory that hands the same logger out for every category (tests that collect every message).</summary>
internal sealed class OneLoggerFactory(ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
