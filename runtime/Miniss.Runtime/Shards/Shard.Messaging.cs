using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Miniss.IO;
using Miniss.Messaging;
using Miniss.Scheduling;

namespace Miniss;

// Messages and posted work: the rings from and to the other shards, the outgoing batches handed over once per tick,
// the external queue through which threads that are not shards reach this one, and the mailbox (Messaging/
// ShardMailbox.cs): the outside threads' doorbell and the sleeping flag through which senders find out whether to
// wake this shard. Messages from shards are found by reading each incoming ring's tail, not by a doorbell.
public sealed partial class Shard
{
    private static readonly Action<object?> s_dispatchMessage = static message => t_current!.Dispatch((ShardMessage)message!);

    private readonly ConcurrentQueue<WorkItem> _external = new();
    private readonly Lock _externalGate = new();
    private readonly CrossShardQueue?[] _incoming;
    private readonly CrossShardQueue?[] _outgoing;

    // The incoming rings that exist (every other shard's to this one), for the loop's scan.
    private readonly CrossShardQueue[] _incomingRings;
    private readonly Queue<Envelope>[] _pendingOut;
    private readonly Shard?[] _wakeAfterFlush;

    // Senders' doorbell and this shard's sleeping flag, on a cache line of their own (not readonly: it is mutated in place).
    private ShardMailbox _mailbox;

    // Whether this shard wakes sleeping peers with IORING_OP_MSG_RING (chosen at start: the option, io_uring, the kernel).
    private bool _ringWakeups;

    // Whether the kernel has IORING_OP_MSG_RING: 0 not yet probed, 1 yes, -1 no. The kernel is the same for every shard.
    private static int s_messageRingSupported;

    private bool _anyPendingOut;

    // Set under _externalGate once the loop has ended: from then on posts run on the thread pool, messages are refused.
    private bool _exited;
    private int _outstandingCalls;

    // Written by the shard's own thread only; read by anyone through Statistics.
    private long _messagesReceived;
    private long _messagesSent;
    private long _ringWakeupsSent;

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
                DeliverExternal();
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
                DeliverExternal();
                return;
            }
        }

        message.Reject(this, Stopped());
    }

    /// <summary>
    /// Sends a message from this shard (the calling thread) to shard <paramref name="target"/>: batched in the outgoing
    /// buffer and handed over when the tick ends. To itself, it is queued on the run queue. The target is named by its
    /// id, not its object, so that sending never reads a line of the other shard's object, which it keeps writing.
    /// </summary>
    internal void Send(int target, ShardMessage message)
    {
        if (target == Id)
        {
            _runQueue.Enqueue(new WorkItem(s_dispatchMessage, message));
            return;
        }

        _pendingOut[target].Enqueue(Envelope.Of(message));
        _anyPendingOut = true;
    }

    /// <summary>Sends an inline call's request or reply (<see cref="InlineCall{T}"/>) from this shard to another
    /// shard, batched as <see cref="Send(int, ShardMessage)"/> is. Never to itself: a shard's calls to itself travel
    /// as message objects through its run queue.</summary>
    internal void Send(int target, in Envelope envelope)
    {
        System.Diagnostics.Debug.Assert(target != Id, "an inline call to the shard itself");
        _pendingOut[target].Enqueue(envelope);
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

    /// <summary>Wakes the shard if it sleeps in the kernel, through its eventfd. Callers publish their work before
    /// calling, with a full fence.</summary>
    internal void Wake()
    {
        if (_mailbox.TryClaimWake())
        {
            SignalWake();
        }
    }

    /// <summary>Work was added to the external queue (any thread): rings the mailbox and wakes the shard if it sleeps.</summary>
    private void DeliverExternal()
    {
        if (_mailbox.DeliverExternal())
        {
            SignalWake();
        }
    }

    /// <summary>Ends the shard's sleep through its eventfd (the sleeping flag has been claimed by the caller).</summary>
    private void SignalWake()
    {
        Interlocked.Increment(ref _wakeups);
        Internal.Linux.EventFd.Signal(_eventFd);
    }

    /// <summary>This shard (the calling thread) claimed the wake-up of <paramref name="target"/>: with
    /// <see cref="RuntimeOptions.WakeShardsWithMessageRing"/> on and both shards on io_uring, an
    /// <c>IORING_OP_MSG_RING</c> posting a completion to the target's ring, sent with this tick's submissions;
    /// otherwise (or once this shard's loop has failed, when its engine is no longer trusted) the target's eventfd.</summary>
    private unsafe void WakeFromShard(Shard target)
    {
        if (_ringWakeups && _fault is null && _ring is not null && target.UringOrNull is { } targetRing)
        {
            // The sender's completion is skipped on success; a failure arrives as RingWakeSent | target (OnRingWakeFailed).
            IoOperations.PrepareRingWake(_engine!.NextSqe(), targetRing.Fd, CompletionToken.RingWake, CompletionToken.RingWakeSent | (uint)target.Id);
            _ringWakeupsSent++;
            Interlocked.Increment(ref target._wakeups);
            return;
        }

        target.SignalWake();
    }

    /// <summary>A MSG_RING wake-up this shard sent failed (its completion carries <paramref name="userData"/>,
    /// <see cref="CompletionToken.RingWakeSent"/> with the target's id): the target is woken through its eventfd.</summary>
    private void OnRingWakeFailed(ulong userData) => _runtime.Shards[(int)(uint)userData].SignalWake();

    /// <summary>At start, on the shard's thread: wake sleeping peers with MSG_RING when
    /// <see cref="RuntimeOptions.WakeShardsWithMessageRing"/> asks for it, this shard runs io_uring and the kernel has
    /// <c>IORING_OP_MSG_RING</c> (Linux 5.18; probed once per process), the eventfd otherwise.</summary>
    private void ChooseWakeMechanism()
    {
        _ringWakeups = false;
        if (!_options.WakeShardsWithMessageRing || _ring is null)
        {
            return;
        }

        int supported = Volatile.Read(ref s_messageRingSupported);
        if (supported == 0)
        {
            bool[]? opcodes = IoUringCapabilities.SupportedOpcodes(_ring.Fd, out _, out _);
            supported = opcodes is not null && Bindings.Linux.IoUring.IORING_OP_MSG_RING < opcodes.Length && opcodes[Bindings.Linux.IoUring.IORING_OP_MSG_RING] ? 1 : -1;
            Volatile.Write(ref s_messageRingSupported, supported);
        }

        _ringWakeups = supported == 1;
    }

    /// <summary>Whether <paramref name="userData"/> is the completion of a failed MSG_RING wake-up this shard sent.</summary>
    private static bool IsRingWakeFailure(ulong userData) => (userData & ~0xFFFF_FFFFUL) == CompletionToken.RingWakeSent;

    /// <summary>MSG_RING wake-ups this shard has sent to other shards. Any thread; a moment old.</summary>
    internal long RingWakeupsSent => Volatile.Read(ref _ringWakeupsSent);

    /// <summary>Reads the incoming rings that hold anything, and the external queue when its doorbell was rung: each ring's
    /// batch up to the tail published when it is first read (one acquire), released once (one release).</summary>
    private bool ProcessMessages()
    {
        bool any = false;
        CrossShardQueue[] rings = _incomingRings;
        for (int i = 0; i < rings.Length; i++)
        {
            if (rings[i].HasReadable)
            {
                any |= ReadRing(rings[i]);
            }
        }

        if (_mailbox.TakeExternal())
        {
            while (_external.TryDequeue(out WorkItem item))
            {
                any = true;
                BeginTask();
                RunGuarded(item);
                EndTask();
            }

            ClearRunningTask();
        }
        else if (any)
        {
            ClearRunningTask();
        }

        return any;
    }

    /// <summary>Dispatches everything readable in <paramref name="queue"/> (from another shard) and
    /// releases it to the producer.</summary>
    private bool ReadRing(CrossShardQueue queue)
    {
        bool read = false;
        try
        {
            // Every message is a task for the stall detector (a request runs user code; a reply resumes its caller
            // inline), all timed from one clock read per batch, as the reap times its completions: a batch whose
            // messages together keep the loop away past the threshold is reported as a stall, which it is.
            long started = 0;
            while (queue.TryRead(out Envelope envelope))
            {
                read = true;
                _messagesReceived++;
                if (started == 0)
                {
                    started = Clock.Now;
                }

                Volatile.Write(ref _taskStartedAt, started);
                if (envelope.IsMessage)
                {
                    Dispatch((ShardMessage)envelope.Message!);
                }
                else
                {
                    envelope.Step!.Run(ref envelope, this, _rejecting ? Stopped() : null);
                }

                _tasksRun++;
                EndTask();
            }
        }
        finally
        {
            // Also when a message's execution failed the loop: what was read is released, or the queue would look
            // non-empty for ever and the shard could never finish stopping; what is left is found by the next scan.
            if (read)
            {
                queue.Release();
            }
        }

        return read;
    }

    /// <summary>Hands the outgoing batches to the other shards' rings (one release per ring), then, after one fence for
    /// the whole flush, reads each target's sleeping flag and wakes those that sleep.</summary>
    private void FlushOutgoing()
    {
        if (!_anyPendingOut)
        {
            return;
        }

        bool remaining = false;
        int published = 0;
        for (int to = 0; to < _pendingOut.Length; to++)
        {
            var pending = _pendingOut[to];
            if (pending.Count == 0)
            {
                continue;
            }

            CrossShardQueue queue = _outgoing[to]!;
            while (pending.TryPeek(out Envelope envelope) && queue.TryWrite(in envelope))
            {
                pending.Dequeue();
                _messagesSent++;
            }

            if (queue.Publish())
            {
                _wakeAfterFlush[published++] = _runtime.Shards[to];
            }

            remaining |= pending.Count > 0;
        }

        if (published == 0)
        {
            _anyPendingOut = remaining;
            return;
        }

        // Full fence: the tails published above are visible before any target's sleeping flag is read (a target
        // announces its sleep with a full fence, then scans its rings: one of the two sees the other's write).
        Interlocked.MemoryBarrier();
        for (int i = 0; i < published; i++)
        {
            Shard target = _wakeAfterFlush[i]!;
            _wakeAfterFlush[i] = null;
            if (target._mailbox.TryClaimWake())
            {
                WakeFromShard(target);
            }
        }

        _anyPendingOut = remaining;
    }

    /// <summary>Whether a message or posted work waits to be read: an outside thread rang the doorbell, or an incoming
    /// ring's tail has moved past what this shard has read (one read of a line per other shard, each a hit in this
    /// core's cache until its sender publishes).</summary>
    private bool HasIncoming()
    {
        if (_mailbox.HasMail)
        {
            return true;
        }

        CrossShardQueue[] rings = _incomingRings;
        for (int i = 0; i < rings.Length; i++)
        {
            if (rings[i].HasReadable)
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
