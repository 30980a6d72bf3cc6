using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Timers;

namespace Miniss;

// Timers: a binary heap of deadlines per shard, driven by the loop's sleep timeout. Cancelled entries stay in the
// heap until their deadline comes up or the heap compacts (their promise's arming has moved on).
public sealed partial class Shard
{
    private readonly TimerHeap<ArmedDelay, ArmedDelayLiveness> _timers = new(default);
    private readonly Stack<DelayPromise> _delayPool = new();
    private int _armedTimers;

    // Written by the shard's own thread only; read by anyone through Statistics.
    private long _timersFired;

    /// <summary>
    /// Completes after <paramref name="delay"/>, on this shard. Must be called on this shard; allocates nothing in
    /// steady state (a cancellable token costs one small object for its registration).
    /// </summary>
    /// <param name="delay">How long to wait; zero or negative completes on the loop's next turn (a yield). Durations
    /// too long to represent wait indefinitely.</param>
    /// <param name="cancellationToken">Cancels the wait: the await then throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="InvalidOperationException">Called from another thread than this shard's.</exception>
    /// <exception cref="ObjectDisposedException">The runtime is stopping (the await throws).</exception>
    public ValueTask Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        EnsureCurrent();
        if (_rejecting)
        {
            return ValueTask.FromException(Stopped());
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return ArmTimer(Clock.Deadline(delay), cancellationToken);
    }

    /// <summary>
    /// Completes when the clock reaches <paramref name="deadline"/> (a <see cref="Clock"/> timestamp). Checks, as
    /// <see cref="Delay"/> does, that it runs on this shard and that the runtime is not stopping.
    /// </summary>
    internal ValueTask ArmTimer(long deadline, CancellationToken cancellationToken)
    {
        EnsureCurrent();
        if (_rejecting)
        {
            return ValueTask.FromException(Stopped());
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        DelayPromise promise = DelayPromise.Rent(this, _delayPool);
        _timers.Push(new ArmedDelay(promise, promise.ArmId), deadline);
        _armedTimers++;
        if (cancellationToken.CanBeCanceled)
        {
            promise.WatchToken(cancellationToken);
        }

        return new ValueTask(promise, promise.Version);
    }

    internal void OnTimerDisarmed() => _armedTimers--;

    /// <summary>Entries in the timer heap, cancelled ones not yet dropped included.</summary>
    internal int TimerHeapCount => _timers.Count;

    internal void ReturnDelay(DelayPromise promise) => _delayPool.Push(promise);

    private bool FireTimers()
    {
        if (_timers.Count == 0)
        {
            return false;
        }

        bool fired = false;
        long now = Clock.Now;
        while (_timers.TryPopDue(now, out ArmedDelay entry))
        {
            _timersFired++;
            entry.Promise.Fire();
            fired = true;
        }

        return fired;
    }

    private bool TimerDue() => _timers.TryPeek(out _, out long deadline) && deadline <= Clock.Now;

    /// <summary>Nanoseconds until the next live timer, or -1 when none is armed.</summary>
    private long NextTimerTimeoutNanoseconds()
    {
        return _timers.TryPeekLive(out _, out long deadline) ? Math.Max(0, Clock.ToNanoseconds(deadline - Clock.Now)) : -1;
    }

    private void CancelAllTimers()
    {
        for (int i = 0; i < _timers.Count; i++)
        {
            ArmedDelay entry = _timers[i];
            if (default(ArmedDelayLiveness).IsLive(in entry))
            {
                entry.Promise.Fail(new OperationCanceledException("The Miniss runtime is stopping."));
            }
        }

        _timers.Clear();
    }
}
