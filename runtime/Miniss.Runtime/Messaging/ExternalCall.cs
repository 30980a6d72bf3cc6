using System;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Miniss.Messaging;

/// <summary>
/// A call into a shard from a thread that is not one of the runtime's shards. Completed on the shard and awaited
/// elsewhere, so it uses the thread-safe core and runs the caller's continuation asynchronously (on the caller's
/// context or the thread pool), never on the shard. One allocation per call: calls from outside are not the hot path.
/// </summary>
internal sealed class ExternalCall<T> : CrossShardCall<T>, IValueTaskSource<T>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };

    public ValueTask<T> AsValueTask() => new(this, _core.Version);

    public ValueTask AsUntypedValueTask() => new(this, _core.Version);

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    protected override void Complete(Shard executingShard)
    {
        if (Error is { } error)
        {
            _core.SetException(error);
        }
        else
        {
            _core.SetResult(Result);
        }
    }

    public T GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
