using System;
using System.Threading.Tasks;

namespace Miniss.Messaging;

/// <summary>
/// Work submitted to another shard: runs there (synchronous or asynchronous), and its result or exception goes back
/// to the caller through <see cref="Complete"/>, which the subclass implements for a shard caller or an outside thread.
/// </summary>
internal abstract class CrossShardCall<T> : ShardMessage
{
    private readonly Action _onAsyncDone;
    private Func<T>? _sync;
    private Func<ValueTask<T>>? _async;
    private ValueTask<T> _pending;

    protected CrossShardCall() => _onAsyncDone = OnAsyncDone;

    protected T Result { get; private set; } = default!;

    protected Exception? Error { get; private set; }

    /// <summary>The work to run: synchronous or asynchronous, exactly one of the two.</summary>
    public void Set(Func<T>? sync, Func<ValueTask<T>>? async)
    {
        _sync = sync;
        _async = async;
    }

    public override void Execute(Shard shard)
    {
        try
        {
            if (_sync is { } sync)
            {
                _sync = null;
                Result = sync();
            }
            else
            {
                Func<ValueTask<T>> work = _async!;
                _async = null;
#pragma warning disable CA2012 // The ValueTask is consumed exactly once: awaited through _onAsyncDone or read below.
                ValueTask<T> pending = work();
                if (!pending.IsCompleted)
                {
                    // Resumes on this shard: the shard's SynchronizationContext is current while the work runs.
                    _pending = pending;
                    pending.GetAwaiter().UnsafeOnCompleted(_onAsyncDone);
                    return;
                }

                Result = pending.GetAwaiter().GetResult();
#pragma warning restore CA2012
            }
        }
        catch (Exception e)
        {
            Error = e;
        }

        Complete(shard);
    }

    public override void Reject(Shard shard, Exception error)
    {
        _sync = null;
        _async = null;
        Error = error;
        Complete(shard);
    }

    /// <summary>Delivers <see cref="Result"/> or <see cref="Error"/> to the caller; runs on the executing shard.</summary>
    protected abstract void Complete(Shard executingShard);

    protected void ClearOutcome()
    {
        Result = default!;
        Error = null;
    }

    private void OnAsyncDone()
    {
        try
        {
            Result = _pending.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Error = e;
        }

        _pending = default;
        Complete(Shard.Current!);
    }
}
