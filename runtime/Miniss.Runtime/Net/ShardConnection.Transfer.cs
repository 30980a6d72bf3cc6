using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.Buffers;
using Miniss.IO;
using Miniss.Net.Internal;

namespace Miniss.Net;

// Receiving and sending: into user memory, pool buffers, or several buffers at once.
public sealed partial class ShardConnection
{
    /// <summary>How many buffers one vectored write takes at most; longer lists are sent in several writes.</summary>
    public const int MaxBuffersPerWrite = IoVector.Capacity;

    private ReceiveOperation? _receive;
    private SendOperation? _send;

    /// <summary>
    /// Receives up to <c>buffer.Length</c> bytes into <paramref name="buffer"/>, waiting until at least one byte has
    /// arrived. On the owning shard; allocates nothing in steady state (one receive at a time). <paramref name="buffer"/>
    /// belongs to the kernel until the await completes. Await the result once.
    /// </summary>
    /// <returns>How many bytes were received; 0 when the peer has shut down its side (end of stream), and at once for
    /// an empty buffer.</returns>
    /// <exception cref="SocketException">The connection failed (<see cref="SocketError.ConnectionReset"/> when the peer
    /// reset it), or was disposed while the receive was pending (<see cref="SocketError.OperationAborted"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    /// <exception cref="ObjectDisposedException">The connection is disposed (thrown by the await).</exception>
    /// <exception cref="InvalidOperationException">Called off the owning shard (thrown by the call).</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureOnShard();
        if (IsDisposed)
        {
            return ValueTask.FromException<int>(new ObjectDisposedException(nameof(ShardConnection)));
        }

        if (TryReceiveMultishot(out MultishotReceiver multishot))
        {
            return multishot.ReceiveAsync(buffer, cancellationToken);
        }

        ReceiveOperation receive = _receive ??= new ReceiveOperation(this);
        return receive.InUse ? ReceiveConcurrentlyAsync(buffer, cancellationToken) : receive.Start(buffer, cancellationToken);
    }

    /// <summary>A receive while another is in flight (the reusable one is busy): the same single-shot path, through an
    /// operation of its own; a receive that never reached the kernel is reported as a pending one would be.</summary>
    private async ValueTask<int> ReceiveConcurrentlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await new ReceiveOperation(this).Start(buffer, cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            throw Failure("recv", e);
        }
    }

    /// <summary>
    /// Receives up to <paramref name="maxLength"/> bytes into a buffer of the owning shard's pool
    /// (<see cref="Shard.Buffers"/>). The caller owns the returned buffer and frees it with
    /// <c>Shard.Buffers.Deallocate</c>; when the receive fails, the buffer is freed here. On the owning shard.
    /// </summary>
    /// <returns>How many bytes were received (0 at end of stream) and the buffer holding them.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is not positive.</exception>
    /// <exception cref="InsufficientMemoryException">The pool has no buffer of that size left.</exception>
    /// <inheritdoc cref="ReceiveAsync(Memory{byte}, CancellationToken)" path="/exception"/>
    public async ValueTask<(int BytesReceived, BufferHandle Buffer)> ReceiveAsync(int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        EnsureUsable();
        BufferHandle buffer = Shard.Buffers.Allocate(maxLength)
            ?? throw new InsufficientMemoryException($"shard {Shard.Id}'s buffer pool has no buffer of {maxLength} bytes left (see Shard.Buffers.Stats)");
        try
        {
            int received = await ReceiveAsync(buffer.Memory, cancellationToken).ConfigureAwait(true);
            return (received, buffer);
        }
        catch
        {
            Shard.Buffers.Deallocate(buffer);
            throw;
        }
    }

    /// <summary>
    /// Sends all of <paramref name="buffer"/>, repeating short sends; completes when the kernel has taken the last
    /// byte, not when the peer has received it. On the owning shard; allocates nothing in steady state (one send at a
    /// time). <paramref name="buffer"/> belongs to the kernel until the await completes. Await the result once.
    /// </summary>
    /// <exception cref="SocketException">The connection failed: <see cref="SocketError.ConnectionReset"/> when the peer
    /// reset it, <see cref="SocketError.Shutdown"/> when it is gone (EPIPE), <see cref="SocketError.OperationAborted"/>
    /// when the connection was disposed while the send was pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first; how much
    /// was sent is then unknown.</exception>
    /// <exception cref="ObjectDisposedException">The connection is disposed (thrown by the await).</exception>
    /// <exception cref="InvalidOperationException">Called off the owning shard (thrown by the call).</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureOnShard();
        if (IsDisposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(ShardConnection)));
        }

        SendOperation send = _send ??= new SendOperation(this);
        return send.InUse ? SendConcurrentlyAsync(buffer, cancellationToken) : send.Start(buffer, cancellationToken);
    }

    /// <summary>A send while another is in flight (the reusable one is busy): same outcome, one allocation. The two
    /// sends' bytes may interleave.</summary>
    private async ValueTask SendConcurrentlyAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        OnSendStarted();
        try
        {
            while (!buffer.IsEmpty)
            {
                int sent = await IoOperations.SendAsync(Handle, buffer, SendOperation.Flags, cancellationToken).ConfigureAwait(true);
                buffer = buffer[Progress(sent, "send")..];
            }
        }
        catch (Exception e)
        {
            throw Failure("send", e);
        }
        finally
        {
            OnSendEnded();
        }
    }

    /// <summary>Sends the first <paramref name="length"/> bytes of a pool buffer; the caller keeps the buffer. See
    /// <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or past the buffer's size.</exception>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)" path="/exception"/>
    public ValueTask SendAsync(BufferHandle buffer, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Size);
        return SendAsync(buffer.Memory[..length], cancellationToken);
    }

    /// <summary>
    /// Sends several buffers in order with vectored writes (<c>writev</c>, up to
    /// <see cref="MaxBuffersPerWrite"/> buffers each), repeating short writes until all are sent. See
    /// <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> for ownership and errors.
    /// </summary>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)" path="/exception"/>
    public ValueTask SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        EnsureOnShard();
        if (IsDisposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(ShardConnection)));
        }

        switch (buffers.Count)
        {
            case 0:
                return ValueTask.CompletedTask;
            case 1:
                return SendAsync(buffers[0], cancellationToken);
        }

        ReadOnlyMemory<byte>[] segments = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(buffers.Count);
        for (int i = 0; i < buffers.Count; i++)
        {
            segments[i] = buffers[i];
        }

        return SendSegmentsAsync(segments, buffers.Count, cancellationToken);
    }

    /// <summary>
    /// Sends every segment of <paramref name="buffers"/> in order with vectored writes (a pipe's or a
    /// <see cref="System.Buffers.ReadOnlySequence{T}"/> builder's output without copying). See
    /// <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> for ownership and errors.
    /// </summary>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)" path="/exception"/>
    public ValueTask SendAsync(ReadOnlySequence<byte> buffers, CancellationToken cancellationToken = default)
    {
        EnsureOnShard();
        if (IsDisposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(ShardConnection)));
        }

        if (buffers.IsSingleSegment)
        {
            return SendAsync(buffers.First, cancellationToken);
        }

        int count = 0;
        foreach (ReadOnlyMemory<byte> segment in buffers)
        {
            count++;
        }

        ReadOnlyMemory<byte>[] segments = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(count);
        int index = 0;
        foreach (ReadOnlyMemory<byte> segment in buffers)
        {
            segments[index++] = segment;
        }

        return SendSegmentsAsync(segments, count, cancellationToken);
    }

    /// <summary>Sends <paramref name="count"/> segments of a rented array, which it returns to the pool at the end.</summary>
    private async ValueTask SendSegmentsAsync(ReadOnlyMemory<byte>[] segments, int count, CancellationToken cancellationToken)
    {
        IoVector vector = IoVector.Allocate();
        nint message = SendOperation.AllocateMessage();
        OnSendStarted();
        try
        {
            int index = 0;
            while (true)
            {
                while (index < count && segments[index].IsEmpty)
                {
                    index++;
                }

                if (index == count)
                {
                    return;
                }

                int batch = vector.Pin(segments, index, count);
                SendOperation.SetMessage(message, vector.Address, batch);
                int sent;
                try
                {
                    sent = await IoOperations.SendMessageAsync(Handle, message, SendOperation.Flags, cancellationToken).ConfigureAwait(true);
                }
                finally
                {
                    vector.Unpin();
                }

                sent = Progress(sent, "sendmsg");
                while (sent > 0)
                {
                    int length = segments[index].Length;
                    if (sent >= length)
                    {
                        sent -= length;
                        index++;
                    }
                    else
                    {
                        segments[index] = segments[index][sent..];
                        sent = 0;
                    }
                }
            }
        }
        catch (Exception e)
        {
            throw Failure("sendmsg", e);
        }
        finally
        {
            OnSendEnded();
            SendOperation.FreeMessage(message);
            vector.Dispose();
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(segments, clearArray: true);
        }
    }

    /// <summary>
    /// Shuts down one direction of the connection, or both (<c>shutdown</c>). Shutting down
    /// <see cref="SocketShutdown.Send"/> is the half-close: the peer receives the end of the stream and may still send.
    /// On the owning shard.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="how"/> is not a <see cref="SocketShutdown"/> value.</exception>
    /// <exception cref="SocketException">The kernel refused (<see cref="SocketError.NotConnected"/> after a reset).</exception>
    /// <exception cref="ObjectDisposedException">The connection is disposed.</exception>
    /// <exception cref="InvalidOperationException">Called off the owning shard.</exception>
    public async ValueTask ShutdownAsync(SocketShutdown how = SocketShutdown.Send, CancellationToken cancellationToken = default)
    {
        int native = how switch
        {
            SocketShutdown.Receive => Sockets.SHUT_RD,
            SocketShutdown.Send => Sockets.SHUT_WR,
            SocketShutdown.Both => Sockets.SHUT_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "not a SocketShutdown value"),
        };
        EnsureUsable();
        await IoOperations.ShutdownAsync(Handle, native, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Checks a transfer's count: a connection disposed meanwhile aborts, and a transfer that made no
    /// progress on a non-empty buffer is an error rather than a reason to loop forever.</summary>
    private int Progress(int transferred, string operation)
    {
        if (IsDisposed)
        {
            throw Aborted(operation);
        }

        return transferred > 0
            ? transferred
            : throw NativeSocket.Error(Errno.EPIPE, operation);
    }

    /// <summary>The exception a failed operation reports: its own, unless the connection was disposed under it
    /// (then <see cref="SocketError.OperationAborted"/>). A cancellation stays a cancellation.</summary>
    internal Exception Failure(string operation, Exception error) =>
        IsDisposed && error is not OperationCanceledException && error is not SocketException { SocketErrorCode: SocketError.OperationAborted }
            ? Aborted(operation, error)
            : error;

    internal void OnReceiveStarted() => _receiving++;

    internal void OnReceiveEnded() => _receiving--;

    internal void OnSendStarted() => _sending++;

    internal void OnSendEnded() => _sending--;
}
