using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Catalog;

namespace Miniss;

// I/O on the shard's engine: every operation in flight is registered in the shard's one completion table, whose
// slot and generation are its user data; single-shot operations hold a pooled IoPromise. The members below are what
// the code generated from the operation catalog calls, and what multishot operations arm through.
public sealed partial class Shard
{
    private readonly CompletionTable _completions = new();
    private readonly Stack<IoPromise> _freeIo = new();

    // Written by the shard's own thread only; read by anyone through Statistics.
    private long _ioSubmissions;
    private long _ioCompletions;

    // The tick whose reap last resumed an awaiter, and when that reap's first resumption started: one clock read per
    // reap, not one per completion.
    private long _reapTick = -1;
    private long _reapStartedAt;

    /// <summary>Operations in flight on the engine (single-shot operations and armed multishot ones). Any thread; a
    /// moment old.</summary>
    internal int IoInFlight => _completions.Count;

    /// <summary>
    /// Sends a no-op through this shard's io_uring ring and completes with 0 when its completion comes back: the
    /// cost of one operation's round trip. Must be called on this shard; allocates nothing in steady state.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from another thread than this shard's.</exception>
    /// <exception cref="ObjectDisposedException">The runtime is stopping (the await throws).</exception>
    public ValueTask<int> NopAsync()
    {
        EnsureCurrent();
        return IoOperations.NopAsync();
    }

    /// <summary>The shard of the calling thread, for an I/O operation.</summary>
    /// <exception cref="InvalidOperationException">The caller is not on a shard.</exception>
    internal static Shard CurrentForIo() =>
        t_current ?? throw new InvalidOperationException("Miniss I/O operations run on a shard; use MinissRuntime.SubmitTo to get onto one.");

    /// <summary>
    /// Starts an operation: a promise from the pool, or, when the runtime is stopping or the token is already
    /// cancelled, the completed <paramref name="early"/> result to return instead.
    /// </summary>
    internal bool TryBeginIo(string operation, IoDomain domain, CancellationToken cancellationToken, out IoPromise promise, out ValueTask<int> early)
    {
        if (_rejecting)
        {
            promise = null!;
            early = ValueTask.FromException<int>(Stopped());
            return false;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            promise = null!;
            early = ValueTask.FromCanceled<int>(cancellationToken);
            return false;
        }

        if (!_freeIo.TryPop(out IoPromise? pooled))
        {
            pooled = new IoPromise(this);
        }

        pooled.Begin(operation, domain, _completions.Register(pooled));
        promise = pooled;
        early = default;
        return true;
    }

    /// <summary>The next operation record of this shard's engine (zeroed): an SQE of its ring on io_uring.</summary>
    internal unsafe io_uring_sqe* NextSqe() => _ring is { } ring ? ring.NextSqe() : _engine!.NextSqe();

    /// <summary>A timespec that lives as long as the SQE just taken.</summary>
    internal unsafe __kernel_timespec* TimespecOfLastSqe() => _engine!.TimespecOfLastSqe();

    /// <summary>Hands an operation's await to the caller once its generated prepare function has written its SQE, the
    /// promise's user data included. The SQE reaches the kernel with the tick's batch.</summary>
    internal ValueTask<int> Launch(IoPromise promise, CancellationToken cancellationToken)
    {
        _ioSubmissions++;
        if (cancellationToken.CanBeCanceled)
        {
            promise.WatchToken(cancellationToken);
        }

        return new ValueTask<int>(promise, promise.Version);
    }

    /// <summary>As <see cref="Launch(IoPromise, CancellationToken)"/>, with how a readiness engine runs
    /// the operation (its catalog descriptor).</summary>
    internal ValueTask<int> Launch(IoPromise promise, in ReadinessDescriptor readiness, CancellationToken cancellationToken)
    {
        Describe(in readiness);
        return Launch(promise, cancellationToken);
    }

    /// <summary>As <see cref="Launch(IoPromise, CancellationToken)"/>, for operations without a result.</summary>
    internal ValueTask LaunchUntyped(IoPromise promise, CancellationToken cancellationToken)
    {
        _ioSubmissions++;
        if (cancellationToken.CanBeCanceled)
        {
            promise.WatchToken(cancellationToken);
        }

        return new ValueTask(promise, promise.Version);
    }

    /// <summary>As <see cref="LaunchUntyped(IoPromise, CancellationToken)"/>, with how a readiness
    /// engine runs the operation.</summary>
    internal ValueTask LaunchUntyped(IoPromise promise, in ReadinessDescriptor readiness, CancellationToken cancellationToken)
    {
        Describe(in readiness);
        return LaunchUntyped(promise, cancellationToken);
    }

    /// <summary>Tells a readiness engine how to run the record just written; io_uring has no use for it.</summary>
    private void Describe(in ReadinessDescriptor readiness)
    {
        if (_ring is null)
        {
            _engine!.DescribeLastSqe(in readiness);
        }
    }

    /// <summary>An operation failed while its SQE was being prepared (a closed handle, say): it never reached the
    /// kernel; its await throws <paramref name="error"/>.</summary>
    internal ValueTask<int> AbandonIo(IoPromise promise, Exception error)
    {
        _completions.Release(promise.UserData);
        promise.Abandon(error);
        return new ValueTask<int>(promise, promise.Version);
    }

    /// <summary>
    /// Registers <paramref name="target"/> (an operation that may complete many times) and takes the next SQE; the
    /// caller's generated prepare function fills it in, <paramref name="userData"/> included. The operation counts as in flight (the shard's stop cancels it
    /// and waits for its last completion) until a completion without <c>IORING_CQE_F_MORE</c> arrives.
    /// </summary>
    internal unsafe io_uring_sqe* Arm(ICompletionTarget target, out ulong userData)
    {
        userData = _completions.Register(target);
        _ioSubmissions++;
        return NextSqe();
    }

    /// <summary>Asks the kernel to cancel the operation with <paramref name="userData"/> (best effort); its last
    /// completion (<c>-ECANCELED</c>, or whatever came first) still arrives.</summary>
    internal void SubmitCancel(ulong userData) => _engine!.Cancel(new IoHandle(userData));

    /// <summary>Whether the operation with <paramref name="userData"/> is still in flight (its last completion has not
    /// arrived).</summary>
    internal bool IsInFlight(ulong userData) => _completions.IsRegistered(userData);

    internal void ReleaseIo(IoPromise promise) => _freeIo.Push(promise);

    /// <summary>
    /// Delivers a completion (not an internal one) to its target in the completion table. A single-shot operation's
    /// awaiter resumes right here, inside the reap, as a task of its own (the run queue would only add a second hop);
    /// for the stall detector each such task counts from the start of the reap's first one, so a reap whose
    /// continuations together keep the loop away longer than the threshold is reported too. Multishot targets take
    /// their completion as before.
    /// </summary>
    private void Deliver(in IoCompletion completion)
    {
        _ioCompletions++;
        if (!_completions.TryTake(completion.UserData, completion.Flags, out ICompletionTarget target))
        {
            // Nobody owns it any more (a stale completion); a provided buffer it carries must still go back.
            Networking.ReturnUnclaimedBuffer(completion.Flags);
            return;
        }

        try
        {
            // A sealed type check instead of the interface dispatch for the common case.
            if (target is IoPromise promise)
            {
                if (_reapTick != _ticks)
                {
                    _reapTick = _ticks;
                    _reapStartedAt = Clock.Now;
                }

                Volatile.Write(ref _taskStartedAt, _reapStartedAt);
                promise.OnCompletion(completion.Result, completion.Flags);
                _tasksRun++;
                EndTask();
                ClearRunningTask();
            }
            else
            {
                target.OnCompletion(completion.Result, completion.Flags);
            }
        }
        catch (Exception e)
        {
            ClearRunningTask();
            ReportUnhandled(e);
        }
    }
}
