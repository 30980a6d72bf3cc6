using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Catalog;
using Miniss.IO.Uring;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// A connection's receive side on a multishot receive: one <c>IORING_OP_RECV</c> with <c>IORING_RECV_MULTISHOT</c> and
/// buffer selection stays armed in the kernel, each completion names a buffer of the shard's
/// <see cref="ProvidedBufferRing"/> holding what arrived, and those (buffer id, length) pairs queue here until
/// <see cref="ShardConnection.ReceiveAsync(Memory{byte}, CancellationToken)"/> copies them out, which gives each
/// consumed buffer back to the ring. Everything runs on the connection's shard. The kernel side (armed, cancelling,
/// unsupported) is the <see cref="MultishotStream"/>'s; a receive the ring cannot serve goes to the single-shot path,
/// <see cref="ReceiveOperation"/>.
/// </summary>
/// <remarks>
/// <code>
///   idle ──receive waits──► armed ──data──► queued ──receive copies──► buffers recycled
///                            ├── a full queue (an eighth of the ring unread) ──► cancelled: armed again by the next
///                            │                            receive that finds the queue empty
///                            ├── ENOBUFS (ring empty) ──► not armed: armed again by the next receive that finds the
///                            │                            queue empty, or, when the ring is still empty, that receive
///                            │                            goes to the kernel as a single-shot receive (no deadlock
///                            │                            when other connections hold every buffer)
///                            ├── res 0 / -errno ────────► terminal: delivered once the queue is drained, then the
///                            │                            connection receives single-shot (the kernel's own answer)
///                            └── EINVAL before any multishot worked on this shard ──► the kernel lacks multishot
///                                                         receives: single-shot from then on, on the whole shard
/// </code>
/// Every buffer id a completion carries goes back to the ring: when consumed, when the connection is disposed (its
/// queue is dropped), when the shard stops (the stop cancels the receive; its last completion drops the queue), and
/// when it arrives for a connection already disposed.
/// </remarks>
internal sealed class MultishotReceiver : MultishotStream
{
    private static readonly Action<object?> s_releaseQueued = static state => ((MultishotReceiver)state!).ReleaseQueued();

    private readonly ShardConnection _connection;
    private readonly ProvidedBufferRing _ring;
    private readonly ReceiveWaiter _reusable;
    private readonly List<ReceiveWaiter> _waiters = new(2);
    private readonly Action _onSingleShotCompleted;
    private Chunk[] _chunks = new Chunk[8];
    private int _head;
    private int _count;
    private Terminal _terminal;
    private int _terminalErrno;

    // The terminal outcome reached a receive: from then on receives go to the kernel single-shot.
    private bool _finished;
    private ReceiveWaiter? _singleShotFor;
    private ReceiveOperation? _singleShotReceive;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _singleShot;

    public MultishotReceiver(ShardConnection connection, ProvidedBufferRing ring)
        : base(connection.Shard)
    {
        _connection = connection;
        _ring = ring;
        _reusable = new ReceiveWaiter(this);
        _onSingleShotCompleted = OnSingleShotCompleted;
    }

    private enum Terminal
    {
        None,
        EndOfStream,
        Error,
        Aborted,
        Stopped,
    }

    /// <summary>Whether receives still go through this receiver: false once it has delivered its terminal outcome (or
    /// the kernel refused multishot receives) and holds nothing, so that receives go to the kernel single-shot.</summary>
    public bool IsActive => _count > 0 || _waiters.Count > 0 || _singleShotFor is not null || !(_finished || State == MultishotState.Unsupported);

    /// <summary>Whether the connection received through the multishot receive (false once the kernel refused it).</summary>
    public bool UsesMultishot => State != MultishotState.Unsupported;

    /// <inheritdoc/>
    protected override SafeHandle Handle => _connection.Handle;

    /// <summary>Bytes received and not consumed yet.</summary>
    public int QueuedBytes
    {
        get
        {
            int total = 0;
            for (int i = 0; i < _count; i++)
            {
                ref Chunk chunk = ref _chunks[(_head + i) & (_chunks.Length - 1)];
                total += chunk.Length - chunk.Offset;
            }

            return total;
        }
    }

    /// <summary>A receive: what is queued at once, else waits for the multishot receive (armed if it is not).</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (_waiters.Count == 0)
        {
            if (_count > 0 || buffer.IsEmpty)
            {
                return new ValueTask<int>(CopyOut(buffer.Span));
            }

            if (_terminal != Terminal.None)
            {
                // Nobody was waiting when the receive ended: this receive hears of it.
                _finished = true;
                return _terminal == Terminal.EndOfStream ? new ValueTask<int>(0) : ValueTask.FromException<int>(TerminalError());
            }
        }

        ReceiveWaiter waiter = _reusable.InUse ? new ReceiveWaiter(this) : _reusable;
        waiter.Begin(buffer, cancellationToken);
        _waiters.Add(waiter);
        Pump();
        return waiter.Task;
    }

    /// <summary>The connection was disposed (any thread): its queued data is dropped and the buffers recycled, on the
    /// shard. A multishot receive still armed ends by the dispose's shutdown.</summary>
    public void OnConnectionDisposed()
    {
        if (Shard.Current == Shard)
        {
            ReleaseQueued();
        }
        else
        {
            Shard.Post(new WorkItem(s_releaseQueued, this));
        }
    }

    /// <summary>A waiter's token fired (on the shard). A waiter that the kernel serves single-shot is cancelled by
    /// the kernel instead (the operation watches the same token).</summary>
    internal void OnWaiterCancelled(ReceiveWaiter waiter)
    {
        if (_singleShotFor == waiter)
        {
            return;
        }

        CancellationToken token = waiter.Token;
        _waiters.Remove(waiter);
        waiter.Fail(new OperationCanceledException("recv was cancelled.", token));
    }

    /// <inheritdoc/>
    protected override void OnItem(int result, uint flags, bool more)
    {
        if ((flags & IoUring.IORING_CQE_F_BUFFER) != 0)
        {
            var id = (ushort)(flags >> IoUring.IORING_CQE_BUFFER_SHIFT);
            _ring.OnHandedOut();
            if (result > 0 && !_connection.IsDisposed && _terminal is not (Terminal.Aborted or Terminal.Stopped))
            {
                Enqueue(id, result);
                if (more && _count >= MaxQueuedBuffers(_ring))
                {
                    // The application is not reading: stop filling the shard's shared ring for it, or one slow reader
                    // takes every buffer from the shard's other connections. Armed again once its queue is drained.
                    RequestCancel();
                }
            }
            else
            {
                _ring.Recycle(id);
                if (result > 0 && _connection.IsDisposed && IsArmed)
                {
                    // Data for a connection that is closed: nobody will read it. Received after the shutdown, it leaves
                    // the kernel's queue empty, so the close would be a FIN, and after a shutdown the kernel no longer
                    // reopens the window it had closed: a peer still sending would wait on a zero window until the
                    // FIN-WAIT-2 timeout. Unread data makes the close a reset, as it does when it is still queued.
                    NativeSocket.ResetOnClose((int)_connection.Handle.DangerousGetHandle());
                    if (more)
                    {
                        RequestCancel();
                    }
                }
            }
        }

        if (more || result > 0)
        {
            Shard.Networking.MultishotReceiveConfirmed = true;
        }
    }

    /// <inheritdoc/>
    protected override void OnCompletionHandled() => Pump();

    /// <summary>The multishot receive's last completion: decide whether it can be armed again or is over.</summary>
    protected override void OnEnded(int result)
    {
        _connection.OnReceiveEnded();
        if (_connection.IsDisposed)
        {
            SetTerminal(Terminal.Aborted, 0);
            ReleaseQueued();
        }
        else if (Shard.IsRejecting)
        {
            // The shard's stop cancelled it: the data queued goes back too, the ring goes with the shard.
            SetTerminal(Terminal.Stopped, Errno.ECANCELED);
            ReleaseQueued();
        }
        else if (result > 0 || result == -Errno.ECANCELED)
        {
            // Ended after data (the kernel may stop a multishot receive, e.g. when its completion queue overflowed):
            // armed again when a receive needs it.
        }
        else if (result == -Errno.ENOBUFS)
        {
            Shard.Networking.CountBufferStarvation();
        }
        else if (result == -Errno.EINVAL && !Shard.Networking.MultishotReceiveConfirmed)
        {
            // The kernel knows buffer rings but not multishot receives (5.19): single-shot on this shard from now on.
            Shard.Networking.MultishotReceiveUnsupported = true;
            MarkUnsupported();
        }
        else if (result == 0)
        {
            SetTerminal(Terminal.EndOfStream, 0);
        }
        else
        {
            SetTerminal(Terminal.Error, -result);
        }
    }

    /// <summary>How many of the ring's buffers one connection may hold unread before its multishot receive is paused:
    /// an eighth of the ring (32 of the default 256, 256 KiB), at least 4.</summary>
    internal static int MaxQueuedBuffers(ProvidedBufferRing ring) => Math.Max(4, ring.Count / 8);

    private void SetTerminal(Terminal terminal, int errno)
    {
        if (_terminal is Terminal.None or Terminal.EndOfStream or Terminal.Error)
        {
            _terminal = terminal;
            _terminalErrno = errno;
        }
    }

    /// <summary>Moves the receive along after any change: serves waiters from the queue, delivers the terminal
    /// outcome once the queue is drained, and otherwise makes sure something in the kernel works for the first waiter.</summary>
    private void Pump()
    {
        while (_waiters.Count > 0)
        {
            if (_count > 0)
            {
                ReceiveWaiter served = _waiters[0];
                _waiters.RemoveAt(0);
                served.Succeed(CopyOut(served.Destination.Span));
                continue;
            }

            if (_terminal != Terminal.None)
            {
                DeliverTerminal();
                return;
            }

            if (IsArmed || _singleShotFor is not null)
            {
                return;
            }

            if (State != MultishotState.Unsupported && _ring.Available > 0 && Shard.Networking.CanArmMultishot && TryArmReceive())
            {
                return;
            }

            StartSingleShot(_waiters[0]);
            return;
        }
    }

    private void DeliverTerminal()
    {
        _finished = true;
        while (_waiters.Count > 0)
        {
            ReceiveWaiter waiter = _waiters[0];
            _waiters.RemoveAt(0);
            if (_terminal == Terminal.EndOfStream)
            {
                waiter.Succeed(0);
            }
            else
            {
                waiter.Fail(TerminalError());
            }
        }
    }

    private Exception TerminalError() => _terminal switch
    {
        Terminal.Aborted => ShardConnection.Aborted("recv"),
        _ => _connection.Failure("recv", IoErrors.Create(_terminalErrno, "recv", IoDomain.Socket, null)),
    };

    /// <summary>Arms the multishot receive; a closed handle ends the stream instead. True either way: the first
    /// waiter is taken care of.</summary>
    private bool TryArmReceive()
    {
        if (!TryArm())
        {
            SetTerminal(Terminal.Aborted, 0);
            Pump();
            return true;
        }

        _connection.OnReceiveStarted();
        Shard.Networking.CountMultishotReceiveArmed();
        return true;
    }

    /// <inheritdoc/>
    protected override unsafe void Prepare(io_uring_sqe* sqe, int fd, ulong userData)
    {
        IoOperations.PrepareMultishotReceive(sqe, fd, ProvidedBufferRing.GroupId, userData);
    }

    /// <summary>The first waiter goes to the kernel as an ordinary receive into its own memory: the ring has no free
    /// buffer (other connections hold them all), or the kernel cannot do multishot receives.</summary>
    private void StartSingleShot(ReceiveWaiter waiter)
    {
        _singleShotFor = waiter;
        Shard.Networking.CountSingleShotReceive();

        // The connection's single-shot path, with an operation of its own: the connection's may be busy.
        _singleShotReceive ??= new ReceiveOperation(_connection);
        Await(_singleShotReceive.Start(waiter.Destination, waiter.Token));
    }

    private void Await(ValueTask<int> operation)
    {
        _singleShot = operation.ConfigureAwait(false).GetAwaiter();
        if (_singleShot.IsCompleted)
        {
            OnSingleShotCompleted();
        }
        else
        {
            _singleShot.UnsafeOnCompleted(_onSingleShotCompleted);
        }
    }

    private void OnSingleShotCompleted()
    {
        ReceiveWaiter waiter = _singleShotFor!;
        ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation = _singleShot;
        _singleShot = default;
        _singleShotFor = null;
        _waiters.Remove(waiter);
        bool empty = waiter.Destination.IsEmpty;
        try
        {
            // The receive operation already turned a receive that a dispose woke into SocketError.OperationAborted.
            int received = operation.GetResult();
            if (received == 0 && !empty)
            {
                SetTerminal(Terminal.EndOfStream, 0);
            }

            waiter.Succeed(received);
        }
        catch (Exception e)
        {
            if (_connection.IsDisposed)
            {
                SetTerminal(Terminal.Aborted, 0);
            }

            waiter.Fail(_connection.Failure("recv", e));
        }

        Pump();
    }

    private int CopyOut(Span<byte> destination)
    {
        int total = 0;
        while (_count > 0 && total < destination.Length)
        {
            ref Chunk chunk = ref _chunks[_head];
            int length = Math.Min(chunk.Length - chunk.Offset, destination.Length - total);
            _ring.Data(chunk.Id, chunk.Length).Slice(chunk.Offset, length).CopyTo(destination[total..]);
            chunk.Offset += length;
            total += length;
            if (chunk.Offset == chunk.Length)
            {
                _ring.Recycle(chunk.Id);
                _head = (_head + 1) & (_chunks.Length - 1);
                _count--;
            }
        }

        return total;
    }

    private void Enqueue(ushort id, int length)
    {
        if (_count == _chunks.Length)
        {
            // Grows (rarely: a connection holds at most the ring's count) keeping the order.
            var grown = new Chunk[_chunks.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                grown[i] = _chunks[(_head + i) & (_chunks.Length - 1)];
            }

            _chunks = grown;
            _head = 0;
        }

        _chunks[(_head + _count) & (_chunks.Length - 1)] = new Chunk { Id = id, Length = length };
        _count++;
    }

    /// <summary>Drops what is queued and gives every buffer back to the ring. On the shard only: off it (the shard
    /// has stopped and the ring with it) there is nothing to give back to.</summary>
    private void ReleaseQueued()
    {
        if (Shard.Current != Shard)
        {
            return;
        }

        while (_count > 0)
        {
            _ring.Recycle(_chunks[_head].Id);
            _head = (_head + 1) & (_chunks.Length - 1);
            _count--;
        }
    }

    private struct Chunk
    {
        public ushort Id;
        public int Length;
        public int Offset;
    }
}
