using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Miniss.Scheduling;

/// <summary>
/// The state of a pooled, shard-owned <see cref="IValueTaskSource{T}"/>: completed and awaited on the owning shard's
/// thread only, so it needs no interlocked operations. The continuation is queued on the shard's run queue, never
/// run inside the code that completes it.
/// </summary>
/// <remarks>
/// <code>
///   Reset ──► pending ──SetResult/SetException──► completed ──GetResult──► Reset (version + 1, back to the pool)
///                └──OnCompleted (once)──┘
/// </code>
/// The version is the token of the <see cref="System.Threading.Tasks.ValueTask"/> handed out: a stale handle, a
/// second await or an await after reuse carries an old version and is reported, never served someone else's
/// result. Not supported: awaiting from a thread other than the owning shard's, awaiting twice.
/// </remarks>
internal struct LocalPromiseCore<T>
{
    private Action<object?>? _continuation;
    private object? _continuationState;
    private T _result;
    private ExceptionDispatchInfo? _error;
    private short _version;
    private bool _completed;
    private int _wrongThreadShard;

    public readonly short Version => _version;

    public readonly bool IsCompleted => _completed;

    /// <summary>Whether a thread other than the owner's awaited this source (its object must then not be reused).</summary>
    public readonly bool AwaitedFromWrongThread => _wrongThreadShard != 0;

    /// <summary>Starts a new life for the source: the next token, nothing completed, nothing awaiting.</summary>
    public void Reset()
    {
        _version = unchecked((short)(_version + 1));
        _completed = false;
        _wrongThreadShard = 0;
        _continuation = null;
        _continuationState = null;
        _error = null;
        _result = default!;
    }

    public readonly ValueTaskSourceStatus GetStatus(short token)
    {
        Validate(token);
        return !_completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Shard owner, Action<object?> continuation, object? state, short token)
    {
        Validate(token);
        if (Shard.Current != owner)
        {
            // Throwing here would abort the process (an await's OnCompleted failure surfaces on the thread pool).
            // Instead the await resumes at once, on the thread pool, and GetResult reports the misuse.
            _wrongThreadShard = owner.Id + 1;
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(continuation, state, preferLocal: false);
            return;
        }

        if (_continuation is not null)
        {
            throw new InvalidOperationException("This operation is already being awaited; a ValueTask may be awaited only once.");
        }

        if (_completed)
        {
            owner.Schedule(continuation, state);
            return;
        }

        _continuation = continuation;
        _continuationState = state;
    }

    public T GetResult(Shard owner, short token)
    {
        Validate(token);
        if (_wrongThreadShard == 0 && Shard.Current != owner)
        {
            // Read on another thread (after it completed): report it, and keep the object out of the shard's pools.
            _wrongThreadShard = owner.Id + 1;
        }

        if (_wrongThreadShard != 0)
        {
            throw new InvalidOperationException(
                $"This operation belongs to shard {_wrongThreadShard - 1} and must be awaited there; it was awaited on another thread.");
        }

        if (!_completed)
        {
            throw new InvalidOperationException("The operation has not completed; await it instead of reading its result.");
        }

        _error?.Throw();
        return _result;
    }

    public void SetResult(Shard owner, T result)
    {
        _result = result;
        Signal(owner);
    }

    public void SetException(Shard owner, Exception error)
    {
        _error = ExceptionDispatchInfo.Capture(error);
        Signal(owner);
    }

    private void Signal(Shard owner)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The operation was completed twice.");
        }

        _completed = true;
        if (_continuation is { } continuation)
        {
            _continuation = null;
            owner.Schedule(continuation, _continuationState);
            _continuationState = null;
        }
    }

    private readonly void Validate(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException(
                "This ValueTask is stale: its result was already consumed, or the operation object has been reused (double await or await after completion).");
        }
    }
}
