using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using Miniss.Buffers;
using Miniss.IO;

namespace Miniss;

/// <summary>How a <see cref="MinissRuntime"/> starts. Every property has a documented default; the defaults suit a
/// server that owns the machine.</summary>
public sealed class RuntimeOptions
{
    /// <summary>The CPUs to run shards on. Default: every CPU this process may run on (its affinity mask).</summary>
    public IReadOnlyList<int>? Cpus { get; set; }

    /// <summary>How many shards to start. Default: one per CPU in <see cref="Cpus"/>. More shards than CPUs share
    /// CPUs round-robin.</summary>
    public int? ShardCount { get; set; }

    /// <summary>Whether each shard's thread is pinned to its CPU. Default: true. When the kernel refuses, the shard
    /// runs unpinned and the runtime says so once.</summary>
    public bool PinThreads { get; set; } = true;

    // ---- Idle policy and submission-queue polling ----------------------------------------------------------------

    /// <summary>What an idle shard does before it sleeps in the kernel. Default: <see cref="Miniss.IdleStrategy.Adaptive"/>,
    /// which spins only while spinning recently found work and yields its core to any thread waiting for it, so it
    /// keeps the low wake-up latency of spinning on dedicated cores and gives a shared core away. Measured in one run
    /// (<c>bench/Miniss.RingBench idle --rounds 3 --seconds 1</c>, medians, on a 2-core machine loaded by other work),
    /// one echo connection between two Miniss processes sharing one CPU: io_uring 7,968 requests/s with Adaptive,
    /// 6,796 with Block, 3,504 with Spin (epoll: 4,035 to 4,593 with any strategy). On cores that other processes keep
    /// busy, Adaptive sleeps like Block (996 against 1,096 requests/s) where Spin held the core (3,650): choose Spin
    /// when every shard has a core that nothing else uses.
    /// <see cref="Miniss.IdleStrategy.Spin"/> always spins <see cref="SpinBeforeSleep"/>; <see cref="Miniss.IdleStrategy.Block"/>
    /// never spins (for machines shared with other busy processes).</summary>
    public IdleStrategy IdleStrategy { get; set; } = IdleStrategy.Adaptive;

    /// <summary>The longest an idle shard keeps polling before it sleeps in the kernel: the whole spin with
    /// <see cref="Miniss.IdleStrategy.Spin"/>, the ceiling of the adaptive budget with <see cref="Miniss.IdleStrategy.Adaptive"/>.
    /// Default: 20 µs. Zero sleeps at once; longer spins trade CPU for wake-up latency. Between 0 and 1 s.</summary>
    public TimeSpan SpinBeforeSleep { get; set; } = TimeSpan.FromMicroseconds(20);

    /// <summary>Whether each shard's io_uring ring has a kernel thread poll its submission queue (<c>IORING_SETUP_SQPOLL</c>),
    /// so a shard hands over submissions by writing shared memory alone, with no <c>io_uring_enter</c> while that
    /// thread is awake. Default: <see cref="IO.SubmissionQueuePolling.Off"/>. Each shard's poller is one more kernel
    /// thread busy polling for <see cref="SubmissionPollingIdle"/> after each submission, so use it when the machine has
    /// cores to spare beyond the shards' (bind the pollers there with <see cref="SubmissionPollingCpu"/>) and the work
    /// submits a lot (storage at high queue depth, many connections); leave it off when every core runs a shard.
    /// Measured in one run (<c>bench/Miniss.RingBench sqpoll --rounds 3 --seconds 1</c>, medians, on a 2-core machine
    /// loaded by other work): 4 KiB reads at queue depth 32 on one shard 675k/s against 130k/s without, one echo
    /// connection 13.6k against 1.3k requests/s, an awaited NOP 9.0 against 8.6 µs; on a busy machine the poller is
    /// one more thread drawing CPU time for the shard, which is much of that gain.
    /// <see cref="IO.SubmissionQueuePolling.Auto"/> falls back to an ordinary ring, logging the reason once as a warning, when the kernel
    /// or the process refuses (a kernel before 5.11, a seccomp profile, a CPU outside the process's set);
    /// <see cref="IO.SubmissionQueuePolling.Required"/> makes <see cref="MinissRuntime.Start"/> fail with that reason
    /// (<see cref="NotSupportedException"/>), also when the backend is not io_uring. Auto is ignored by the epoll and
    /// kqueue backends.</summary>
    public IO.SubmissionQueuePolling SubmissionQueuePolling { get; set; } = IO.SubmissionQueuePolling.Off;

    /// <summary>How long a shard's submission-queue poller keeps polling an empty queue before it sleeps (the kernel's
    /// <c>sq_thread_idle</c>, in whole milliseconds); a sleeping poller costs the shard one <c>io_uring_enter</c> to wake.
    /// Default: 1 ms. Between 1 ms and 10 s. Used only with <see cref="SubmissionQueuePolling"/>.</summary>
    public TimeSpan SubmissionPollingIdle { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>The CPU every shard's submission-queue poller is bound to (<c>IORING_SETUP_SQ_AFF</c>), or
    /// <see langword="null"/> (the default) to let the kernel place it. Must be one of the CPUs this process may run on;
    /// a CPU apart from the shards' keeps the pollers off their cores. Used only with <see cref="SubmissionQueuePolling"/>.</summary>
    public int? SubmissionPollingCpu { get; set; }

    // ---- End of idle policy and submission-queue polling ---------------------------------------------------------

    /// <summary>How long a shard runs ready tasks before it looks at I/O, messages and timers again. Default: 500 µs.</summary>
    public TimeSpan TaskQuota { get; set; } = TimeSpan.FromMicroseconds(500);

    /// <summary>Capacity of each shard-to-shard message ring (a power of two). Default: 1024. A full ring never drops a
    /// message: the sender keeps it until there is room.</summary>
    public int CrossShardQueueCapacity { get; set; } = 1024;

    /// <summary>Whether a shard wakes another shard that sleeps in the kernel with <c>IORING_OP_MSG_RING</c> (a
    /// completion posted straight to the sleeper's ring, sent with the waker's own submissions) instead of a write to
    /// the sleeper's eventfd. Applies between shards on io_uring when the kernel has the operation (Linux 5.18, probed
    /// at start); threads that are not shards, and the epoll and kqueue backends, always use the eventfd. A failed
    /// message falls back to the eventfd. Default: false. Only wake-ups of sleeping shards change: a shard that is
    /// spinning or busy is never woken at all (senders look at its sleeping flag first).
    /// <para>When to turn it on: when shards sleep between messages (a short <see cref="SpinBeforeSleep"/>, light
    /// cross-shard traffic) and the kernel is Linux 5.18 or later. The wake-up then rides on the waker's own
    /// <c>io_uring_enter</c> instead of a separate <c>write</c>, and the sleeper has no eventfd read to re-arm.
    /// Measured in one run of <c>dotnet run -c Release --project bench/Miniss.Benchmarks -- --filter
    /// '*Round_trip_to_a_sleeping*'</c> on a heavily loaded 2-core machine, a round trip to a sleeping shard took 0.91x
    /// the time with MSG_RING than with the eventfd, within that run's spread: the default stays off until a quieter
    /// measurement shows a clear gain.</para></summary>
    public bool WakeShardsWithMessageRing { get; set; }

    /// <summary>The I/O backend. Default: <see cref="IoBackendKind.Auto"/>: the environment variable
    /// <c>MINISS_BACKEND</c> when set, else io_uring when this process can use it, else the platform's readiness backend
    /// (epoll on Linux, kqueue on macOS). A forced backend that cannot run here fails <see cref="MinissRuntime.Start"/>
    /// with the reason. <see cref="MinissRuntime.Backend"/> says what was chosen and why.</summary>
    public IoBackendKind Backend { get; set; } = IoBackendKind.Auto;

    /// <summary>The most threads a readiness backend (epoll, kqueue) uses for file operations, which block: shared by
    /// the runtime's shards, started when needed. Default: 4. io_uring needs none.</summary>
    public int BlockingIoThreads { get; set; } = 4;

    /// <summary>Submission queue entries of each shard's io_uring ring (and events per wait on epoll/kqueue). Default: 256.</summary>
    public int RingEntries { get; set; } = 256;

    /// <summary>Completion queue entries of each shard's ring. Default: four times <see cref="RingEntries"/>.</summary>
    public int? CompletionEntries { get; set; }

    /// <summary>Each shard's buffer pool (see <see cref="Shard.Buffers"/>). Default: the standard size classes
    /// (4 KiB to 1 MiB) with 16 MiB per shard.</summary>
    public BufferPoolConfig BufferPool { get; set; } = new() { MaxMemory = 16L << 20 };

    /// <summary>Whether each shard registers its buffer pool with its ring as fixed buffers, so reads and writes of pool
    /// buffers skip pinning pages per operation. Registration pins the whole pool in memory and needs RLIMIT_MEMLOCK
    /// room (or CAP_IPC_LOCK); when refused, the runtime says why once and uses ordinary reads and writes. Default: true.</summary>
    public bool RegisterBuffers { get; set; } = true;

    /// <summary>How many buffers each shard's provided-buffer ring holds for multishot receives (a power of two, at most
    /// 32768), mapped apart from <see cref="BufferPool"/> the first time a connection of the shard receives. Connections
    /// then receive with one multishot receive each, which stays armed in the kernel and fills the ring's buffers as
    /// data arrives; a receive copies out of them. 0 turns multishot receives off (every receive is a single-shot
    /// receive into the caller's memory, as on kernels before 6.0). Default: 256.</summary>
    public int ReceiveBufferCount { get; set; } = 256;

    /// <summary>The size of each buffer of the provided-buffer ring, in bytes (see <see cref="ReceiveBufferCount"/>);
    /// one completion carries at most this much. Default: 8 KiB.</summary>
    public int ReceiveBufferSize { get; set; } = 8 * 1024;

    /// <summary>Whether shards may use multishot receives and accepts when the kernel supports them; false forces
    /// the single-shot path everywhere (for tests of that path).</summary>
    internal bool Multishot { get; set; } = true;

    /// <summary>Faults to inject into every shard's engine (errors, short transfers, a full submission queue, a
    /// completion-queue overflow, refused <c>io_uring_enter</c> calls, failed eventfd writes), for tests of how the
    /// runtime survives them. Default: <see cref="IO.FaultInjection.FaultSchedule.Ambient"/>, which is none outside tests.</summary>
    internal IO.FaultInjection.FaultSchedule? Faults { get; set; } = IO.FaultInjection.FaultSchedule.Ambient;

    /// <summary>A task that keeps its shard busy this long is reported (once) as a stall. Default: 25 ms.
    /// <see cref="TimeSpan.Zero"/> turns the stall detector off.</summary>
    public TimeSpan StallThreshold { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Where the runtime reports its choices and problems (the backend chosen, pinning refused, stalls,
    /// exceptions escaping work on a shard, accept back-off). The runtime logs under the categories
    /// <c>Miniss.Runtime</c>, <c>Miniss.IO</c>, <c>Miniss.Net</c> and <c>Miniss.Buffers</c>; docs/observability.md lists
    /// every event id. Default: none (nothing is logged).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Where the runtime creates its <see cref="System.Diagnostics.Metrics.Meter"/> named <c>Miniss</c>. Default:
    /// none: the meter is created directly, and listeners (dotnet-counters, OpenTelemetry) find it by name all the same.
    /// A host passes its <see cref="System.Diagnostics.Metrics.IMeterFactory"/>.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>Whether <see cref="MinissRuntime.SubmitTo{T}(int, Func{T}, System.Threading.CancellationToken)"/>, <see cref="MinissRuntime.InvokeOnAll(Func{System.Threading.Tasks.ValueTask}, System.Threading.CancellationToken)"/>
    /// and <see cref="Sharded{T}"/> carry the caller's <see cref="System.Threading.ExecutionContext"/> to the shard, so
    /// <see cref="System.Diagnostics.Activity.Current"/>, <see cref="System.Threading.AsyncLocal{T}"/> values and logging
    /// scopes arrive with the work, as they do with <see cref="System.Threading.Tasks.Task.Run(System.Action)"/>. A caller whose
    /// context is the default one carries nothing. Default: true: measured, it adds about 0.1 µs (5%) to a cross-shard
    /// round trip whose caller has a context, and allocates nothing (docs/observability.md). False keeps each shard's work
    /// in the shard's own context.</summary>
    public bool FlowExecutionContext { get; set; } = true;

    /// <summary>A copy taken when the runtime starts, so later changes to these options change nothing.</summary>
    internal RuntimeOptions Snapshot()
    {
        var copy = (RuntimeOptions)MemberwiseClone();
        copy.BufferPool = BufferPool.Clone();
        return copy;
    }

    internal void Validate()
    {
        if (ShardCount is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ShardCount), ShardCount, "at least one shard is needed");
        }

        if (CrossShardQueueCapacity < 2 || (CrossShardQueueCapacity & (CrossShardQueueCapacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CrossShardQueueCapacity), CrossShardQueueCapacity, "must be a power of two, at least 2");
        }

        if (RingEntries is < 1 or > 32768)
        {
            throw new ArgumentOutOfRangeException(nameof(RingEntries), RingEntries, "must be between 1 and 32768");
        }

        if (BlockingIoThreads is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockingIoThreads), BlockingIoThreads, "must be between 1 and 1024");
        }

        if (!Enum.IsDefined(Backend))
        {
            throw new ArgumentOutOfRangeException(nameof(Backend), Backend, "not a backend");
        }

        if (ReceiveBufferCount < 0 || ReceiveBufferCount > 32768 || (ReceiveBufferCount & (ReceiveBufferCount - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferCount), ReceiveBufferCount, "must be 0 or a power of two up to 32768");
        }

        if (ReceiveBufferSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferSize), ReceiveBufferSize, "must be positive");
        }

        if (SpinBeforeSleep < TimeSpan.Zero || TaskQuota <= TimeSpan.Zero || StallThreshold < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TaskQuota), "durations must not be negative, and the task quota must be positive");
        }

        ValidateIdleAndPolling();
    }

    private void ValidateIdleAndPolling()
    {
        if (!Enum.IsDefined(IdleStrategy))
        {
            throw new ArgumentOutOfRangeException(nameof(IdleStrategy), IdleStrategy, "RuntimeOptions.IdleStrategy must be Adaptive, Spin or Block");
        }

        if (SpinBeforeSleep > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(SpinBeforeSleep), SpinBeforeSleep,
                "RuntimeOptions.SpinBeforeSleep must be between 0 and 1 s: a longer spin holds a core that has nothing to do");
        }

        if (!Enum.IsDefined(SubmissionQueuePolling))
        {
            throw new ArgumentOutOfRangeException(nameof(SubmissionQueuePolling), SubmissionQueuePolling,
                "RuntimeOptions.SubmissionQueuePolling must be Off, Auto or Required");
        }

        if (SubmissionPollingIdle < TimeSpan.FromMilliseconds(1) || SubmissionPollingIdle > TimeSpan.FromSeconds(10)
            || SubmissionPollingIdle.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SubmissionPollingIdle), SubmissionPollingIdle,
                "RuntimeOptions.SubmissionPollingIdle must be a whole number of milliseconds between 1 ms and 10 s (the kernel counts it in milliseconds)");
        }

        if (SubmissionPollingCpu is < 0 or >= 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(SubmissionPollingCpu), SubmissionPollingCpu,
                "RuntimeOptions.SubmissionPollingCpu must be a CPU number between 0 and 1023, or null to let the kernel place the poller");
        }
    }
}
