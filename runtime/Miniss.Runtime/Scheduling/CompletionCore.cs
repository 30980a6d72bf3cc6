using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Miniss.Scheduling;

/// <summary>
/// The state of a pooled <see cref="IValueTaskSource{T}"/>: every awaitable of the runtime (ring operations, delays,
/// cross-shard and outside calls, connection operations, receive and accept waits) keeps one and forwards its
/// <see cref="IValueTaskSource{T}"/> members to it. How the awaiter resumes is the <see cref="ContinuationPolicy"/>
/// given at construction (the default, <see cref="ContinuationPolicy.QueueOnShard"/>, for a zero-initialised field).
/// </summary>
/// <remarks>
/// <code>
///   Reset ──► pending ──SetResult/SetException──► completed ──GetResult──► owner calls Reset (version + 1, pool)
///               └──OnCompleted (once)──┘    (the continuation: run inline, queued on the shard, or dispatched)
/// </code>
/// The version is the token of the <see cref="ValueTask"/> handed out: a stale handle, a second await or an await
/// after reuse carries an old version and is reported (<see cref="InvalidOperationException"/>), never served someone
/// else's result. Whether an object goes back to its pool is its owner's call: after a <see cref="GetResult"/> by the
/// current token, of a completed outcome, not <see cref="AwaitedFromWrongThread"/>.
/// <para>Shard policies use no interlocked operation: completion and await both happen on the owning shard. An await
/// from another thread is not served: it resumes at once on the thread pool (throwing from <c>OnCompleted</c> would
/// abort the process) and its <see cref="GetResult"/> reports the misuse. <see cref="ContinuationPolicy.AnyThread"/>
/// synchronises the registration with the completion by one compare-exchange on the continuation.</para>
/// Not supported: awaiting twice, completing twice, waiting synchronously on a pending operation.
/// </remarks>
internal struct CompletionCore<T>
{
    // AnyThread: marks a continuation slot that the completion got to first.
    private static readonly Action<object?> s_completedSentinel = static _ => throw new InvalidOperationException("unreachable");

    private readonly ContinuationPolicy _policy;
    private Action<object?>? _continuation;
    private object? _continuationState;

    // AnyThread: where the awaiter asked to resume (a SynchronizationContext or a TaskScheduler), and its
    // ExecutionContext when it asked for it to flow.
    private object? _capturedContext;
    private ExecutionContext? _executionContext;
    private T _result;
    private ExceptionDispatchInfo? _error;
    private short _version;

    // AnyThread: written before the continuation slot is exchanged, read by awaiters on other threads.
    private volatile bool _completed;
    private int _wrongThreadShard;

    /// <summary>A core that resumes its awaiter as <paramref name="policy"/> says.</summary>
    public CompletionCore(ContinuationPolicy policy)
    {
        this = default;
        _policy = policy;
    }

    /// <summary>The token of the current life.</summary>
    public readonly short Version => _version;

    /// <summary>Whether the outcome is set.</summary>
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
        _capturedContext = null;
        _executionContext = null;
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

    /// <summary>Registers the awaiter's continuation. <paramref name="owner"/> is the shard the source belongs to
    /// (ignored by <see cref="ContinuationPolicy.AnyThread"/>, which honours <paramref name="flags"/> instead).</summary>
    /// <exception cref="InvalidOperationException">A stale token, or a second await.</exception>
    public void OnCompleted(Shard? owner, Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags = ValueTaskSourceOnCompletedFlags.None)
    {
        Validate(token);
        if (_policy == ContinuationPolicy.AnyThread)
        {
            OnCompletedAnyThread(continuation, state, flags);
            return;
        }

        if (Shard.Current != owner)
        {
            // Throwing here would abort the process (an await's OnCompleted failure surfaces on the thread pool).
            // Instead the await resumes at once, on the thread pool, and GetResult reports the misuse.
            _wrongThreadShard = owner!.Id + 1;
            ThreadPool.UnsafeQueueUserWorkItem(continuation, state, preferLocal: false);
            return;
        }

        if (_continuation is not null)
        {
            throw AwaitedTwice();
        }

        if (_completed)
        {
            owner!.Schedule(continuation, state);
            return;
        }

        _continuation = continuation;
        _continuationState = state;
    }

    /// <summary>The outcome: the result, or the exception thrown again (with its original stack).</summary>
    /// <exception cref="InvalidOperationException">A stale token, a read before completion, or (shard policies) a
    /// read or an await on another thread than <paramref name="owner"/>'s.</exception>
    public T GetResult(Shard? owner, short token)
    {
        Validate(token);
        if (_policy != ContinuationPolicy.AnyThread)
        {
            if (_wrongThreadShard == 0 && Shard.Current != owner)
            {
                // Read on another thread (after it completed): report it, and keep the object out of the shard's pools.
                _wrongThreadShard = owner!.Id + 1;
            }

            if (_wrongThreadShard != 0)
            {
                throw new InvalidOperationException(
                    $"This operation belongs to shard {_wrongThreadShard - 1} and must be awaited there; it was awaited on another thread.");
            }
        }

        if (!_completed)
        {
            throw new InvalidOperationException("The operation has not completed; await it instead of reading its result.");
        }

        _error?.Throw();
        return _result;
    }

    /// <summary>Completes with <paramref name="result"/> and resumes the awaiter as the policy says. Shard policies:
    /// on <paramref name="owner"/>'s thread.</summary>
    /// <exception cref="InvalidOperationException">Completed twice.</exception>
    public void SetResult(Shard? owner, T result)
    {
        _result = result;
        Signal(owner);
    }

    /// <summary>Completes with <paramref name="error"/> and resumes the awaiter as the policy says.</summary>
    /// <exception cref="InvalidOperationException">Completed twice.</exception>
    public void SetException(Shard? owner, Exception error)
    {
        _error = ExceptionDispatchInfo.Capture(error);
        Signal(owner);
    }

    private void Signal(Shard? owner)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The operation was completed twice.");
        }

        _completed = true;
        switch (_policy)
        {
            case ContinuationPolicy.QueueOnShard when _continuation is { } continuation:
                _continuation = null;
                owner!.Schedule(continuation, _continuationState);
                _continuationState = null;
                break;
            case ContinuationPolicy.InlineOnShard when _continuation is { } continuation:
                object? state = _continuationState;
                _continuation = null;
                _continuationState = null;

                // Last: the continuation may start the awaitable's next life.
                continuation(state);
                break;
            case ContinuationPolicy.AnyThread:
                // The registration and the completion race: whoever exchanges second dispatches the continuation.
                // The exchange is also the fence after which the registration's state may be read.
                Action<object?>? registered = Interlocked.CompareExchange(ref _continuation, s_completedSentinel, null);
                if (registered is not null)
                {
                    Dispatch(registered, _continuationState);
                }

                break;
        }
    }

    private void OnCompletedAnyThread(Action<object?> continuation, object? state, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
        {
            _executionContext = ExecutionContext.Capture();
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            if (SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext))
            {
                _capturedContext = context;
            }
            else if (TaskScheduler.Current != TaskScheduler.Default)
            {
                _capturedContext = TaskScheduler.Current;
            }
        }

        // Written before the exchange publishes the continuation: the completing thread reads it after seeing it.
        _continuationState = state;
        Action<object?>? previous = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (previous is null)
        {
            return;
        }

        if (!ReferenceEquals(previous, s_completedSentinel))
        {
            throw AwaitedTwice();
        }

        // Completed before the registration: resume (asynchronously, as always for this policy).
        Dispatch(continuation, state);
    }

    /// <summary>Resumes an <see cref="ContinuationPolicy.AnyThread"/> awaiter where it asked, never inline.</summary>
    private readonly void Dispatch(Action<object?> continuation, object? state)
    {
        switch (_capturedContext)
        {
            case ShardSynchronizationContext shard:
                // The shard's own queue takes the continuation as it is: no wrapper.
                shard.Shard.Post(new WorkItem(continuation, state));
                return;
            case SynchronizationContext context:
                context.Post(static s => ((Tuple<Action<object?>, object?>)s!).Item1(((Tuple<Action<object?>, object?>)s!).Item2), Tuple.Create(continuation, state));
                return;
            case TaskScheduler scheduler:
                _ = Task.Factory.StartNew(continuation, state, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                return;
        }

        if (_executionContext is { } executionContext)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static s => ExecutionContext.Run(s.Context, s.Continuation, s.State),
                (Context: executionContext, Continuation: new ContextCallback(continuation), State: state),
                preferLocal: false);
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(continuation, state, preferLocal: false);
    }

    private static InvalidOperationException AwaitedTwice() =>
        new("This operation is already being awaited; a ValueTask may be awaited only once.");

    private readonly void Validate(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException(
                "This ValueTask is stale: its result was already consumed, or the operation object has been reused (double await or await after completion).");
        }
    }
}
