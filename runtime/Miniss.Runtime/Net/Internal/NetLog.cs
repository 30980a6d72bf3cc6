using Microsoft.Extensions.Logging;

namespace Miniss.Net.Internal;

/// <summary>The servers' log messages, compiled once (no formatting cost when the level is off). Event ids 100-199.</summary>
internal static partial class NetLog
{
    /// <summary>The scope every message about one served connection is logged in: its id and shard.</summary>
    public static readonly System.Func<ILogger, long, int, System.IDisposable?> ConnectionScope =
        LoggerMessage.DefineScope<long, int>("Connection {ConnectionId} on shard {Shard}");

    [LoggerMessage(104, LogLevel.Debug, "Miniss shard {Shard}: accepted connection {ConnectionId} from {Peer} on {EndPoint}")]
    public static partial void ConnectionAccepted(ILogger logger, int shard, long connectionId, string peer, string endPoint);

    [LoggerMessage(105, LogLevel.Debug, "Miniss shard {Shard}: connection {ConnectionId} closed after {Milliseconds:F1} ms")]
    public static partial void ConnectionClosed(ILogger logger, int shard, long connectionId, double milliseconds);

    [LoggerMessage(106, LogLevel.Warning, "Miniss shard {Shard}: connection {ConnectionId} from {Peer} failed: {Error}")]
    public static partial void ConnectionFaulted(ILogger logger, int shard, long connectionId, string peer, string error);

    [LoggerMessage(107, LogLevel.Debug, "Miniss shard {Shard}: connection {ConnectionId} ended by the server's stop: {Error}")]
    public static partial void ConnectionEndedByStop(ILogger logger, int shard, long connectionId, string error);

    [LoggerMessage(100, LogLevel.Warning, "Miniss shard {Shard}: accepting connections on {EndPoint} failed: {Error}. The shard pauses its accepts " +
        "(retrying after {FirstMilliseconds} ms, then at most every {MaxMilliseconds} ms) and keeps serving its {Connections} connections; " +
        "new clients wait in the listen backlog. Raise RLIMIT_NOFILE (ulimit -n) or set ShardServerOptions.MaxConnections below it")]
    public static partial void AcceptExhausted(ILogger logger, int shard, string endPoint, string error, long firstMilliseconds, long maxMilliseconds, int connections);

    [LoggerMessage(101, LogLevel.Information, "Miniss shard {Shard}: accepting connections on {EndPoint} again, after {Failures} failed attempts over {Seconds:F1} s")]
    public static partial void AcceptResumed(ILogger logger, int shard, string endPoint, int failures, double seconds);

    [LoggerMessage(102, LogLevel.Debug, "Miniss shard {Shard}: {Limit} ({Value}) reached; accepting on {EndPoint} paused until a connection closes")]
    public static partial void ConnectionLimitReached(ILogger logger, int shard, string limit, int value, string endPoint);

    [LoggerMessage(103, LogLevel.Debug, "Miniss shard {Shard}: closed a connection from {Peer} that received nothing for {Milliseconds} ms (ShardServerOptions.IdleTimeout)")]
    public static partial void IdleConnectionClosed(ILogger logger, int shard, string peer, long milliseconds);
}
