using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Miniss.Net.Internal;

/// <summary>
/// The reusable awaitable behind a connection's receives and sends: a version that makes each <see cref="ValueTask"/>
/// usable once, the outcome (a result or an exception), and the awaiter's continuation. Everything happens on the
/// connection's shard. Subclasses decide what a life is (<see cref="ConnectionOperation"/>: one ring operation or a
/// chain of them; <see cref="ReceiveWaiter"/>: a wait on a multishot receive) and how the continuation runs.
/// </summary>
/// <remarks>
/// Unlike a <c>ManualResetValueTaskSourceCore</c>, it ignores the awaiter's <see cref="System.Threading.SynchronizationContext"/>
/// (it is the shard's, where the continuation runs anyway), which would cost an allocation per completion to post to.
/// </remarks>
internal abstract class ConnectionAwaitable : IValueTaskSource<int>, IValueTaskSource
{
    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExceptionDispatchInfo? _error;
    private int _result;
    private short _version;
    private bool _completed;

    /// <summary>Whether a life is running, or completed and not yet awaited.</summary>
    public bool InUse { get; private set; }

    /// <summary>Whether the life has its outcome.</summary>
    protected bool IsCompleted => _completed;

    protected short Version => _version;

    /// <summary>The shard the awaits must happen on.</summary>
    protected abstract Shard Owner { get; }

    /// <summary>Starts the next life: not completed, nobody awaiting.</summary>
    protected void BeginLife()
    {
        InUse = true;
        _completed = false;
        _error = null;
        _result = 0;
        _continuation = null;
        _continuationState = null;
    }

    /// <summary>Records the outcome and hands back the awaiter's continuation, if one is waiting, for the subclass to
    /// run: inline or through the run queue.</summary>
    protected (Action<object?>? Continuation, object? State) SetOutcome(int result, Exception? error)
    {
        _result = result;
        _error = error is null ? null : ExceptionDispatchInfo.Capture(error);
        _completed = true;
        Action<object?>? continuation = _continuation;
        _continuation = null;
        return (continuation, _continuationState);
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
        if (Shard.Current != Owner)
        {
            throw new InvalidOperationException($"An operation of a connection of shard {Owner.Id} must be awaited there.");
        }

        if (_completed)
        {
            Owner.Schedule(continuation, state);
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

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    private void Validate(short token)
    {
        if (token != _version || !InUse)
        {
            throw new InvalidOperationException("This ValueTask was already awaited, or belongs to an earlier operation: await each connection operation once.");
        }
    }
}
