using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Miniss.Net.Internal;

/// <summary>
/// The application's side of a <see cref="ConnectionPipe"/>'s input: the pipe's own reader, plus a count of the
/// received bytes the application has not consumed, which is what <see cref="ConnectionPipeOptions.MaxBufferedInput"/>
/// bounds. Everything runs on the connection's shard.
/// </summary>
/// <remarks>
/// <para>A <see cref="Pipe"/>'s own pause threshold cannot be that bound: it counts the bytes the reader has not
/// <i>examined</i>, so a parser that examines everything while waiting for the end of a message (an HTTP head without
/// its blank line) releases it at every read, and the input grows without limit. This reader counts what
/// <c>AdvanceTo</c> consumes, from the buffer of the read it ends.</para>
/// <para>When the bound is reached and the application then examines all it holds without consuming any, it waits for
/// bytes the bound keeps out: instead of hanging, its next read fails with an <see cref="IOException"/> that names the
/// limit.</para>
/// <para>Reads that complete at once cost nothing more; a read that waits completes through this object (reused), and
/// its continuation runs where the pipe's would have, on the shard, without an extra hop.</para>
/// </remarks>
internal sealed class ConnectionInputReader : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly PipeReader _inner;
    private readonly long _limit;
    private readonly long _resumeBelow;
    private readonly ReceiveRoom _room;
    private readonly Action _onReadCompleted;
    private ManualResetValueTaskSourceCore<ReadResult> _read;
    private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pending;

    // The buffer of the read the application holds (between a read and its AdvanceTo): consumption is measured on it.
    private ReadOnlySequence<byte> _held;
    private bool _holding;
    private long _buffered;

    // The application's last AdvanceTo examined everything with the bound reached: the receive loop must not wait.
    private bool _starved;
    private bool _completed;

    public ConnectionInputReader(Shard shard, PipeReader inner, long limit)
    {
        _inner = inner;
        _limit = limit;
        _resumeBelow = limit / 2;
        _room = new ReceiveRoom(shard);
        _onReadCompleted = OnReadCompleted;
    }

    /// <summary>Received bytes the application has not consumed.</summary>
    public long BufferedBytes => _buffered;

    /// <summary>How many bytes the receive loop may still receive before it waits.</summary>
    public long Room => _limit - _buffered;

    /// <summary>The receive loop flushed <paramref name="count"/> more bytes into the pipe.</summary>
    public void OnReceived(int count) => _buffered += count;

    /// <summary>The receive loop's wait while <see cref="Room"/> is 0: true to receive again, false when the application
    /// completed its input; fails when the application waits for bytes the bound keeps out.</summary>
    public ValueTask<bool> WaitForRoomAsync() =>
        _completed ? new ValueTask<bool>(false)
        : _starved ? ValueTask.FromException<bool>(BoundReached())
        : _room.WaitAsync();

    /// <inheritdoc/>
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> read = _inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Hold(read.Result));
        }

        _read.Reset();
        _pending = read.ConfigureAwait(false).GetAwaiter();
        _pending.UnsafeOnCompleted(_onReadCompleted);
        return new ValueTask<ReadResult>(this, _read.Version);
    }

    /// <inheritdoc/>
    public override bool TryRead(out ReadResult result)
    {
        if (_inner.TryRead(out result))
        {
            Hold(result);
            return true;
        }

        return false;
    }

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        bool examinedAll = false;
        if (_holding)
        {
            // Measured before the pipe recycles the segments the buffer spans.
            long left = _held.Slice(consumed).Length;
            examinedAll = _held.Slice(examined).IsEmpty;
            _buffered -= _held.Length - left;
            _held = default;
            _holding = false;
        }

        _inner.AdvanceTo(consumed, examined);
        _starved = examinedAll && _buffered >= _limit;
        if (!_room.IsWaiting)
        {
            return;
        }

        if (_buffered < _resumeBelow || (examinedAll && _buffered < _limit))
        {
            // Below the resume mark, or the application needs more bytes and there is room for some.
            _room.Open(receive: true);
        }
        else if (_starved)
        {
            _room.Fail(BoundReached());
        }
    }

    /// <inheritdoc/>
    public override void CancelPendingRead() => _inner.CancelPendingRead();

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        _completed = true;
        _inner.Complete(exception);
        _room.Open(receive: false);
    }

    /// <inheritdoc/>
    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        _completed = true;
        await _inner.CompleteAsync(exception).ConfigureAwait(true);
        _room.Open(receive: false);
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _read.GetStatus(token);

    // The pipe's continuations run on the shard's queue, not on a captured context (as the pipe's own, made with
    // useSynchronizationContext: false).
    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext);

    private ReadResult Hold(ReadResult result)
    {
        _held = result.Buffer;
        _holding = true;
        return result;
    }

    /// <summary>The pipe's read completed (on the shard, through the pipe's scheduler).</summary>
    private void OnReadCompleted()
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
            _read.SetException(e);
            return;
        }

        _read.SetResult(Hold(result));
    }

    private IOException BoundReached() => new(
        $"The connection's unconsumed input reached ConnectionPipeOptions.MaxBufferedInput ({_limit} bytes) and the " +
        "application examined all of it without consuming any, so it waits for bytes the bound keeps out. Consume what " +
        "has been parsed, cap the size of a message below the bound, or raise MaxBufferedInput.");
}
