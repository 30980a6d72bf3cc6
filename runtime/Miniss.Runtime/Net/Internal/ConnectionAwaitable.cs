using System;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// The reusable awaitable behind a connection's receives and sends: a <see cref="CompletionCore{T}"/> (a version that
/// makes each <see cref="ValueTask"/> usable once, the outcome, the awaiter's continuation) and whether a life is
/// running. Everything happens on the connection's shard. Subclasses decide what a life is
/// (<see cref="ConnectionOperation"/>: one ring operation or a chain of them, resumed inline; <see cref="ReceiveWaiter"/>:
/// a wait on a multishot receive, resumed through the run queue).
/// </summary>
/// <remarks>
/// Unlike a <c>ManualResetValueTaskSourceCore</c>, it ignores the awaiter's <see cref="System.Threading.SynchronizationContext"/>
/// (it is the shard's, where the continuation runs anyway), which would cost an allocation per completion to post to.
/// </remarks>
internal abstract class ConnectionAwaitable : IValueTaskSource<int>, IValueTaskSource
{
    private CompletionCore<int> _core;

    protected ConnectionAwaitable(ContinuationPolicy policy) => _core = new CompletionCore<int>(policy);

    /// <summary>Whether a life is running, or completed and not yet awaited.</summary>
    public bool InUse { get; private set; }

    /// <summary>Whether the life has its outcome.</summary>
    protected bool IsCompleted => _core.IsCompleted;

    protected short Version => _core.Version;

    /// <summary>The shard the awaits must happen on.</summary>
    protected abstract Shard Owner { get; }

    /// <summary>Starts the next life: not completed, nobody awaiting (the core was reset when the last one was read).</summary>
    protected void BeginLife() => InUse = true;

    /// <summary>Records the outcome and resumes the awaiter, if one is waiting, as the policy says.</summary>
    protected void SetOutcome(int result, Exception? error)
    {
        if (error is null)
        {
            _core.SetResult(Owner, result);
        }
        else
        {
            _core.SetException(Owner, error);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        Validate(token);
        return _core.GetStatus(token);
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Validate(token);
        _core.OnCompleted(Owner, continuation, state, token);
    }

    public int GetResult(short token)
    {
        Validate(token);
        try
        {
            return _core.GetResult(Owner, token);
        }
        finally
        {
            // The life ends with the read that owns it, once completed, on its own shard.
            if (_core.IsCompleted && !_core.AwaitedFromWrongThread)
            {
                _core.Reset();
                InUse = false;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    private void Validate(short token)
    {
        if (token != _core.Version || !InUse)
        {
            throw new InvalidOperationException("This ValueTask was already awaited, or belongs to an earlier operation: await each connection operation once.");
        }
    }
}
