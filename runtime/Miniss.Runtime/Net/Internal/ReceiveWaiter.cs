using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// One receive waiting on a <see cref="MultishotReceiver"/>: the caller's memory, its cancellation, and the awaitable
/// the caller holds. The receiver keeps one for reuse (a steady stream of receives allocates nothing) and makes more
/// only for receives issued while one is already waiting.
/// </summary>
/// <remarks>
/// The caller's memory is never handed to the kernel while the receive waits on the multishot receive: data is copied
/// in from the provided buffers. So a cancelled waiter completes at once, and data that arrives afterwards stays
/// queued for the next receive. Only when the receiver falls back to a single-shot receive for this waiter does the
/// kernel hold the memory; that receive is then cancelled through the kernel, like any other.
/// </remarks>
internal sealed class ReceiveWaiter : IValueTaskSource<int>
{
    private static readonly Action<object?> s_applyCancel = static state => ((CancelRequest)state!).Apply();

    private static readonly Action<object?> s_onTokenCancelled = static state =>
        ((CancelRequest)state!).Waiter._owner.Shard.Post(new WorkItem(s_applyCancel, state));

    private readonly MultishotReceiver _owner;
    private CancellationTokenRegistration _registration;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExceptionDispatchInfo? _error;
    private long _launch;
    private int _result;
    private short _version;
    private bool _completed;

    public ReceiveWaiter(MultishotReceiver owner) => _owner = owner;

    /// <summary>Whether the waiter is waiting, or completed and not yet awaited.</summary>
    public bool InUse { get; private set; }

    /// <summary>Whether the waiter is waiting for data or an outcome.</summary>
    public bool Pending => InUse && !_completed;

    /// <summary>Where the received bytes go.</summary>
    public Memory<byte> Destination { get; private set; }

    /// <summary>The receive's cancellation.</summary>
    public CancellationToken Token { get; private set; }

    public ValueTask<int> Task => new(this, _version);

    public void Begin(Memory<byte> destination, CancellationToken token)
    {
        InUse = true;
        _completed = false;
        _error = null;
        _result = 0;
        _continuation = null;
        _continuationState = null;
        Destination = destination;
        Token = token;
        _launch++;
        if (token.CanBeCanceled)
        {
            _registration = token.UnsafeRegister(s_onTokenCancelled, new CancelRequest(this, _launch));
        }
    }

    public void Succeed(int received) => Complete(received, null);

    public void Fail(Exception error) => Complete(0, error);

    private void Complete(int result, Exception? error)
    {
        _registration.Unregister();
        _registration = default;
        Destination = default;
        Token = default;
        _result = result;
        _error = error is null ? null : ExceptionDispatchInfo.Capture(error);
        _completed = true;
        Action<object?>? continuation = _continuation;
        if (continuation is not null)
        {
            // Through the run queue: completions arrive while the shard reaps its ring, not a place for user code.
            _continuation = null;
            _owner.Shard.Schedule(continuation, _continuationState);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        Validate(token);
        return !_completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Validate(token);
        if (Shard.Current != _owner.Shard)
        {
            throw new InvalidOperationException($"A receive of a connection of shard {_owner.Shard.Id} must be awaited there.");
        }

        if (_completed)
        {
            _owner.Shard.Schedule(continuation, state);
            return;
        }

        _continuation = continuation;
        _continuationState = state;
    }

    public int GetResult(short token)
    {
        Validate(token);
        if (!_completed)
        {
            throw new InvalidOperationException("A Miniss connection operation cannot be waited for synchronously; await it on its shard.");
        }

        ExceptionDispatchInfo? error = _error;
        int result = _result;
        _error = null;
        _version = unchecked((short)(_version + 1));
        InUse = false;
        error?.Throw();
        return result;
    }

    private void Validate(short token)
    {
        if (token != _version || !InUse)
        {
            throw new InvalidOperationException("This ValueTask was already awaited, or belongs to an earlier operation: await each connection operation once.");
        }
    }

    // The token may fire on any thread; the receiver acts on it on its shard, and only if the waiter still waits for
    // the same receive (the launch).
    private sealed record CancelRequest(ReceiveWaiter Waiter, long Launch)
    {
        public void Apply()
        {
            if (Waiter._launch == Launch && Waiter.Pending && Shard.Current == Waiter._owner.Shard)
            {
                Waiter._owner.OnWaiterCancelled(Waiter);
            }
        }
    }
}
