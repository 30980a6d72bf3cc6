using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Diagnostics;
using Miniss.Internal;
using Miniss.IO;
using Miniss.IO.Readiness;
using Miniss.Internal.Linux;
using Miniss.Messaging;
using Miniss.Scheduling;

namespace Miniss;

/// <summary>
/// The Miniss runtime: one <see cref="Shard"/> per selected CPU, each a pinned thread with its own io_uring ring (or
/// epoll instance, see <see cref="Backend"/>), connected to every other shard by a bounded single-producer single-consumer message ring.
/// </summary>
/// <example>
/// <code>
/// await using var runtime = MinissRuntime.Start();
/// int answer = await runtime.SubmitTo(1, () => 6 * 7);             // runs on shard 1
/// await runtime.InvokeOnAll(async () => await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1)));
/// </code>
/// </example>
public sealed class MinissRuntime : IAsyncDisposable, IDisposable
{
    private static readonly Action<object?> s_beginStop = static shard => ((Shard)shard!).BeginStop();

    private readonly Shard[] _shards;
    private readonly RuntimeOptions _options;
    private readonly TaskCompletionSource[] _exited;
    private readonly Thread? _stallDetector;
    private readonly Lock _stopGate = new();
    private int _pinningReported;
    private int _registrationReported;
    private int _pollingRefusalReported;
    private int _drainedShards;
    private readonly TaskCompletionSource<ShardFaultedException> _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private Task? _stopTask;
    private ShardFaultedException? _fault;
    private MinissMetrics? _metrics;

    private MinissRuntime(RuntimeOptions options, IoBackendSelection backend, IReadOnlyList<int> cpus, int shardCount)
    {
        _options = options;
        Logs = new LogCategories(options.LoggerFactory);
        Backend = backend;
        if (backend.IsReadiness)
        {
            BlockingPool = new BlockingIoPool(options.BlockingIoThreads);
        }

        var queues = new CrossShardQueue?[shardCount, shardCount];
        for (int from = 0; from < shardCount; from++)
        {
            for (int to = 0; to < shardCount; to++)
            {
                if (from != to)
                {
                    queues[from, to] = new CrossShardQueue(options.CrossShardQueueCapacity);
                }
            }
        }

        _shards = new Shard[shardCount];
        _exited = new TaskCompletionSource[shardCount];
        for (int id = 0; id < shardCount; id++)
        {
            var incoming = new CrossShardQueue?[shardCount];
            var outgoing = new CrossShardQueue?[shardCount];
            for (int other = 0; other < shardCount; other++)
            {
                incoming[other] = queues[other, id];
                outgoing[other] = queues[id, other];
            }

            _shards[id] = new Shard(this, id, cpus[id % cpus.Count], options, incoming, outgoing);
            _exited[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (options.StallThreshold > TimeSpan.Zero)
        {
            _stallDetector = new Thread(DetectStalls) { IsBackground = true, Name = "miniss-stalls" };
        }
    }

    /// <summary>Raised when an exception escapes work run on a shard (the shard keeps running). Raised on that shard.</summary>
    public event EventHandler<ShardExceptionEventArgs>? UnhandledException;

    /// <summary>
    /// Raised once per shard whose loop failed: an exception escaped the runtime's own code on that shard (not user
    /// work, which <see cref="UnhandledException"/> reports). The shard then refuses new work
    /// (<see cref="ObjectDisposedException"/> naming the failure), cancels and drains what it had in flight, and the
    /// runtime is faulted (<see cref="Fault"/>, <see cref="Faulted"/>); the other shards keep serving. Raised on the
    /// failed shard's thread, after <see cref="UnhandledException"/>; a handler that throws is logged and ignored.
    /// </summary>
    public event EventHandler<ShardExceptionEventArgs>? ShardFaulted;

    /// <summary>Raised once per task that keeps a shard busy longer than <see cref="RuntimeOptions.StallThreshold"/>.
    /// Raised on the stall detector's thread.</summary>
    public event EventHandler<ShardStallEventArgs>? StallDetected;

    /// <summary>The shards, indexed by <see cref="Shard.Id"/>.</summary>
    public IReadOnlyList<Shard> Shards => _shards;

    /// <summary>The I/O backend the shards use, how it was chosen, and why better ones were rejected.</summary>
    public IoBackendSelection Backend { get; }

    /// <summary>The threads a readiness backend runs file operations on (none with io_uring).</summary>
    internal BlockingIoPool? BlockingPool { get; }

    /// <summary>How many shards run.</summary>
    public int ShardCount => _shards.Length;

    /// <summary>Whether <see cref="StopAsync()"/> has begun.</summary>
    public bool IsStopping => _stopping;

    /// <summary>The first shard failure (<see cref="ShardFaulted"/>), or <see langword="null"/> while every shard's loop
    /// runs. Once set it stays set; <see cref="StopAsync()"/> then completes by throwing it.</summary>
    public ShardFaultedException? Fault => Volatile.Read(ref _fault);

    /// <summary>Whether a shard's loop has failed (<see cref="Fault"/> is set).</summary>
    public bool IsFaulted => Fault is not null;

    /// <summary>
    /// Completes, with the first failure as its result, when a shard's loop fails; never completes while the runtime is
    /// healthy, also not when it stops. A server waits for it beside its stop signal
    /// (<c>await Task.WhenAny(runtime.Faulted, stopRequested)</c>) to stop when it can no longer serve on every shard.
    /// Continuations run asynchronously, never on the failed shard.
    /// </summary>
    public Task<ShardFaultedException> Faulted => _faulted.Task;

    internal bool AllShardsDrained => Volatile.Read(ref _drainedShards) == _shards.Length;

    /// <summary>
    /// Starts the shards and returns once every one is running (its thread pinned, its ring set up).
    /// </summary>
    /// <param name="options">How to start; <see langword="null"/> takes every default.</param>
    /// <exception cref="IO.Uring.IoUringUnavailableException">io_uring was forced and cannot be set up in this process.</exception>
    /// <exception cref="PlatformNotSupportedException">A backend of another platform was forced.</exception>
    /// <exception cref="ArgumentException"><c>MINISS_BACKEND</c> names no backend.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static MinissRuntime Start(RuntimeOptions? options = null)
    {
        options = (options ?? new RuntimeOptions()).Snapshot();
        options.Validate();
        IoErrors.Prepare();
        DescriptorReserve.Acquire();
        IoBackendSelection backend = IoBackendSelection.Select(options);
        IReadOnlyList<int> cpus = options.Cpus is { Count: > 0 } chosen ? chosen : ThreadAffinity.AllowedCpus();
        int count = options.ShardCount ?? cpus.Count;
        var runtime = new MinissRuntime(options, backend, cpus, count);
        try
        {
            runtime.StartThreads();
        }
        catch (IO.Uring.IoUringUnavailableException e) when (backend.FallBackAfter(e) is not null)
        {
            runtime = StartAfterRingRefused(options, backend, e, cpus, count);
        }

        return runtime;
    }

    /// <summary>Auto chose io_uring but a shard's ring was refused at start: tries again for up to half a second (the
    /// kernel releases the locked memory of the probe's closed ring some milliseconds late), then starts on the
    /// readiness backend, logging why.</summary>
    private static MinissRuntime StartAfterRingRefused(RuntimeOptions options, IoBackendSelection backend, IO.Uring.IoUringUnavailableException failure,
        IReadOnlyList<int> cpus, int count)
    {
        for (int attempt = 0; attempt < 5 && failure.Errno == Bindings.Linux.Errno.ENOMEM; attempt++)
        {
            Thread.Sleep(100);
            var retry = new MinissRuntime(options, backend, cpus, count);
            try
            {
                retry.StartThreads();
                return retry;
            }
            catch (IO.Uring.IoUringUnavailableException again) when (backend.FallBackAfter(again) is not null)
            {
                failure = again;
            }
        }

        backend = backend.FallBackAfter(failure)!;

        var runtime = new MinissRuntime(options, backend, cpus, count);
        runtime.StartThreads();
        return runtime;
    }

    private void StartThreads()
    {
        var failures = new Exception?[_shards.Length];
        using var ready = new CountdownEvent(_shards.Length);
        foreach (Shard shard in _shards)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    shard.Run(error =>
                    {
                        failures[shard.Id] = error;
                        ready.Signal();
                    });
                }
                finally
                {
                    _exited[shard.Id].TrySetResult();
                }
            })
            {
                Name = $"miniss-shard-{shard.Id}",
                IsBackground = true,
            };
            try
            {
                // UnsafeStart: the caller's AsyncLocal values and execution context must not leak into every shard.
                thread.UnsafeStart();
            }
            catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
            {
                // This shard never runs: it counts as failed, drained and exited, so the others can be stopped.
                failures[shard.Id] = e;
                OnShardDrained();
                _exited[shard.Id].TrySetResult();
                ready.Signal();
            }
        }

        ready.Wait();
        if (Array.TrueForAll(failures, static failure => failure is null))
        {
            Log.BackendChosen(Logs.IO, Backend.ToString());
        }

        foreach (Exception? failure in failures)
        {
            if (failure is not null)
            {
                // Shards that did start must not linger: stop them, then report the first failure.
                StopAsync().AsTask().GetAwaiter().GetResult();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }

        _metrics = new MinissMetrics(this, _options.MeterFactory);
        _stallDetector?.UnsafeStart();
    }

    /// <summary>The CPUs this process may run on (its affinity mask), ascending: where shards go by default.</summary>
    public static IReadOnlyList<int> AvailableCpus() => ThreadAffinity.AllowedCpus();

    /// <summary>The shard with the given id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such shard.</exception>
    public Shard this[int shard] => (uint)shard < (uint)_shards.Length
        ? _shards[shard]
        : throw new ArgumentOutOfRangeException(nameof(shard), shard, $"the runtime has shards 0 to {_shards.Length - 1}");

    /// <summary>
    /// Runs <paramref name="work"/> on shard <paramref name="shard"/> and returns its result to the caller: on the
    /// caller's shard when called from a shard (allocation-free once warm), asynchronously on the caller's context
    /// or the thread pool otherwise. Exceptions thrown by the work are rethrown by the await. A full queue delays the
    /// message, never drops it; a shard may submit to itself.
    /// <para>With <see cref="RuntimeOptions.FlowExecutionContext"/> on, the work runs in the caller's
    /// <see cref="ExecutionContext"/> (its <see cref="System.Diagnostics.Activity.Current"/>, AsyncLocal values and logging
    /// scopes). While a listener samples <see cref="Diagnostics.MinissTracing.Source"/>, the work runs in a
    /// <c>miniss.submit</c> activity, child of the caller's.</para>
    /// </summary>
    /// <param name="shard">The shard to run on.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the work until it starts on the shard (as <see cref="Task.Run(Action, CancellationToken)"/>
    /// does): the await then throws <see cref="OperationCanceledException"/> carrying this token. Work that has
    /// started is not interrupted; pass the token into it to stop it.</param>
    /// <exception cref="ObjectDisposedException">The runtime is stopping (thrown by the await).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the work
    /// started (thrown by the await).</exception>
    public ValueTask<T> SubmitTo<T>(int shard, Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Submit(shard, work, null, cancellationToken);
    }

    /// <summary>Runs asynchronous <paramref name="work"/> on shard <paramref name="shard"/>; see <see cref="SubmitTo{T}(int, Func{T}, CancellationToken)"/>.
    /// The work's awaits resume on that shard.</summary>
    public ValueTask<T> SubmitTo<T>(int shard, Func<ValueTask<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Submit(shard, null, work, cancellationToken);
    }

    /// <summary>Sends synchronous or asynchronous work (one of the two) to a shard: pooled and answered by message from
    /// a shard, allocated and completed on the caller's context from anywhere else.</summary>
    private ValueTask<T> Submit<T>(int shard, Func<T>? sync, Func<ValueTask<T>>? async, CancellationToken cancellationToken)
    {
        Shard target = this[shard];
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        ExecutionContext? context = _options.FlowExecutionContext ? ExecutionContext.Capture() : null;
        if (ReferenceEquals(context, Diagnostics.MinissTracing.Clean))
        {
            // The caller's context is the default one, which every shard runs in anyway: nothing to carry.
            context = null;
        }

        bool trace = Diagnostics.MinissTracing.Source.HasListeners();
        System.Diagnostics.ActivityContext parent = trace ? System.Diagnostics.Activity.Current?.Context ?? default : default;
        if (Shard.Current is { } current && current.Runtime == this)
        {
            if (current.IsRejecting)
            {
                return ValueTask.FromException<T>(current.Stopped());
            }

            ShardCall<T> call = ShardCall<T>.Rent(current);
            if (InlineCall<T>.Supported && sync is not null && context is null && !trace && !cancellationToken.CanBeCanceled && shard != current.Id)
            {
                // The common call: carried in the ring's slots, so the target never reads the call's object.
                ValueTask<T> inline = call.AsValueTask();
                current.OnCallSent();
                current.Send(shard, InlineCall<T>.Request(call, sync, current.Id));
                return inline;
            }

            call.Set(sync, async, context, trace, parent, current.Id, cancellationToken);
            ValueTask<T> result = call.AsValueTask();
            current.OnCallSent();
            current.Send(shard, call);
            return result;
        }

        if (_stopping)
        {
            return ValueTask.FromException<T>(target.Stopped());
        }

        var external = new ExternalCall<T>();
        external.Set(sync, async, context, trace, parent, -1, cancellationToken);
        ValueTask<T> outcome = external.AsValueTask();
        target.PostMessage(external);
        return outcome;
    }

    /// <summary>
    /// Runs an I/O operation on shard <paramref name="shard"/>, the shard that owns the resource, and brings its result
    /// back by message (the design's <c>CrossCpuMessage.SubmitIo</c>, docs/architecture.md): no I/O state is shared between shards.
    /// </summary>
    public ValueTask<T> SubmitIo<T>(int shard, Func<ValueTask<T>> operation, CancellationToken cancellationToken = default) =>
        SubmitTo(shard, operation, cancellationToken);

    /// <summary>Runs asynchronous <paramref name="work"/> without a result on shard <paramref name="shard"/>; see
    /// <see cref="SubmitTo{T}(int, Func{T}, CancellationToken)"/>.</summary>
    public async ValueTask SubmitTo(int shard, Func<ValueTask> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await SubmitTo(shard, async () =>
        {
            await work().ConfigureAwait(true);
            return true;
        }, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Runs <paramref name="work"/> without a result on shard <paramref name="shard"/>; see
    /// <see cref="SubmitTo{T}(int, Func{T}, CancellationToken)"/>.</summary>
    public async ValueTask SubmitTo(int shard, Action work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await SubmitTo(shard, () =>
        {
            work();
            return true;
        }, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Runs <paramref name="work"/> on every shard at once and waits for all; exceptions are collected
    /// into an <see cref="AggregateException"/> once every shard has finished. <paramref name="cancellationToken"/>
    /// cancels the work on the shards where it has not started yet (see <see cref="SubmitTo{T}(int, Func{T}, CancellationToken)"/>).</summary>
    public async ValueTask InvokeOnAll(Func<ValueTask> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var pending = new ValueTask[_shards.Length];
        for (int i = 0; i < _shards.Length; i++)
        {
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited exactly once below, after all are started.
            pending[i] = SubmitTo(i, work, cancellationToken);
#pragma warning restore CA2012
        }

        List<Exception>? errors = null;
        foreach (ValueTask task in pending)
        {
            try
            {
                await task.ConfigureAwait(true);
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }

        if (errors is not null)
        {
            throw new AggregateException(errors);
        }
    }

    /// <summary>Runs <paramref name="work"/> on every shard and returns the results by shard id; see
    /// <see cref="InvokeOnAll(Func{ValueTask}, CancellationToken)"/>.</summary>
    public ValueTask<T[]> InvokeOnAll<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Gather(work, null, cancellationToken);
    }

    /// <summary>Runs asynchronous <paramref name="work"/> on every shard and returns the results by shard id; see
    /// <see cref="InvokeOnAll(Func{ValueTask}, CancellationToken)"/>.</summary>
    public ValueTask<T[]> InvokeOnAll<T>(Func<ValueTask<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Gather(null, work, cancellationToken);
    }

    private async ValueTask<T[]> Gather<T>(Func<T>? sync, Func<ValueTask<T>>? async, CancellationToken cancellationToken)
    {
        var pending = new ValueTask<T>[_shards.Length];
        for (int i = 0; i < _shards.Length; i++)
        {
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited exactly once below, after all are started.
            pending[i] = Submit(i, sync, async, cancellationToken);
#pragma warning restore CA2012
        }

        var results = new T[_shards.Length];
        List<Exception>? errors = null;
        for (int i = 0; i < pending.Length; i++)
        {
            try
            {
                results[i] = await pending[i].ConfigureAwait(true);
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }

        return errors is null ? results : throw new AggregateException(errors);
    }

    /// <summary>
    /// Stops the runtime: new work is refused (<see cref="ObjectDisposedException"/>), timers and I/O in flight are
    /// cancelled (their awaits throw <see cref="OperationCanceledException"/>), every shard drains until nothing of
    /// it is in flight, then the rings are closed, the threads end and native memory is freed. Idempotent; every
    /// call returns the same task.
    /// </summary>
    /// <exception cref="ShardFaultedException">A shard's loop had failed (<see cref="Fault"/>); thrown by the await once
    /// the runtime has stopped all the same.</exception>
    public ValueTask StopAsync()
    {
        lock (_stopGate)
        {
            if (_stopTask is null)
            {
                _stopping = true;
                foreach (Shard shard in _shards)
                {
                    shard.Post(new WorkItem(s_beginStop, shard));
                }

                var all = new Task[_exited.Length];
                for (int i = 0; i < all.Length; i++)
                {
                    all[i] = _exited[i].Task;
                }

                _stopTask = WhenStopped(all);
            }

            return new ValueTask(_stopTask);
        }
    }

    /// <summary>
    /// Stops the runtime as <see cref="StopAsync()"/> does, waiting at most until <paramref name="cancellationToken"/> is
    /// cancelled (a host's shutdown timeout). When it is cancelled first, the runtime logs (Warning, category
    /// <c>Miniss.Runtime</c>, event 10) what each shard still had in flight, its threads are left to finish on their own
    /// (they are background threads: they do not keep the process alive), and the await throws
    /// <see cref="OperationCanceledException"/> carrying <paramref name="cancellationToken"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled before every shard stopped.</exception>
    /// <exception cref="ShardFaultedException">A shard's loop had failed; thrown once the runtime has stopped.</exception>
    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Task stopped = StopAsync().AsTask();
        if (!cancellationToken.CanBeCanceled || stopped.IsCompleted)
        {
            await stopped.ConfigureAwait(false);
            return;
        }

        try
        {
            await stopped.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !stopped.IsCompleted)
        {
            Log.StopTimedOut(Logs.Runtime, DescribePending());
            throw new OperationCanceledException("The runtime did not stop before the token was cancelled; " + DescribePending(), null, cancellationToken);
        }
    }

    /// <summary>What every shard that has not drained still holds, in words (see <see cref="StopAsync(CancellationToken)"/>).</summary>
    internal string DescribePending()
    {
        var pending = new List<string>(_shards.Length);
        foreach (Shard shard in _shards)
        {
            if (shard.DescribePending() is { } text)
            {
                pending.Add(text);
            }
        }

        return pending.Count == 0 ? "every shard has drained; the threads are ending" : string.Join("; ", pending);
    }

    /// <summary>The end of <see cref="StopAsync()"/>: every shard thread has ended; the helper pool goes, and a shard
    /// failure is reported to whoever awaits the stop.</summary>
    private async Task WhenStopped(Task[] exited)
    {
        await Task.WhenAll(exited).ConfigureAwait(false);
        _metrics?.Dispose();
        BlockingPool?.Dispose();
        if (Fault is { } fault)
        {
            throw fault;
        }
    }

    /// <inheritdoc cref="StopAsync()"/>
    public ValueTask DisposeAsync() => StopAsync();

    /// <summary>Stops the runtime and waits for it (see <see cref="StopAsync()"/>). Must not be called on a shard.</summary>
    /// <exception cref="InvalidOperationException">Called on one of this runtime's shards, which could never finish.</exception>
    /// <exception cref="ShardFaultedException">A shard's loop had failed; thrown once the runtime has stopped.</exception>
    public void Dispose()
    {
        if (Shard.Current?.Runtime == this)
        {
            throw new InvalidOperationException("A shard cannot wait for its own runtime to stop; call StopAsync and do not block on it.");
        }

        StopAsync().AsTask().GetAwaiter().GetResult();
    }

    internal void OnShardDrained()
    {
        if (Interlocked.Increment(ref _drainedShards) == _shards.Length)
        {
            // The last one to drain lets the others leave their loops.
            Interlocked.MemoryBarrier();
            foreach (Shard shard in _shards)
            {
                shard.Wake();
            }
        }
    }

    /// <summary>Where the runtime and its servers log, by category (<see cref="RuntimeOptions.LoggerFactory"/>).</summary>
    internal LogCategories Logs { get; }

    /// <summary>The runtime's <c>Miniss</c> meter and its instruments, from the end of start until it has stopped.</summary>
    internal MinissMetrics? Metrics => Volatile.Read(ref _metrics);

    internal void ReportPinningRefused(Shard shard, int errno)
    {
        if (Interlocked.Exchange(ref _pinningReported, 1) == 0)
        {
            Log.PinningRefused(Logs.Runtime, shard.Id, shard.Cpu, ErrnoNames.Describe(errno));
        }
    }

    internal void ReportBufferRegistrationRefused(Shard shard, string reason)
    {
        if (Interlocked.Exchange(ref _registrationReported, 1) == 0)
        {
            Log.BufferRegistrationRefused(Logs.Buffers, shard.Id, reason);
        }
    }

    internal void ReportSubmissionPollingRefused(Shard shard, string reason)
    {
        if (Interlocked.Exchange(ref _pollingRefusalReported, 1) == 0)
        {
            Log.SubmissionPollingRefused(Logs.IO, shard.Id, reason);
        }
    }

    internal void ReportDirectIoRefused(string path) => Log.DirectIoRefused(Logs.IO, path);

    internal void ReportUnhandledException(Shard shard, Exception error)
    {
        Log.UnhandledException(Logs.Runtime, error, shard.Id);
        Raise(UnhandledException, new ShardExceptionEventArgs(shard.Id, error));
    }

    internal void ReportLoopFailure(Shard shard, Exception error)
    {
        var fault = new ShardFaultedException(shard.Id, error);
        Interlocked.CompareExchange(ref _fault, fault, null);
        Log.LoopFailed(Logs.Runtime, error, shard.Id);
        var args = new ShardExceptionEventArgs(shard.Id, error);
        Raise(UnhandledException, args);
        Raise(ShardFaulted, args);
        _faulted.TrySetResult(Fault!);
    }

    internal void ReportShardAbandoned(Shard shard, int inFlight) => Log.ShardAbandoned(Logs.Runtime, shard.Id, inFlight);

    /// <summary>Raises an event on a shard: a handler that throws is not allowed to take the shard's loop with it.</summary>
    private void Raise(EventHandler<ShardExceptionEventArgs>? handler, ShardExceptionEventArgs args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(Logs.Runtime, e, args.ShardId);
        }
    }

    private void DetectStalls()
    {
        long threshold = Clock.ToTimestamp(_options.StallThreshold);
        int period = Math.Max(1, (int)(_options.StallThreshold.TotalMilliseconds / 4));
        while (!_stopping || _stopTask?.IsCompleted == false)
        {
            Thread.Sleep(period);
            long now = Clock.Now;
            foreach (Shard shard in _shards)
            {
                // Sequence, start, sequence: if a task ended in between, the start read may belong to the next one.
                long sequence = shard.TaskSequence;
                long started = shard.TaskStartedAt;
                if (shard.TaskSequence != sequence)
                {
                    continue;
                }

                if (started != 0 && now - started > threshold)
                {
                    TimeSpan duration = Clock.ToTimeSpan(now - started);
                    if (shard.TryReportStall(sequence + 1, duration))
                    {
                        StallDetected?.Invoke(this, new ShardStallEventArgs(shard.Id, duration));
                    }
                }
            }

            if (_stopTask?.IsCompleted == true)
            {
                return;
            }
        }
    }
}

/// <summary>An exception that escaped work on a shard.</summary>
/// <param name="shardId">The shard it escaped on.</param>
/// <param name="exception">The exception.</param>
public sealed class ShardExceptionEventArgs(int shardId, Exception exception) : EventArgs
{
    /// <summary>The shard the exception escaped on.</summary>
    public int ShardId { get; } = shardId;

    /// <summary>The exception.</summary>
    public Exception Exception { get; } = exception;
}

/// <summary>A task that kept a shard busy longer than the stall threshold.</summary>
/// <param name="shardId">The shard.</param>
/// <param name="duration">How long the task had run when it was reported.</param>
public sealed class ShardStallEventArgs(int shardId, TimeSpan duration) : EventArgs
{
    /// <summary>The shard that stalled.</summary>
    public int ShardId { get; } = shardId;

    /// <summary>How long the task had run when it was reported (at least the threshold).</summary>
    public TimeSpan Duration { get; } = duration;
}
