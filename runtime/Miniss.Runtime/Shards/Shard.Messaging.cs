using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Miniss.Messaging;
using Miniss.Scheduling;

namespace Miniss;

// Messages and posted work: the rings from and to the other shards, the outgoing batches handed over once per tick,
// and the external queue through which threads that are not shards reach this one.
public sealed partial class Shard
{
    private static readonly Action<object?> s_dispatchMessage = static message => t_current!.Dispatch((ShardMessage)message!);

    private readonly ConcurrentQueue<WorkItem> _external = new();
    private readonly Lock _externalGate = new();
    private readonly CrossShardQueue?[] _incoming;
    private readonly CrossShardQueue?[] _outgoing;
    private readonly Queue<ShardMessage>[] _pendingOut;
    private readonly Shard?[] _wakeAfterFlush;

    private bool _anyPendingOut;

    // Set under _externalGate once the loop has ended: from then on posts run on the thread pool, messages are refused.
    private bool _exited;
    private int _outstandingCalls;

    // Written by the shard's own thread only; read by anyone through Statistics.
    private long _messagesReceived;
    private long _messagesSent;

    /// <summary>
    /// Queues work to run on this shard, from any thread. From another thread it goes through the external queue
    /// and wakes the shard; after the shard has stopped it runs on the thread pool instead, so nothing waits forever.
    /// </summary>
    internal void Post(in WorkItem item)
    {
        if (t_current == this)
        {
            _runQueue.Enqueue(item);
            return;
        }

        lock (_externalGate)
        {
            if (!_exited)
            {
                _external.Enqueue(item);
                Interlocked.MemoryBarrier();
                Wake();
                return;
            }
        }

        WorkItem late = item;
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Invoke(), late, preferLocal: false);
    }

    /// <summary>
    /// Queues <paramref name="callback"/> to run on this shard, from any thread, without allocating: on the shard itself
    /// it goes to the run queue; from another thread through the external queue, waking the shard. After the runtime
    /// has stopped it runs on the thread pool instead, so nothing waits forever. For schedulers (a
    /// <c>PipeScheduler</c>) that must resume work on the shard that owns it.
    /// </summary>
    /// <param name="callback">The work; an exception it throws is reported as the shard's unhandled exception.</param>
    /// <param name="state">The callback's argument.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public void Post(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Post(new WorkItem(callback, state));
    }

    /// <summary>Delivers a message to this shard from a thread that is not one of the runtime's shards.</summary>
    internal void PostMessage(ShardMessage message)
    {
        lock (_externalGate)
        {
            if (!_exited)
            {
                _external.Enqueue(new WorkItem(s_dispatchMessage, message));
                Interlocked.MemoryBarrier();
                Wake();
                return;
            }
        }

        message.Reject(this, Stopped());
    }

    /// <summary>
    /// Sends a message from this shard (the calling thread) to <paramref name="target"/>: batched in the outgoing
    /// buffer and handed over when the tick ends. To itself, it is queued on the run queue.
    /// </summary>
    internal void Send(Shard target, ShardMessage message)
    {
        if (target == this)
        {
            _runQueue.Enqueue(new WorkItem(s_dispatchMessage, message));
            return;
        }

        _pendingOut[target.Id].Enqueue(message);
        _anyPendingOut = true;
    }

    internal void OnReplyReceived() => _outstandingCalls--;

    internal void OnCallSent() => _outstandingCalls++;

    private void Dispatch(ShardMessage message)
    {
        if (_rejecting)
        {
            message.Reject(this, Stopped());
        }
        else
        {
            message.Execute(this);
        }
    }

    private bool ProcessMessages()
    {
        bool any = false;
        for (int from = 0; from < _incoming.Length; from++)
        {
            CrossShardQueue? queue = _incoming[from];
            if (queue is null)
            {
                continue;
            }

            bool read = false;
            try
            {
                while (queue.TryRead(out ShardMessage message))
                {
                    read = true;
                    _messagesReceived++;
                    BeginTask();
                    Dispatch(message);
                    EndTask();
                }
            }
            finally
            {
                // Also when a message's execution failed the loop: what was read is released, or the queue would look
                // non-empty for ever and the shard could never finish stopping.
                if (read)
                {
                    queue.Release();
                }
            }

            any |= read;
        }

        while (_external.TryDequeue(out WorkItem item))
        {
            any = true;
            BeginTask();
            RunGuarded(item);
            EndTask();
        }

        ClearRunningTask();
        return any;
    }

    /// <summary>Hands the outgoing batches to the other shards' rings and wakes those that sleep.</summary>
    private void FlushOutgoing()
    {
        if (!_anyPendingOut)
        {
            return;
        }

        bool remaining = false;
        int wake = 0;
        for (int to = 0; to < _pendingOut.Length; to++)
        {
            var pending = _pendingOut[to];
            if (pending.Count == 0)
            {
                continue;
            }

            CrossShardQueue queue = _outgoing[to]!;
            while (pending.Count > 0 && queue.TryWrite(pending.Peek()))
            {
                pending.Dequeue();
                _messagesSent++;
            }

            if (queue.Publish())
            {
                _wakeAfterFlush[wake++] = _runtime.Shards[to];
            }

            remaining |= pending.Count > 0;
        }

        // The tails published above must be visible before each target's sleeping flag is read (store-load order).
        Interlocked.MemoryBarrier();
        for (int i = 0; i < wake; i++)
        {
            _wakeAfterFlush[i]!.Wake();
            _wakeAfterFlush[i] = null;
        }

        _anyPendingOut = remaining;
    }

    /// <summary>Whether a message or posted work waits to be read: from another shard's ring or the external queue.</summary>
    private bool HasIncoming()
    {
        if (!_external.IsEmpty)
        {
            return true;
        }

        foreach (CrossShardQueue? queue in _incoming)
        {
            if (queue is not null && queue.HasItems)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The loop has ended: later posts run on the thread pool and later messages are refused; anything that
    /// slipped in after the loop's last look is handled the same way.</summary>
    private void CloseExternalQueue()
    {
        lock (_externalGate)
        {
            _exited = true;
        }

        while (_external.TryDequeue(out WorkItem item))
        {
            if (item.Callback == (Delegate)s_dispatchMessage)
            {
                ((ShardMessage)item.State!).Reject(this, Stopped());
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Invoke(), item, preferLocal: false);
            }
        }
    }
}
