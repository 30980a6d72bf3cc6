using Microsoft.Extensions.Logging;

namespace Miniss.Hosting.Internal;

/// <summary>The messages of Miniss on a host, under the category <c>Miniss.Hosting</c> (the runtime's own use
/// <c>Miniss.Runtime</c>, <c>Miniss.IO</c>, <c>Miniss.Net</c> and <c>Miniss.Buffers</c>).</summary>
internal static partial class HostingLog
{
    public const string Category = "Miniss.Hosting";

    [LoggerMessage(20, LogLevel.Information, "Miniss server listening on {EndPoint}, {Shards} shards, backend {Backend}")]
    public static partial void ServerStarted(ILogger logger, string endPoint, int shards, string backend);

    [LoggerMessage(21, LogLevel.Warning, "Miniss server on {EndPoint}: the host's shutdown timeout passed before its handlers returned ({Active} connections still open); the runtime's stop cancels what they hold")]
    public static partial void ServerStopTimedOut(ILogger logger, string endPoint, int active);
}
