using System;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Miniss.AspNetCore.Internal;

/// <summary>
/// The connection's input as Kestrel reads it: the pipe's reader, except that a read started off the connection's
/// shard is carried out on the shard, and completes there. Kestrel starts serving a connection on the thread pool, and
/// code that left the shard (an await that resumed elsewhere) comes back through here when it reads: the caller's
/// continuation (HTTP parsing, the application) then runs on the shard. A read on the shard costs one comparison more.
/// </summary>
/// <remarks>
/// A read from elsewhere completes through its own <see cref="IValueTaskSource{TResult}"/> rather than an async method:
/// a task completed on the shard would not run a context-free continuation inline there (the shard's thread has a
/// synchronization context, so the continuation would be queued to the thread pool). The read is started on the
/// shard only once the caller has registered its continuation, so it cannot complete before and be run elsewhere.
/// One such read at a time, as for any <see cref="PipeReader"/>; it is reused and allocates nothing after the first.
/// <code>
///   ReadAsync off the shard ──► Pending ──OnCompleted──► posted to the shard ──► inner read completes ──► SetResult
///                                                                                 (at once, or when its data comes)   (caller resumes inline, on the shard)
/// </code>
/// </remarks>
internal sealed class ShardAffineReader(Shard shard, PipeReader inner) : PipeReader
{
    private OffShardRead? _offShard;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        Shard.Current == shard ? inner.ReadAsync(cancellationToken) : (_offShard ??= new OffShardRead(shard, inner)).Start(cancellationToken);

    public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private sealed class OffShardRead : IValueTaskSource<ReadResult>
    {
        private static readonly Action<object?> s_readOnShard = static state => ((OffShardRead)state!).ReadOnShard();

        private readonly Shard _shard;
        private readonly PipeReader _inner;
        private readonly Action _onInnerCompleted;
        private ManualResetValueTaskSourceCore<ReadResult> _core;
        private CancellationToken _cancellationToken;
        private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pending;

        public OffShardRead(Shard shard, PipeReader inner)
        {
            _shard = shard;
            _inner = inner;
            _onInnerCompleted = OnInnerCompleted;
        }

        public ValueTask<ReadResult> Start(CancellationToken cancellationToken)
        {
            _core.Reset();
            _cancellationToken = cancellationToken;
            return new ValueTask<ReadResult>(this, _core.Version);
        }

        public ReadResult GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _core.OnCompleted(continuation, state, token, flags);
            _shard.Post(s_readOnShard, this);
        }

        private void ReadOnShard()
        {
            try
            {
#pragma warning disable CA2012 // The read's awaiter is kept to be consumed once, by OnInnerCompleted.
                _pending = _inner.ReadAsync(_cancellationToken).ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
            }
            catch (Exception e)
            {
                _core.SetException(e);
                return;
            }

            if (_pending.IsCompleted)
            {
                OnInnerCompleted();
            }
            else
            {
                _pending.UnsafeOnCompleted(_onInnerCompleted);
            }
        }

        private void OnInnerCompleted()
        {
            ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter pending = _pending;
            _pending = default;
            ReadResult result;
            try
            {
                result = pending.GetResult();
            }
            catch (Exception e)
            {
                _core.SetException(e);
                return;
            }

            _core.SetResult(result);
        }
    }
}
