using System;
using System.Runtime.InteropServices;
using System.Threading;
using Miniss.Diagnostics;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;
using Miniss.Internal.Linux;
using Miniss.Scheduling;

namespace Miniss;

// The loop: Cpu.Tick() of the design (docs/architecture.md, its table of names), the idle path, start-up and tear-down, and the stop.
public sealed partial class Shard
{
    [ThreadStatic]
    private static Shard? t_current;

    private readonly long _quotaTicks;
    private readonly long _spinTicks;
    // A yield is a system call (about 1 µs here): the first comes only after this long without work, so a reply that
    // arrives within a cross-shard round trip is found by polling alone, and later ones come as often.
    private readonly long _yieldTicks = Clock.ToTimestamp(TimeSpan.FromMicroseconds(5));
    private readonly IdleStrategy _idleStrategy;
    private SpinBudget _spinBudget;
    private IoBackend? _engine;
    private IoUringBackend? _ring;
    private int _eventFd = -1;
    private unsafe ulong* _wakeBuffer;

    // Shutdown: _rejecting once the stop request arrived, _drained once nothing of this shard's is in flight.
    private bool _rejecting;
    private bool _drained;

    // The loop's first failure: this shard stops as if asked to, and refuses work with this reason.
    private Exception? _fault;

    // Read by the stall detector's thread: when the running task started (0: none), which task it is, and the last
    // task reported as a stall (sequence + 1; written by the detector only).
    private long _taskStartedAt;
    private long _taskSequence;
    private long _stallReportedFor;

    // Written by the shard's own thread (stalls and wake-ups by others, atomically); read by anyone through Statistics.
    private long _ticks;
    private long _tasksRun;
    private long _sleeps;
    private long _wakeups;
    private long _systemCalls;
    private long _stalls;
    private long _unhandledExceptions;

    /// <summary>Whether the kernel accepted pinning this shard's thread to <see cref="Cpu"/>.</summary>
    public bool IsPinned { get; private set; }

    /// <summary>
    /// This shard's buffer pool: native, aligned I/O buffers, registered with the shard's ring as fixed buffers when
    /// the memlock limit allows. Allocate and use buffers on this shard; a buffer freed on another thread goes home by
    /// message. Buffers still held when the runtime stops become invalid.
    /// </summary>
    public Buffers.BufferPool Buffers { get; private set; } = null!;

    /// <summary>Whether <see cref="Buffers"/> is registered with the ring (fixed-buffer reads and writes).</summary>
    public bool HasFixedBuffers => Buffers is { RegisteredRingFd: >= 0 };

    internal bool IsRejecting => _rejecting;

    /// <summary>Whether this shard's loop failed (<see cref="MinissRuntime.Fault"/>): it refuses new work.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    internal long TaskStartedAt => Volatile.Read(ref _taskStartedAt);

    internal long TaskSequence => Volatile.Read(ref _taskSequence);

    internal ObjectDisposedException Stopped() => _fault is { } fault
        ? new(nameof(MinissRuntime), $"Miniss shard {Id} failed ({fault.GetType().Name}: {fault.Message}) and accepts no new work.")
        : new(nameof(MinissRuntime), $"The Miniss runtime is stopping; shard {Id} accepts no new work.");

    /// <summary>The shard thread's body: set up, loop until the runtime has drained, tear down.</summary>
    internal void Run(Action<Exception?> started)
    {
        t_current = this;
        Diagnostics.MinissTracing.CaptureClean();
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            Start();
        }
        catch (Exception e)
        {
            // A shard that never started counts as drained, so the others can stop without waiting for it.
            _rejecting = true;
            _drained = true;
            _runtime.OnShardDrained();
            TearDown();
            started(e);
            return;
        }

        started(null);
        try
        {
            RunLoop();
        }
        finally
        {
            TearDown();
        }
    }

    /// <summary>
    /// Ticks until the runtime has drained. An exception that escapes a tick is the loop's own failure (user code is
    /// caught per task): the first one faults this shard and the runtime (reported with the shard id), and the shard
    /// then stops as on <see cref="MinissRuntime.StopAsync()"/>: it refuses new work, cancels and drains what it has in
    /// flight, and keeps answering messages with a refusal until every shard has drained, so no caller on another shard
    /// waits for ever. If ticks keep failing, the engine is given up (see <see cref="Abandon"/>).
    /// </summary>
    private void RunLoop()
    {
        int failuresInARow = 0;
        while (true)
        {
            try
            {
                while (!ShouldExit())
                {
                    if (!Tick())
                    {
                        Idle();
                    }

                    failuresInARow = 0;
                }

                return;
            }
            catch (Exception e)
            {
                _mailbox.EndSleep();
                Volatile.Write(ref _taskStartedAt, 0);
                if (_fault is null)
                {
                    Volatile.Write(ref _fault, e);
                    _runtime.ReportLoopFailure(this, e);
                    try
                    {
                        BeginStop();
                    }
                    catch (Exception) when (_rejecting)
                    {
                        // The cancel-all could not be written: the engine is failing too; the next ticks will tell.
                    }
                }
                else
                {
                    ReportUnhandled(e);
                }

                if (++failuresInARow >= MaxFailedTicksInARow)
                {
                    Abandon();
                    return;
                }
            }
        }
    }

    /// <summary>How many ticks in a row may fail after the loop's first failure before the engine is given up.</summary>
    private const int MaxFailedTicksInARow = 16;

    /// <summary>
    /// The last resort when the loop cannot tick (its engine keeps failing): the operations still in flight are given
    /// up (their awaits never complete; their memory stays allocated until the runtime stops), the shard counts as
    /// drained, and until every shard has drained it only passes messages on and refuses them, polling every
    /// millisecond instead of sleeping in an engine it can no longer trust.
    /// </summary>
    private void Abandon()
    {
        _runtime.ReportShardAbandoned(this, IoInFlight);
        _rejecting = true;
        if (!_drained)
        {
            _drained = true;
            _runtime.OnShardDrained();
        }

        while (!ShouldExit())
        {
            try
            {
                ProcessMessages();
                RunReadyTasks();
                FlushOutgoing();
            }
            catch (Exception e)
            {
                ReportUnhandled(e);
            }

            Thread.Sleep(1);
        }
    }

    private unsafe void Start()
    {
        if (_options.PinThreads)
        {
            int errno = ThreadAffinity.PinCurrentThread(Cpu);
            IsPinned = errno == 0;
            if (!IsPinned)
            {
                _runtime.ReportPinningRefused(this, errno);
            }
        }

        _engine = IO.FaultInjection.FaultInjectingBackend.Decorate(_runtime.Backend.CreateBackend(_options, _runtime.BlockingPool), _options.Faults, Id);
        _ring = _engine.Underlying as IoUringBackend;
        if (_ring?.SubmissionPollingRefusal is { } pollingRefused)
        {
            _runtime.ReportSubmissionPollingRefused(this, pollingRefused);
        }

        ChooseWakeMechanism();
        Buffers = new Buffers.BufferPool(_options.BufferPool);
        if (_ring is not null && _options.RegisterBuffers && !Buffers.TryRegister(_ring.Fd, out string? reason))
        {
            _runtime.ReportBufferRegistrationRefused(this, reason ?? "unknown reason");
        }

        _eventFd = EventFd.Create();
        _engine.Faults?.InjectEventFdFaults(_eventFd);
        _wakeBuffer = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
        ArmWakeRead();
        _engine.Submit();

        // Wake once at start: binds the eventfd write now (its first call allocates), so waking a shard later never
        // allocates; the read completes on the first tick and is armed again.
        EventFd.Signal(_eventFd);
        MarkLoopStarted(Clock.Now);
    }

    /// <summary>
    /// One turn of the loop, the design's <c>Cpu.Tick()</c> (docs/architecture.md): messages from other shards, I/O completions
    /// (read from shared memory, no system call), ready tasks within the quota, expired timers, then the batch of
    /// new submissions and outgoing messages, each handed over once.
    /// </summary>
    /// <returns>Whether anything happened.</returns>
    internal bool Tick()
    {
        _ticks++;
        bool progress = ProcessMessages();
        progress |= ReapCompletions();
        progress |= RunReadyTasks();
        progress |= FireTimers();
        FlushOutgoing();
        if (_engine!.Submit())
        {
            _systemCalls = _engine.SystemCalls;
            progress = true;
        }

        if (_rejecting && !_drained)
        {
            CheckDrained();
        }

        return progress;
    }

    private bool ReapCompletions()
    {
        bool any = false;
        while (_engine!.TryReap(out IoCompletion completion))
        {
            any = true;
            if (CompletionToken.IsInternal(completion.UserData))
            {
                if (completion.UserData == CompletionToken.WakeRead && !_exited)
                {
                    ArmWakeRead();
                }
                else if (IsRingWakeFailure(completion.UserData))
                {
                    OnRingWakeFailed(completion.UserData);
                }

                continue;
            }

            Deliver(completion);
        }

        return any;
    }

    private bool RunReadyTasks()
    {
        if (_runQueue.Count == 0)
        {
            return false;
        }

        long deadline = Clock.Now + _quotaTicks;
        while (_runQueue.TryDequeue(out WorkItem item))
        {
            long now = BeginTask();
            RunGuarded(item);
            _tasksRun++;
            EndTask();
            if (now >= deadline)
            {
                break;
            }
        }

        ClearRunningTask();
        return true;
    }

    /// <summary>Marks the start of a piece of user work, for the quota and the stall detector.</summary>
    internal long BeginTask()
    {
        long now = Clock.Now;
        Volatile.Write(ref _taskStartedAt, now);
        return now;
    }

    /// <summary>Marks the end of a piece of user work: the stall detector's sequence moves on.</summary>
    internal void EndTask() => Volatile.Write(ref _taskSequence, _taskSequence + 1);

    /// <summary>No user work runs now (a batch of tasks or messages is over).</summary>
    private void ClearRunningTask() => Volatile.Write(ref _taskStartedAt, 0);

    private void RunGuarded(in WorkItem item)
    {
        try
        {
            item.Invoke();
        }
        catch (Exception e)
        {
            ReportUnhandled(e);
        }
    }

    /// <summary>An exception escaped work run on this shard: counted and reported with the shard id.</summary>
    internal void ReportUnhandled(Exception e)
    {
        _unhandledExceptions++;
        _runtime.ReportUnhandledException(this, e);
    }

    /// <summary>Waits for work: spins a while when that is useful (<see cref="RuntimeOptions.IdleStrategy"/>), then sleeps in the kernel. The time it takes counts
    /// as idle, the time since the last idle period as busy: two clock reads per idle period, none per tick or task.</summary>
    private void Idle()
    {
        long idleFrom = Clock.Now;
        MarkIdleStarted(idleFrom);
        try
        {
            WaitForWork(idleFrom);
        }
        finally
        {
            MarkIdleEnded(idleFrom, Clock.Now);
        }
    }

    private void WaitForWork(long now)
    {
        // A readiness engine cannot see sockets become ready without a system call: spinning would only delay the wait.
        if (_engine!.SpinIsUseful && Spin(now))
        {
            return;
        }

        // Announce the sleep, then look once more: a sender that published before seeing the flag is found here,
        // one that publishes after will see the flag and signal the eventfd.
        _mailbox.AnnounceSleep();
        if (HasWork() || ShouldExit())
        {
            _mailbox.EndSleep();
            return;
        }

        long timeout = NextTimerTimeoutNanoseconds();
        if (_anyPendingOut)
        {
            // A full ring to another shard: retry soon rather than wait for a wake-up that nobody owes us.
            timeout = timeout < 0 ? 50_000 : Math.Min(timeout, 50_000);
        }

        _sleeps++;
        long sleptFrom = Clock.Now;
        _engine!.Wait(timeout);
        _systemCalls = _engine.SystemCalls;
        _mailbox.EndSleep();
        if (_idleStrategy == IdleStrategy.Adaptive)
        {
            _spinBudget.Slept(Clock.Now - sleptFrom);
        }
    }

    /// <summary>
    /// Polls for work within the idle strategy's budget (cheap reads of shared memory, no system call to look);
    /// <see cref="IdleStrategy.Adaptive"/> also yields the core now and then (<c>sched_yield</c>, which returns at once
    /// when no other thread waits for this core) and learns from what the spin found.
    /// </summary>
    /// <returns>Whether work was found (the shard need not sleep).</returns>
    private bool Spin(long now)
    {
        if (_idleStrategy == IdleStrategy.Spin)
        {
            return SpinUntil(now + _spinTicks);
        }

        if (_idleStrategy != IdleStrategy.Adaptive)
        {
            return false;
        }

        if (_timers.TryPeekLive(out _, out long due) && due - now <= _spinTicks)
        {
            // A timer falls due within the longest spin: the kernel's wake-up would cost more than the wait.
            return SpinUntil(due);
        }

        long budget = _spinBudget.Current;
        if (budget == 0)
        {
            return false;
        }

        long spinUntil = now + budget;
        long nextYield = now + _yieldTicks;
        while (true)
        {
            if (HasWork())
            {
                _spinBudget.FoundWork();
                return true;
            }

            if (now >= spinUntil)
            {
                _spinBudget.FoundNothing();
                return false;
            }

            if (now >= nextYield)
            {
                // Gives the core to a thread that waits for it (a peer process on a shared core); when that thread kept
                // it longer than any spin would last, spinning here only takes time from it: sleep instead.
                Thread.Yield();
                long after = Clock.Now;
                if (after - now > _spinTicks)
                {
                    _spinBudget.CoreIsShared();
                    return HasWork();
                }

                now = after;
                nextYield = now + _yieldTicks;
                continue;
            }

            Thread.SpinWait(1);
            now = Clock.Now;
        }
    }

    /// <summary>Polls for work, never yielding the core, until <paramref name="until"/> (a clock timestamp).</summary>
    /// <returns>Whether work was found.</returns>
    private bool SpinUntil(long until)
    {
        do
        {
            if (HasWork())
            {
                return true;
            }

            Thread.SpinWait(1);
        }
        while (Clock.Now < until);

        return HasWork();
    }

    /// <summary>The adaptive spin budget now, in clock ticks (for tests; read on the shard's thread).</summary>
    internal long SpinBudgetTicks => _spinBudget.Current;

    private bool HasWork()
    {
        return _runQueue.Count > 0 || HasIncoming() || _engine!.HasCompletions || _engine.KernelHasWork || TimerDue();
    }

    private unsafe void ArmWakeRead()
    {
        IoOperations.PrepareWakeRead(_engine!.NextSqe(), _eventFd, (nint)_wakeBuffer, sizeof(ulong), CompletionToken.WakeRead);
        _engine.DescribeLastSqe(in IoOperations.PrepareWakeRead_Readiness);
    }

    // ---- Shutdown ------------------------------------------------------------------------------------------------

    /// <summary>The stop request reached this shard: refuse new work, cancel what is pending, start draining.</summary>
    internal unsafe void BeginStop()
    {
        if (_rejecting || t_current != this)
        {
            // Already stopping, or the shard has exited and the request ran elsewhere.
            return;
        }

        _rejecting = true;
        CancelAllTimers();
        if (IoInFlight > 0)
        {
            IoOperations.PrepareCancelAll(_engine!.NextSqe(), CompletionToken.CancelRequest);
            _engine.DescribeLastSqe(in IoOperations.PrepareCancelAll_Readiness);
        }
    }

    private void CheckDrained()
    {
        if (IoInFlight == 0 && _outstandingCalls == 0 && _runQueue.Count == 0 && !_anyPendingOut && _armedTimers == 0)
        {
            _drained = true;
            _runtime.OnShardDrained();
        }
    }

    /// <summary>What keeps this shard from having drained, in words, for a stop that ran out of time (read from another
    /// thread: the counts may be a moment old); <see langword="null"/> once it has drained.</summary>
    internal string? DescribePending()
    {
        if (Volatile.Read(ref _drained))
        {
            return null;
        }

        var parts = new System.Collections.Generic.List<string>(5);
        long started = TaskStartedAt;
        if (started != 0)
        {
            parts.Add($"one task running for {Clock.ToTimeSpan(Clock.Now - started).TotalMilliseconds:F0} ms");
        }

        AddCount(parts, IoInFlight, "I/O operation");
        AddCount(parts, Volatile.Read(ref _outstandingCalls), "cross-shard call awaiting its reply", "cross-shard calls awaiting their replies");
        AddCount(parts, _runQueue.Count, "queued task");
        AddCount(parts, Volatile.Read(ref _armedTimers), "timer");
        if (parts.Count == 0)
        {
            parts.Add(_rejecting ? "messages still to deliver" : "the stop request not yet handled");
        }

        return $"shard {Id}: {string.Join(", ", parts)}";

        static void AddCount(System.Collections.Generic.List<string> parts, int count, string one, string? many = null)
        {
            if (count > 0)
            {
                parts.Add(count == 1 ? $"1 {one}" : $"{count} {many ?? one + "s"}");
            }
        }
    }

    private bool ShouldExit()
    {
        return _drained && _runtime.AllShardsDrained && _runQueue.Count == 0 && !_anyPendingOut && !HasIncoming();
    }

    private unsafe void TearDown()
    {
        CloseExternalQueue();

        _engine?.Dispose();
        _engine = null;
        _ring = null;
        Buffers?.Dispose();
        if (_eventFd >= 0)
        {
            _ = Libc.close(_eventFd);
            _eventFd = -1;
        }

        if (_wakeBuffer != null)
        {
            NativeMemory.Free(_wakeBuffer);
            _wakeBuffer = null;
        }

        System.Threading.SynchronizationContext.SetSynchronizationContext(null);
        t_current = null;

        // The loop has ended: its time no longer counts as busy (see ReadLoopTime).
        MarkLoopEnded();
    }

    /// <summary>The stall detector found the task numbered <paramref name="task"/> (its sequence + 1) running for
    /// <paramref name="duration"/>: reported once per task (the task's number is remembered). On the detector's
    /// thread; false when this task was already reported.</summary>
    internal bool TryReportStall(long task, TimeSpan duration)
    {
        if (_stallReportedFor == task)
        {
            return false;
        }

        _stallReportedFor = task;
        Interlocked.Increment(ref _stalls);
        Log.Stall(Runtime.Logs.Runtime, Id, duration.TotalMilliseconds);
        Runtime.Metrics?.RecordStall(this, duration);
        return true;
    }
}
