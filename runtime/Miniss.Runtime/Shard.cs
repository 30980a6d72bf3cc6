using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO.Uring;
using Miniss.Messaging;
using Miniss.Scheduling;
using Miniss.Timers;

namespace Miniss;

/// <summary>
/// One core's share of the runtime: a dedicated thread (named <c>miniss-shard-N</c>, pinned to its CPU) running the
/// loop that owns this shard's io_uring ring, run queue, timers and statistics. Code running on a shard that awaits
/// resumes on the same shard. No other thread touches a shard's state; other threads reach it through messages.
/// </summary>
public sealed partial class Shard
{
    [ThreadStatic]
    private static Shard? t_current;

    private static readonly Action<object?> s_dispatchMessage = static message => t_current!.Dispatch((ShardMessage)message!);

    private readonly MinissRuntime _runtime;
    private readonly RuntimeOptions _options;
    private readonly RunQueue _runQueue = new();
    private readonly ConcurrentQueue<WorkItem> _external = new();
    private readonly Lock _externalGate = new();
    private readonly CrossShardQueue?[] _incoming;
    private readonly CrossShardQueue?[] _outgoing;
    private readonly Queue<ShardMessage>[] _pendingOut;
    private readonly Shard?[] _wakeAfterFlush;

    private bool _anyPendingOut;
    private bool _exited;
    private int _sleeping;

    internal Shard(MinissRuntime runtime, int id, int cpu, RuntimeOptions options, CrossShardQueue?[] incoming, CrossShardQueue?[] outgoing)
    {
        _runtime = runtime;
        Id = id;
        Cpu = cpu;
        _options = options;
        _incoming = incoming;
        _outgoing = outgoing;
        _pendingOut = new Queue<ShardMessage>[outgoing.Length];
        for (int i = 0; i < _pendingOut.Length; i++)
        {
            _pendingOut[i] = new Queue<ShardMessage>();
        }

        _wakeAfterFlush = new Shard?[outgoing.Length];
        SynchronizationContext = new ShardSynchronizationContext(this);
        TaskScheduler = new ShardTaskScheduler(this);
        _quotaTicks = Clock.ToTimestamp(options.TaskQuota);
        _spinTicks = Clock.ToTimestamp(options.SpinBeforeSleep);
    }

    /// <summary>The shard the calling thread runs, or <see langword="null"/> on any other thread.</summary>
    public static Shard? Current => t_current;

    /// <summary>This shard's index, 0 to <see cref="MinissRuntime.ShardCount"/> - 1.</summary>
    public int Id { get; }

    /// <summary>The CPU this shard's thread is pinned to (or meant for, when pinning was refused).</summary>
    public int Cpu { get; }

    /// <summary>Whether the kernel accepted pinning this shard's thread to <see cref="Cpu"/>.</summary>
    public bool IsPinned { get; private set; }

    /// <summary>The runtime this shard belongs to.</summary>
    public MinissRuntime Runtime => _runtime;

    /// <summary>
    /// This shard's buffer pool: native, aligned I/O buffers, registered with the shard's ring as fixed buffers when
    /// the memlock limit allows. Allocate and use buffers on this shard; a buffer freed on another thread goes home by
    /// message. Buffers still held when the runtime stops become invalid.
    /// </summary>
    public Buffers.BufferPool Buffers { get; private set; } = null!;

    /// <summary>Whether <see cref="Buffers"/> is registered with the ring (fixed-buffer reads and writes).</summary>
    public bool HasFixedBuffers => Buffers is { RegisteredRingFd: >= 0 };

    /// <summary>The context current on this shard's thread: awaits that capture it resume here.</summary>
    public ShardSynchronizationContext SynchronizationContext { get; }

    /// <summary>A scheduler that runs tasks on this shard.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>A snapshot of this shard's counters; any thread may read it.</summary>
    public ShardStatistics Statistics
    {
        get
        {
            ReadLoopTime(out long busy, out long idle);
            return new ShardStatistics(
                Id,
                Volatile.Read(ref _stats.Ticks),
                Volatile.Read(ref _stats.TasksRun),
                Volatile.Read(ref _stats.IoCompletions),
                Volatile.Read(ref _stats.MessagesReceived),
                Volatile.Read(ref _stats.MessagesSent),
                Volatile.Read(ref _stats.Sleeps),
                Volatile.Read(ref _stats.Wakeups),
                Volatile.Read(ref _stats.SystemCalls),
                Volatile.Read(ref _stats.TimersFired),
                Volatile.Read(ref _stats.Stalls),
                Volatile.Read(ref _stats.UnhandledExceptions))
            {
                IoSubmissions = Volatile.Read(ref _stats.IoSubmissions),
                BusyTime = Clock.ToTimeSpan(busy),
                IdleTime = Clock.ToTimeSpan(idle),
            };
        }
    }

    /// <summary>This shard's io_uring ring.</summary>
    /// <exception cref="InvalidOperationException">The shard has not started, or runs another backend.</exception>
    internal IoUringBackend Ring => _ring ?? throw new InvalidOperationException(_engine is null ? $"shard {Id} has no ring yet" : $"shard {Id} runs the {_engine.Name} backend, not io_uring");

    /// <summary>The name of the backend this shard's I/O goes through: <c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>.</summary>
    public string BackendName => _runtime.Backend.Name;

    /// <summary>Whether this shard's I/O goes through a readiness backend (sockets must then be non-blocking).</summary>
    internal bool UsesReadiness => _runtime.Backend.IsReadiness;

    /// <summary>Queues work on this shard's run queue. Only the shard's own thread may call it.</summary>
    internal void Schedule(Action<object?> callback, object? state) => _runQueue.Enqueue(new WorkItem(callback, state));

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

    /// <summary>Wakes the shard if it sleeps in the kernel. Callers publish their work before calling (full fence).</summary>
    internal void Wake()
    {
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            Interlocked.Increment(ref _stats.Wakeups);
            Internal.Linux.EventFd.Signal(_eventFd);
        }
    }

    internal bool IsRejecting => _rejecting;

    /// <summary>Whether this shard's loop failed (<see cref="MinissRuntime.Fault"/>): it refuses new work.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    internal ObjectDisposedException Stopped() => _fault is { } fault
        ? new(nameof(MinissRuntime), $"Miniss shard {Id} failed ({fault.GetType().Name}: {fault.Message}) and accepts no new work.")
        : new(nameof(MinissRuntime), $"The Miniss runtime is stopping; shard {Id} accepts no new work.");

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

    private void EnsureCurrent()
    {
        if (t_current != this)
        {
            ThrowNotCurrent();
        }
    }

    private void ThrowNotCurrent() =>
        throw new InvalidOperationException($"This must be called on shard {Id}; use MinissRuntime.SubmitTo to run code there.");

    /// <inheritdoc/>
    public override string ToString() => $"miniss-shard-{Id} (cpu {Cpu})";

    /// <summary>Counters written by the shard's own thread (and the stall detector), read by anyone.</summary>
    private struct Counters
    {
        public long Ticks;
        public long TasksRun;
        public long IoCompletions;
        public long MessagesReceived;
        public long MessagesSent;
        public long Sleeps;
        public long Wakeups;
        public long SystemCalls;
        public long TimersFired;
        public long Stalls;
        public long UnhandledExceptions;

        // Added for the Miniss meter (see Shard.Metrics.cs): written by the shard's own thread only.
        public long IoSubmissions;
        public long BusyTime;
        public long IdleTime;
        public long ConnectionsAccepted;
        public long ConnectionsActive;
        public long ConnectionsFaulted;
    }
}
