using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Messaging;

/// <summary>
/// A call from one shard to another: pooled on the calling shard, sent as a request, executed on the target, sent
/// back as a reply, and completed on the calling shard so that the caller's continuation runs there. Allocates
/// nothing once the pool is warm.
/// </summary>
internal sealed class ShardCall<T> : CrossShardCall<T>, IValueTaskSource<T>, IValueTaskSource
{
    [ThreadStatic]
    private static Stack<ShardCall<T>>? t_pool;

    // Inline: a reply resumes the caller inside the loop's read of its ring, which times it as a task (see
    // Shard.ReadRing), instead of queueing the continuation for a second trip through the run queue.
    private CompletionCore<T> _core = new(ContinuationPolicy.InlineOnShard);
    private Shard _origin = null!;

    // The origin's id, which the executing shard replies to: reading it from the origin's object would fetch a line
    // that the origin keeps writing.
    private int _originId;

    // Whether this call is on its way back: executed, carrying its outcome home.
    private bool _isReply;

    public static ShardCall<T> Rent(Shard origin)
    {
        ShardCall<T> call = (t_pool ??= new Stack<ShardCall<T>>()).TryPop(out ShardCall<T>? pooled) ? pooled : new ShardCall<T>();
        call._origin = origin;
        call._originId = origin.Id;
        call._isReply = false;
        return call;
    }

    public ValueTask<T> AsValueTask() => new(this, _core.Version);

    /// <summary>At home: the reply of an inline call (<see cref="InlineCall{T}"/>) arrived with its result, or with the
    /// error the work threw or the refusal of a stopping target.</summary>
    public void OnInlineReply(T result, Exception? error) => Resume(result, error);

    /// <summary>Completes the caller's await, resuming it here (the policy is inline); an exception that escapes the
    /// continuation (a hand-written awaiter's; an async method keeps its own) is reported as unhandled on the shard,
    /// not left to fail the loop.</summary>
    private void Resume(T result, Exception? error)
    {
        Shard origin = _origin;
        origin.OnReplyReceived();
        try
        {
            if (error is not null)
            {
                _core.SetException(origin, error);
            }
            else
            {
                _core.SetResult(origin, result);
            }
        }
        catch (Exception e)
        {
            origin.ReportUnhandled(e);
        }
    }

    public ValueTask AsUntypedValueTask() => new(this, _core.Version);

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public override void Execute(Shard shard)
    {
        if (!_isReply)
        {
            base.Execute(shard);
            return;
        }

        Resume(Result, Error);
    }

    public override void Reject(Shard shard, Exception error)
    {
        if (_isReply)
        {
            // Replies are always delivered, even to a stopping shard: its caller is waiting for them.
            Execute(shard);
            return;
        }

        base.Reject(shard, error);
    }

    protected override void Complete(Shard executingShard)
    {
        _isReply = true;
        executingShard.Send(_originId, this);
    }

    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(_origin, token);
        }
        finally
        {
            if (token == _core.Version && _core.IsCompleted && !_core.AwaitedFromWrongThread)
            {
                _core.Reset();
                ClearOutcome();
                _origin = null!;
                (t_pool ??= new Stack<ShardCall<T>>()).Push(this);
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_origin, continuation, state, token);
}
