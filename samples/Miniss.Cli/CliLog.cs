using Microsoft.Extensions.Logging;

namespace Miniss.Cli;

/// <summary>The messages <c>miniss</c> logs itself (the runtime's own come through RuntimeOptions.LoggerFactory).</summary>
internal static partial class CliLog
{
    [LoggerMessage(101, LogLevel.Warning, "{What} did not stop within {Seconds} s; exiting without waiting for it")]
    public static partial void StopTimedOut(ILogger logger, string what, double seconds);

    [LoggerMessage(102, LogLevel.Warning, "stopping {What} failed: {Reason}")]
    public static partial void StopFailed(ILogger logger, string what, string reason);

    [LoggerMessage(103, LogLevel.Debug, "descriptor limit (RLIMIT_NOFILE) {Limit}, {Open} open, {Needed} needed for this run")]
    public static partial void Descriptors(ILogger logger, long limit, int open, long needed);

    [LoggerMessage(104, LogLevel.Warning, "could not delete the temporary file {Path}: {Reason}")]
    public static partial void TemporaryFileKept(ILogger logger, string path, string reason);
}
