using System;
using System.Threading.Tasks;
using Miniss.IO.Uring;
using Miniss.Messaging;
using Miniss.Net.Internal;
using Miniss.Scheduling;

namespace Miniss;

/// <summary>
/// One core's share of the runtime: a dedicated thread (named <c>miniss-shard-N</c>, pinned to its CPU) running the
/// loop that owns this shard's io_uring ring, run queue, timers and statistics. Code running on a shard that awaits
/// resumes on the same shard. No other thread touches a shard's state; other threads reach it through messages.
/// </summary>
/// <remarks>
/// The partial files each own one concern and the fields that go with it: the loop, start-up and stop
/// (<c>Shard.Loop.cs</c>), messages and posted work (<c>Shard.Messaging.cs</c>), I/O and the completion table
/// (<c>Shard.Io.cs</c>), timers (<c>Shard.Timers.cs</c>), what observers read (<c>Shard.Metrics.cs</c>). A field is
/// changed only in its own file (readonly ones are set by the constructor here); the others call that file's methods.
/// Networking state (the provided-buffer ring, multishot support and counters) is not the loop's: it lives in
/// <c>Net/Internal/ShardNetworking.cs</c>, reached as <see cref="Networking"/>.
/// </remarks>
public sealed partial class Shard
{
    private readonly MinissRuntime _runtime;
    private readonly RuntimeOptions _options;
    private readonly RunQueue _runQueue = new();

    internal Shard(MinissRuntime runtime, int id, int cpu, RuntimeOptions options, CrossShardQueue?[] incoming, CrossShardQueue?[] outgoing)
    {
        _runtime = runtime;
        Id = id;
        Cpu = cpu;
        _options = options;
        _incoming = incoming;
        _outgoing = outgoing;
        _pendingOut = new System.Collections.Generic.Queue<Envelope>[outgoing.Length];
        for (int i = 0; i < _pendingOut.Length; i++)
        {
            _pendingOut[i] = new System.Collections.Generic.Queue<Envelope>();
        }

        _wakeAfterFlush = new Shard?[outgoing.Length];
        _incomingRings = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.OfType<CrossShardQueue>(incoming));
        SynchronizationContext = new ShardSynchronizationContext(this);
        TaskScheduler = new ShardTaskScheduler(this);
        Networking = new ShardNetworking(this, options);
        _quotaTicks = Clock.ToTimestamp(options.TaskQuota);
        _spinTicks = Clock.ToTimestamp(options.SpinBeforeSleep);
        _idleStrategy = options.IdleStrategy;
        _spinBudget = new SpinBudget(_spinTicks);
    }

    /// <summary>The shard the calling thread runs, or <see langword="null"/> on any other thread.</summary>
    public static Shard? Current => t_current;

    /// <summary>This shard's index, 0 to <see cref="MinissRuntime.ShardCount"/> - 1.</summary>
    public int Id { get; }

    /// <summary>The CPU this shard's thread is pinned to (or meant for, when pinning was refused).</summary>
    public int Cpu { get; }

    /// <summary>The runtime this shard belongs to.</summary>
    public MinissRuntime Runtime => _runtime;

    /// <summary>The context current on this shard's thread: awaits that capture it resume here.</summary>
    public ShardSynchronizationContext SynchronizationContext { get; }

    /// <summary>A scheduler that runs tasks on this shard.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>This shard's networking state: its provided-buffer ring and its multishot receives and accepts.</summary>
    internal ShardNetworking Networking { get; }

    /// <summary>This shard's io_uring ring.</summary>
    /// <exception cref="InvalidOperationException">The shard has not started, or runs another backend.</exception>
    internal IoUringBackend Ring => _ring ?? throw new InvalidOperationException(_engine is null ? $"shard {Id} has no ring yet" : $"shard {Id} runs the {_engine.Name} backend, not io_uring");

    /// <summary>This shard's io_uring ring, or <see langword="null"/> when it has none (not started, stopped, or
    /// another backend).</summary>
    internal IoUringBackend? UringOrNull => _ring;

    /// <summary>The name of the backend this shard's I/O goes through: <c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>.</summary>
    public string BackendName => _runtime.Backend.Name;

    /// <summary>Whether this shard's I/O goes through a readiness backend (sockets must then be non-blocking).</summary>
    internal bool UsesReadiness => _runtime.Backend.IsReadiness;

    /// <summary>Queues work on this shard's run queue. Only the shard's own thread may call it.</summary>
    internal void Schedule(Action<object?> callback, object? state) => _runQueue.Enqueue(new WorkItem(callback, state));

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
}
