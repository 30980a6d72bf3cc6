using System;
using Microsoft.Extensions.Logging;

namespace Miniss.Diagnostics;

/// <summary>The runtime's log messages, compiled once (no formatting cost when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Miniss could not pin shard {Shard} to CPU {Cpu} ({Error}); shards run unpinned")]
    public static partial void PinningRefused(ILogger logger, int shard, int cpu, string error);

    [LoggerMessage(2, LogLevel.Error, "Miniss shard {Shard}: an exception escaped work run on the shard")]
    public static partial void UnhandledException(ILogger logger, Exception error, int shard);

    [LoggerMessage(3, LogLevel.Critical, "Miniss shard {Shard}: the loop failed; the shard refuses new work, drains what it has in flight, and the runtime is faulted")]
    public static partial void LoopFailed(ILogger logger, Exception error, int shard);

    [LoggerMessage(5, LogLevel.Warning, "Miniss: the file system of '{Path}' refuses O_DIRECT; DmaFile falls back to buffered I/O")]
    public static partial void DirectIoRefused(ILogger logger, string path);

    [LoggerMessage(6, LogLevel.Warning, "Miniss shard {Shard} could not register its buffer pool as fixed buffers; pool buffers use ordinary reads and writes. {Reason}")]
    public static partial void BufferRegistrationRefused(ILogger logger, int shard, string reason);

    [LoggerMessage(7, LogLevel.Information, "Miniss I/O backend: {Selection}")]
    public static partial void BackendChosen(ILogger logger, string selection);

    [LoggerMessage(4, LogLevel.Warning, "Miniss shard {Shard} stalled: one task has kept it busy for {Milliseconds:F1} ms")]
    public static partial void Stall(ILogger logger, int shard, double milliseconds);

    [LoggerMessage(8, LogLevel.Critical, "Miniss shard {Shard}: its loop keeps failing; {InFlight} operations in flight are given up and the shard only refuses work until the runtime stops")]
    public static partial void ShardAbandoned(ILogger logger, int shard, int inFlight);

    [LoggerMessage(10, LogLevel.Warning, "Miniss: the stop ran out of time before every shard drained; the shard threads are left to finish on their own. Still in flight: {Pending}")]
    public static partial void StopTimedOut(ILogger logger, string pending);

    [LoggerMessage(11, LogLevel.Warning, "Miniss shard {Shard} runs without submission-queue polling (RuntimeOptions.SubmissionQueuePolling is Auto): {Reason}")]
    public static partial void SubmissionPollingRefused(ILogger logger, int shard, string reason);

    [LoggerMessage(9, LogLevel.Error, "Miniss shard {Shard}: a handler of UnhandledException or ShardFaulted threw; the shard goes on")]
    public static partial void HandlerFailed(ILogger logger, Exception error, int shard);
}
