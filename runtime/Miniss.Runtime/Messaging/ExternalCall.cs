using System;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Messaging;

/// <summary>
/// A call into a shard from a thread that is not one of the runtime's shards. Completed on the shard and awaited
/// elsewhere, so its core synchronises the two (<see cref="ContinuationPolicy.AnyThread"/>) and runs the caller's
/// continuation asynchronously (on the caller's context or the thread pool), never on the shard. One allocation per
/// call: calls from outside are not the hot path.
/// </summary>
internal sealed class ExternalCall<T> : CrossShardCall<T>, IValueTaskSource<T>, IValueTaskSource
{
    private CompletionCore<T> _core = new(ContinuationPolicy.AnyThread);

    public ValueTask<T> AsValueTask() => new(this, _core.Version);

    public ValueTask AsUntypedValueTask() => new(this, _core.Version);

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    protected override void Complete(Shard executingShard)
    {
        if (Error is { } error)
        {
            _core.SetException(null, error);
        }
        else
        {
            _core.SetResult(null, Result);
        }
    }

    public T GetResult(short token) => _core.GetResult(null, token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(null, continuation, state, token, flags);
}
