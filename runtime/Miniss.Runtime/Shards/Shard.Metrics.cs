using System;
using System.Threading;
using Miniss.Messaging;

namespace Miniss;

// What the Miniss meter reads (Diagnostics/MinissMetrics.cs): counters the shard's own thread writes as plain fields,
// read here from the listener's thread. Nothing here runs on the shard's hot path.
public sealed partial class Shard
{
    // Utilization. _clockMark: when the loop last left its idle path (0 before it starts and after it ends);
    // _idleSince: when the current idle period began (0: not idle). Written by the shard between the two steps of
    // _loopTimeVersion (odd while it writes), so an observer reads them and the busy and idle totals as one snapshot.
    private long _clockMark;
    private long _idleSince;
    private int _loopTimeVersion;

    /// <summary>Operations in flight on the engine (single-shot operations and armed multishot ones). Any thread; a
    /// moment old.</summary>
    internal int IoInFlight => Volatile.Read(ref _inFlight);

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
    internal long ConnectionsAccepted => Volatile.Read(ref _stats.ConnectionsAccepted);

    /// <summary>Connections served on this shard whose handler has not returned. Any thread.</summary>
    internal long ConnectionsActive => Volatile.Read(ref _stats.ConnectionsActive);

    /// <summary>Connections served on this shard whose handler ended with an exception. Any thread.</summary>
    internal long ConnectionsFaulted => Volatile.Read(ref _stats.ConnectionsFaulted);

    /// <summary>Buffers of the provided-buffer ring holding received data not yet consumed (0 without a ring). Any thread.</summary>
    internal int ProvidedBuffersInUse => Volatile.Read(ref _bufferRing)?.InUse ?? 0;

    /// <summary>A server's accept loop on this shard accepted a connection. On this shard.</summary>
    internal void CountConnectionAccepted() => _stats.ConnectionsAccepted++;

    /// <summary>A server's handler starts serving a connection on this shard. On this shard.</summary>
    internal void CountConnectionStarted() => _stats.ConnectionsActive++;

    /// <summary>A connection's handler on this shard has returned (or thrown). On this shard.</summary>
    internal void CountConnectionEnded() => _stats.ConnectionsActive--;

    /// <summary>A connection's handler on this shard threw. On this shard.</summary>
    internal void CountConnectionFaulted() => _stats.ConnectionsFaulted++;

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
                busy = Volatile.Read(ref _stats.BusyTime);
                idle = Volatile.Read(ref _stats.IdleTime);
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
        busy = Volatile.Read(ref _stats.BusyTime);
        idle = Volatile.Read(ref _stats.IdleTime);
    }

    /// <summary>The shard starts writing its loop time: observers wait (a full fence, so no write below is seen before it).</summary>
    private void BeginLoopTimeUpdate() => Interlocked.Increment(ref _loopTimeVersion);

    /// <summary>The shard has written its loop time (a release: every write above is seen before it).</summary>
    private void EndLoopTimeUpdate() => Volatile.Write(ref _loopTimeVersion, _loopTimeVersion + 1);
}
