namespace Miniss;

/// <summary>A snapshot of one shard's counters since it started. Read from any thread; values may be a moment old.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Ticks">Loop iterations.</param>
/// <param name="TasksRun">Work items run from the run queue (continuations, posts, local calls).</param>
/// <param name="IoCompletions">I/O completions reaped.</param>
/// <param name="MessagesReceived">Cross-shard messages received (requests and replies).</param>
/// <param name="MessagesSent">Cross-shard messages handed to another shard's ring.</param>
/// <param name="Sleeps">Times the shard slept in the kernel.</param>
/// <param name="Wakeups">Times another thread woke the shard.</param>
/// <param name="SystemCalls">io_uring_enter calls made by the shard's ring.</param>
/// <param name="TimersFired">Timers that reached their deadline.</param>
/// <param name="Stalls">Tasks reported by the stall detector.</param>
/// <param name="UnhandledExceptions">Exceptions that escaped work run on the shard.</param>
public readonly record struct ShardStatistics(
    int ShardId,
    long Ticks,
    long TasksRun,
    long IoCompletions,
    long MessagesReceived,
    long MessagesSent,
    long Sleeps,
    long Wakeups,
    long SystemCalls,
    long TimersFired,
    long Stalls,
    long UnhandledExceptions);
