using System;

namespace Miniss;

/// <summary>A snapshot of one shard's counters since it started. Read from any thread; values may be a moment old.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Ticks">Loop iterations.</param>
/// <param name="TasksRun">Pieces of work run: work items from the run queue (continuations, posts, local calls), I/O
/// completions whose awaiters the loop resumed, and messages from other shards (calls, and replies whose callers the
/// loop resumed).</param>
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
    long UnhandledExceptions)
{
    /// <summary>I/O operations handed to the shard's engine: single-shot operations, and each arming of a multishot
    /// receive or accept (which then completes many times, each completion counted in <see cref="IoCompletions"/>).</summary>
    public long IoSubmissions { get; init; }

    /// <summary>Time the loop has spent outside its idle path since it started: running tasks, reaping completions,
    /// submitting. <see cref="BusyTime"/> over <see cref="BusyTime"/> plus <see cref="IdleTime"/> is the shard's
    /// utilization.</summary>
    public TimeSpan BusyTime { get; init; }

    /// <summary>Time the loop has spent idle since it started: spinning for work, or asleep in the kernel.</summary>
    public TimeSpan IdleTime { get; init; }
}
