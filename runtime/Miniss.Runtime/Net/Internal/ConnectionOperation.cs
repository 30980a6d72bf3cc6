using System;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// A reusable awaitable for one connection's receive (or send): the connection hands out a <see cref="ValueTask"/>
/// backed by this object instead of an async method's box, so a steady stream of receives and sends allocates
/// nothing. It awaits the ring's operation (an <see cref="IO.IoPromise"/>) with a cached callback, maps its outcome
/// (a connection disposed meanwhile turns into <see cref="SocketError.OperationAborted"/>) and resumes the awaiter.
/// </summary>
/// <remarks>
/// <code>
///   idle ──Begin──► running ──(ring operation completes; a send may submit more)──► completed ──GetResult──► idle
///                      └──OnCompleted: the awaiter's continuation, run inline at completion──┘    (version + 1)
/// </code>
/// Everything happens on the connection's shard: <see cref="Begin"/> and the awaits are on it, and the ring's
/// completion callback runs from its run queue, which is why the awaiter's continuation can run inline there. Not
/// supported (the connection falls back to an async method instead): a second operation while one is running.
/// Unlike a <c>ManualResetValueTaskSourceCore</c>, it ignores the awaiter's <see cref="System.Threading.SynchronizationContext"/>
/// (it is the shard's, where the continuation runs anyway), which would cost an allocation per completion to post to.
/// The execution context does not flow, as with the ring's own operations.
/// </remarks>
internal abstract class ConnectionOperation : IValueTaskSource<int>, IValueTaskSource
{
    private readonly Action _onOperationCompleted;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pending;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExceptionDispatchInfo? _error;
    private int _result;
    private short _version;
    private bool _completed;

    protected ConnectionOperation(ShardConnection connection)
    {
        Connection = connection;
        _onOperationCompleted = OnOperationCompleted;
    }

    /// <summary>Whether an operation is running or completed and not yet awaited.</summary>
    public bool InUse { get; private set; }

    protected ShardConnection Connection { get; }

    protected short Version => _version;

    /// <summary>Starts the next life: not completed, nobody awaiting.</summary>
    protected void Begin()
    {
        InUse = true;
        _completed = false;
        _error = null;
        _result = 0;
        _continuation = null;
        _continuationState = null;
    }

    /// <summary>Waits for the ring's pending <paramref name="operation"/>; its completion comes back to
    /// <see cref="OnCompleted(ConfiguredValueTaskAwaitable{int}.ConfiguredValueTaskAwaiter)"/>. The callback is cached,
    /// and the ring's promise queues it on the shard's run queue: nothing is allocated.</summary>
    protected void Await(ValueTask<int> operation)
    {
        // ConfigureAwait(false) only spares the awaiter a context lookup: the ring's promise runs every continuation on
        // its shard (this connection's) whatever the flag says.
        _pending = operation.ConfigureAwait(false).GetAwaiter();
        _pending.UnsafeOnCompleted(_onOperationCompleted);
    }

    /// <summary>The ring's operation completed: read it (its <c>GetResult</c> returns the promise to the pool), and
    /// either <see cref="Complete"/> or <see cref="Await"/> the next one.</summary>
    protected abstract void OnCompleted(ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation);

    /// <summary>Ends the operation with <paramref name="result"/> or <paramref name="error"/> and resumes the awaiter.</summary>
    protected void Complete(int result, Exception? error)
    {
        _result = result;
        _error = error is null ? null : ExceptionDispatchInfo.Capture(error);
        _completed = true;
        Action<object?>? continuation = _continuation;
        if (continuation is not null)
        {
            // Last: the continuation may start the next operation on this object.
            _continuation = null;
            continuation(_continuationState);
        }
    }

    private void OnOperationCompleted()
    {
        ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation = _pending;
        _pending = default;
        OnCompleted(operation);
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
        if (Shard.Current != Connection.Shard)
        {
            throw new InvalidOperationException($"An operation of a connection of shard {Connection.Shard.Id} must be awaited there.");
        }

        if (_completed)
        {
            Connection.Shard.Post(new WorkItem(continuation, state));
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
