using System;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
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
/// The execution context does not flow, as with the ring's own operations.
/// </remarks>
internal abstract class ConnectionOperation : ConnectionAwaitable
{
    private readonly Action _onOperationCompleted;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pending;

    protected ConnectionOperation(ShardConnection connection)
        : base(ContinuationPolicy.InlineOnShard)
    {
        Connection = connection;
        _onOperationCompleted = OnOperationCompleted;
    }

    protected ShardConnection Connection { get; }

    /// <inheritdoc/>
    protected override Shard Owner => Connection.Shard;

    /// <summary>Starts the next life: not completed, nobody awaiting.</summary>
    protected void Begin() => BeginLife();

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
    protected void Complete(int result, Exception? error) =>
        // Last: the continuation (run inline) may start the next operation on this object.
        SetOutcome(result, error);

    private void OnOperationCompleted()
    {
        ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation = _pending;
        _pending = default;
        OnCompleted(operation);
    }
}
