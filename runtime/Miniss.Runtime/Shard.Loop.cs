using System;
using System.Runtime.InteropServices;
using System.Threading;
using Miniss.Diagnostics;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;
using Miniss.Internal.Linux;
using Miniss.Messaging;
using Miniss.Scheduling;

namespace Miniss;

// The loop: the specification's Cpu.Tick(), the idle path, start-up and tear-down.
public sealed partial class Shard
{
    /// <summary>User data of the eventfd read that wakes a sleeping shard.</summary>
    private const ulong WakeUserData = IoBackend.InternalUserData | 1;

    private readonly long _quotaTicks;
    private readonly long _spinTicks;
    private IoBackend? _engine;
    private IoUringBackend? _ring;
    private int _eventFd = -1;
    private unsafe ulong* _wakeBuffer;
    private Counters _stats;

    // Shutdown: _rejecting once the stop request arrived, _drained once nothing of this shard's is in flight.
    private bool _rejecting;
    private bool _drained;

    // The loop's first failure: this shard stops as if asked to, and refuses work with this reason.
    private Exception? _fault;
    private int _inFlight;
    private int _outstandingCalls;

    // Read by the stall detector's thread: when the running task started (0: none), and which task it is.
    private long _taskStartedAt;
    private long _taskSequence;
    internal long StallReportedFor;

    internal long TaskStartedAt => Volatile.Read(ref _taskStartedAt);

    internal long TaskSequence => Volatile.Read(ref _taskSequence);

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
                Volatile.Write(ref _sleeping, 0);
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
                    _stats.UnhandledExceptions++;
                    _runtime.ReportUnhandledException(this, e);
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
        _runtime.ReportShardAbandoned(this, _inFlight);
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
                _stats.UnhandledExceptions++;
                _runtime.ReportUnhandledException(this, e);
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
        BeginLoopTimeUpdate();
        _clockMark = Clock.Now;
        EndLoopTimeUpdate();
    }

    /// <summary>
    /// One turn of the loop, as the specification's <c>Cpu.Tick()</c>: messages from other shards, I/O completions
    /// (read from shared memory, no system call), ready tasks within the quota, expired timers, then the batch of
    /// new submissions and outgoing messages, each handed over once.
    /// </summary>
    /// <returns>Whether anything happened.</returns>
    internal bool Tick()
    {
        _stats.Ticks++;
        bool progress = ProcessMessages();
        progress |= ReapCompletions();
        progress |= RunReadyTasks();
        progress |= FireTimers();
        FlushOutgoing();
        if (_engine!.Submit())
        {
            _stats.SystemCalls = _engine.SystemCalls;
            progress = true;
        }

        if (_rejecting && !_drained)
        {
            CheckDrained();
        }

        return progress;
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
                    _stats.MessagesReceived++;
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

        Volatile.Write(ref _taskStartedAt, 0);
        return any;
    }

    private bool ReapCompletions()
    {
        bool any = false;
        while (_engine!.TryReap(out IoCompletion completion))
        {
            any = true;
            if ((completion.UserData & IoBackend.InternalUserData) != 0)
            {
                if (completion.UserData == WakeUserData && !_exited)
                {
                    ArmWakeRead();
                }

                continue;
            }

            _stats.IoCompletions++;
            CompleteIo(completion);
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
            _stats.TasksRun++;
            EndTask();
            if (now >= deadline)
            {
                break;
            }
        }

        Volatile.Write(ref _taskStartedAt, 0);
        return true;
    }

    /// <summary>Marks the start of a piece of user work, for the quota and the stall detector.</summary>
    private long BeginTask()
    {
        long now = Clock.Now;
        Volatile.Write(ref _taskStartedAt, now);
        return now;
    }

    /// <summary>Marks the end of a piece of user work: the stall detector's sequence moves on.</summary>
    private void EndTask() => Volatile.Write(ref _taskSequence, _taskSequence + 1);

    private void RunGuarded(in WorkItem item)
    {
        try
        {
            item.Invoke();
        }
        catch (Exception e)
        {
            _stats.UnhandledExceptions++;
            _runtime.ReportUnhandledException(this, e);
        }
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
                _stats.MessagesSent++;
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

    /// <summary>Waits for work: spins a while when that is useful, then sleeps in the kernel. The time it takes counts
    /// as idle, the time since the last idle period as busy: two clock reads per idle period, none per tick or task.</summary>
    private void Idle()
    {
        long idleFrom = Clock.Now;
        BeginLoopTimeUpdate();
        _stats.BusyTime += idleFrom - _clockMark;
        _idleSince = idleFrom;
        EndLoopTimeUpdate();
        try
        {
            WaitForWork(idleFrom);
        }
        finally
        {
            long now = Clock.Now;
            BeginLoopTimeUpdate();
            _stats.IdleTime += now - idleFrom;
            _clockMark = now;
            _idleSince = 0;
            EndLoopTimeUpdate();
        }
    }

    private void WaitForWork(long now)
    {
        // A readiness engine cannot see sockets become ready without a system call: spinning would only delay the wait.
        long spinUntil = _engine!.SpinIsUseful ? now + _spinTicks : 0;
        while (Clock.Now < spinUntil)
        {
            if (HasWork())
            {
                return;
            }

            Thread.SpinWait(1);
        }

        // Announce the sleep, then look once more: a sender that published before seeing the flag is found here,
        // one that publishes after will see the flag and signal the eventfd.
        Interlocked.Exchange(ref _sleeping, 1);
        if (HasWork() || ShouldExit())
        {
            Volatile.Write(ref _sleeping, 0);
            return;
        }

        long timeout = NextTimerTimeoutNanoseconds();
        if (_anyPendingOut)
        {
            // A full ring to another shard: retry soon rather than wait for a wake-up that nobody owes us.
            timeout = timeout < 0 ? 50_000 : Math.Min(timeout, 50_000);
        }

        _stats.Sleeps++;
        _engine!.Wait(timeout);
        _stats.SystemCalls = _engine.SystemCalls;
        Volatile.Write(ref _sleeping, 0);
    }

    private bool HasWork()
    {
        if (_runQueue.Count > 0 || !_external.IsEmpty || _engine!.HasCompletions || _engine.KernelHasWork || TimerDue())
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

    private unsafe void ArmWakeRead()
    {
        io_uring_sqe* sqe = _engine!.NextSqe();
        sqe->opcode = IoUring.IORING_OP_READ;
        sqe->fd = _eventFd;
        sqe->addr = (ulong)_wakeBuffer;
        sqe->len = sizeof(ulong);
        sqe->user_data = WakeUserData;
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
        if (_inFlight > 0)
        {
            io_uring_sqe* sqe = _engine!.NextSqe();
            sqe->opcode = IoUring.IORING_OP_ASYNC_CANCEL;
            sqe->fd = -1;
            sqe->cancel_flags = IoUring.IORING_ASYNC_CANCEL_ANY | IoUring.IORING_ASYNC_CANCEL_ALL;
            sqe->user_data = IoBackend.InternalUserData;
        }
    }

    private void CheckDrained()
    {
        if (_inFlight == 0 && _outstandingCalls == 0 && _runQueue.Count == 0 && !_anyPendingOut && _armedTimers == 0)
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

        AddCount(parts, Volatile.Read(ref _inFlight), "I/O operation");
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

    internal void OnReplyReceived() => _outstandingCalls--;

    internal void OnCallSent() => _outstandingCalls++;

    private bool ShouldExit()
    {
        if (!_drained || !_runtime.AllShardsDrained || _runQueue.Count > 0 || _anyPendingOut || !_external.IsEmpty)
        {
            return false;
        }

        foreach (CrossShardQueue? queue in _incoming)
        {
            if (queue is not null && queue.HasItems)
            {
                return false;
            }
        }

        return true;
    }

    private unsafe void TearDown()
    {
        lock (_externalGate)
        {
            _exited = true;
        }

        // Anything that slipped in after the last look: messages are refused, posts run on the thread pool.
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
        BeginLoopTimeUpdate();
        _clockMark = 0;
        _idleSince = 0;
        EndLoopTimeUpdate();
    }

    internal void ReportStall(TimeSpan duration)
    {
        Interlocked.Increment(ref _stats.Stalls);
        Log.Stall(Runtime.Logs.Runtime, Id, duration.TotalMilliseconds);
        Runtime.Metrics?.RecordStall(this, duration);
    }
}
