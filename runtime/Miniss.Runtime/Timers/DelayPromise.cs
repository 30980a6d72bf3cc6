using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Timers;

/// <summary>
/// A pooled <see cref="IValueTaskSource"/> for <see cref="Shard.Delay"/>: armed in the shard's timer queue, completed
/// by the loop when its deadline passes, or with <see cref="OperationCanceledException"/> when its token is cancelled
/// or the runtime stops.
/// </summary>
internal sealed class DelayPromise : IValueTaskSource
{
    private static readonly Action<object?> s_onTokenCancelled = OnTokenCancelled;
    private static readonly Action<object?> s_cancelOnShard = CancelOnShard;

    private readonly Shard _owner;
    private CompletionCore<bool> _core;
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;

    private DelayPromise(Shard owner) => _owner = owner;

    /// <summary>Whether the delay is still waiting for its deadline.</summary>
    public bool IsArmed { get; private set; }

    public short Version => _core.Version;

    /// <summary>Which arming of this (pooled) promise is current: 64 bits, so a heap entry or a cancel request of an
    /// earlier delay never matches a later one (the 16-bit token version wraps after 65,536 reuses).</summary>
    public long ArmId { get; private set; }

    public static DelayPromise Rent(Shard owner, Stack<DelayPromise> pool)
    {
        DelayPromise promise = pool.TryPop(out DelayPromise? pooled) ? pooled : new DelayPromise(owner);
        promise.IsArmed = true;
        promise.ArmId++;
        return promise;
    }

    public void WatchToken(CancellationToken token)
    {
        _token = token;
        _registration = token.UnsafeRegister(s_onTokenCancelled, new CancelRequest(this, ArmId));
    }

    /// <summary>The deadline passed: completes the await (on the owning shard).</summary>
    public void Fire()
    {
        Disarm();
        _core.SetResult(_owner, true);
    }

    /// <summary>Completes the await with <paramref name="error"/> (on the owning shard).</summary>
    public void Fail(Exception error)
    {
        Disarm();
        _core.SetException(_owner, error);
    }

    private void Disarm()
    {
        IsArmed = false;
        _owner.OnTimerDisarmed();
        _registration.Unregister();
        _registration = default;
    }

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(_owner, token);
        }
        finally
        {
            if (token == _core.Version && _core.IsCompleted && !_core.AwaitedFromWrongThread)
            {
                _core.Reset();
                _token = default;
                _owner.ReturnDelay(this);
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_owner, continuation, state, token);

    // The token may be cancelled on any thread; the cancellation itself always happens on the owning shard, and only
    // if the promise is still the same delay (the version) and still armed.
    private static void OnTokenCancelled(object? state) => ((CancelRequest)state!).Promise._owner.Post(new WorkItem(s_cancelOnShard, state));

    private static void CancelOnShard(object? state)
    {
        var request = (CancelRequest)state!;
        DelayPromise promise = request.Promise;
        if (promise.ArmId == request.ArmId && promise.IsArmed)
        {
            promise.Fail(new OperationCanceledException(promise._token));
        }
    }

    private sealed record CancelRequest(DelayPromise Promise, long ArmId);
}
