using System;
using System.Threading;
using Miniss.Messaging;

namespace Miniss;

// What observers read: the statistics snapshots and what the Miniss meter reads (Diagnostics/MinissMetrics.cs),
// counters the shard's own thread writes as plain fields (each in the file of its concern), read here from other
// threads. Also the loop's busy and idle time, which the loop marks through the methods at the end of this file.
public sealed partial class Shard
{
    // Utilization. _clockMark: when the loop last left its idle path (0 before it starts and after it ends);
    // _idleSince: when the current idle period began (0: not idle); _busyTime and _idleTime: the totals of the
    // periods that have ended. Written by the shard between the two steps of _loopTimeVersion (odd while it writes),
    // so an observer reads them as one snapshot.
    private long _clockMark;
    private long _idleSince;
    private long _busyTime;
    private long _idleTime;
    private int _loopTimeVersion;

    // Connections served by ShardServer accept loops on this shard; written by the shard's own thread only.
    private long _connectionsAccepted;
    private long _connectionsActive;
    private long _connectionsFaulted;

    /// <summary>A snapshot of this shard's counters; any thread may read it.</summary>
    public ShardStatistics Statistics
    {
        get
        {
            ReadLoopTime(out long busy, out long idle);
            return new ShardStatistics(
                Id,
                Volatile.Read(ref _ticks),
                Volatile.Read(ref _tasksRun),
                Volatile.Read(ref _ioCompletions),
                Volatile.Read(ref _messagesReceived),
                Volatile.Read(ref _messagesSent),
                Volatile.Read(ref _sleeps),
                Volatile.Read(ref _wakeups),
                Volatile.Read(ref _systemCalls),
                Volatile.Read(ref _timersFired),
                Volatile.Read(ref _stalls),
                Volatile.Read(ref _unhandledExceptions))
            {
                IoSubmissions = Volatile.Read(ref _ioSubmissions),
                BusyTime = Clock.ToTimeSpan(busy),
                IdleTime = Clock.ToTimeSpan(idle),
            };
        }
    }

    /// <summary>A snapshot of this shard's multishot receive and accept counters and of its provided-buffer ring;
    /// any thread may read it.</summary>
    public MultishotStatistics MultishotStatistics => Networking.Statistics;

    /// <summary>Timers armed and not yet fired or cancelled. Any thread; a moment old.</summary>
    internal int ArmedTimers => Volatile.Read(ref _armedTimers);

    /// <summary>Messages other shards have published to this shard's incoming rings that it has not finished
    /// reading (a batch being dispatched counts until it is released). Any thread; a moment old.</summary>
    internal long QueuedMessages
    {
        get
        {
            long queued = 0;
            foreach (CrossShardQueue? queue in _incoming)
            {
                if (queue is not null)
                {
                    queued += queue.Count;
                }
            }

            return queued;
        }
    }

    /// <summary>Connections accepted on this shard by <see cref="Net.ShardServer"/> accept loops. Any thread.</summary>
    internal long ConnectionsAccepted => Volatile.Read(ref _connectionsAccepted);

    /// <summary>Connections served on this shard whose handler has not returned. Any thread.</summary>
    internal long ConnectionsActive => Volatile.Read(ref _connectionsActive);

    /// <summary>Connections served on this shard whose handler ended with an exception. Any thread.</summary>
    internal long ConnectionsFaulted => Volatile.Read(ref _connectionsFaulted);

    /// <summary>A server's accept loop on this shard accepted a connection. On this shard.</summary>
    internal void CountConnectionAccepted() => _connectionsAccepted++;

    /// <summary>A server's handler starts serving a connection on this shard. On this shard.</summary>
    internal void CountConnectionStarted() => _connectionsActive++;

    /// <summary>A connection's handler on this shard has returned (or thrown). On this shard.</summary>
    internal void CountConnectionEnded() => _connectionsActive--;

    /// <summary>A connection's handler on this shard threw. On this shard.</summary>
    internal void CountConnectionFaulted() => _connectionsFaulted++;

    /// <summary>
    /// The loop's busy and idle time so far, in <see cref="Clock"/> timestamps, including the period in progress (a
    /// shard asleep for a minute shows a minute more idle time, one running a long task a minute more busy time). Any
    /// thread. Two reads racing with the shard entering or leaving its idle path may differ by the moment between the
    /// two threads' clock reads: callers that need a counter that never goes back keep the largest value they have seen.
    /// </summary>
    internal void ReadLoopTime(out long busy, out long idle)
    {
        var spin = new SpinWait();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int version = Volatile.Read(ref _loopTimeVersion);
            if ((version & 1) == 0)
            {
                long now = Clock.Now;
                busy = Volatile.Read(ref _busyTime);
                idle = Volatile.Read(ref _idleTime);
                long since = Volatile.Read(ref _idleSince);
                long mark = Volatile.Read(ref _clockMark);
                if (Volatile.Read(ref _loopTimeVersion) == version)
                {
                    if (since != 0)
                    {
                        idle += Math.Max(0, now - since);
                    }
                    else if (mark != 0)
                    {
                        busy += Math.Max(0, now - mark);
                    }

                    return;
                }
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }

        // The shard was preempted while it wrote: the totals alone (each only grows), without the period in progress.
        busy = Volatile.Read(ref _busyTime);
        idle = Volatile.Read(ref _idleTime);
    }

    /// <summary>The loop starts: its time counts as busy from <paramref name="now"/>. On the shard.</summary>
    private void MarkLoopStarted(long now)
    {
        BeginLoopTimeUpdate();
        _clockMark = now;
        EndLoopTimeUpdate();
    }

    /// <summary>The loop goes idle at <paramref name="now"/>: the busy period since the last idle one ends. On the shard.</summary>
    private void MarkIdleStarted(long now)
    {
        BeginLoopTimeUpdate();
        _busyTime += now - _clockMark;
        _idleSince = now;
        EndLoopTimeUpdate();
    }

    /// <summary>The idle period that began at <paramref name="idleFrom"/> ends at <paramref name="now"/>. On the shard.</summary>
    private void MarkIdleEnded(long idleFrom, long now)
    {
        BeginLoopTimeUpdate();
        _idleTime += now - idleFrom;
        _clockMark = now;
        _idleSince = 0;
        EndLoopTimeUpdate();
    }

    /// <summary>The loop has ended: its time no longer counts as busy (see <see cref="ReadLoopTime"/>). On the shard.</summary>
    private void MarkLoopEnded()
    {
        BeginLoopTimeUpdate();
        _clockMark = 0;
        _idleSince = 0;
        EndLoopTimeUpdate();
    }

    /// <summary>The shard starts writing its loop time: observers wait (a full fence, so no write below is seen before it).</summary>
    private void BeginLoopTimeUpdate() => Interlocked.Increment(ref _loopTimeVersion);

    /// <summary>The shard has written its loop time (a release: every write above is seen before it).</summary>
    private void EndLoopTimeUpdate() => Volatile.Write(ref _loopTimeVersion, _loopTimeVersion + 1);
}
