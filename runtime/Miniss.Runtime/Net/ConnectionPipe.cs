using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks;
using Miniss.Net.Internal;

namespace Miniss.Net;

/// <summary>
/// An <see cref="IDuplexPipe"/> over a <see cref="ShardConnection"/>, so protocol code written against
/// <see cref="PipeReader"/> and <see cref="PipeWriter"/> (a Kestrel-style parser) runs on Miniss. Two loops on the
/// connection's shard move the bytes: one receives into <see cref="Input"/>, one sends what the application flushes
/// to <see cref="Output"/>, with vectored writes of the flushed segments.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> Use the pipe on the connection's shard; every continuation of its awaits runs there.</para>
/// <para><b>Ending.</b> The peer's end of stream completes <see cref="Input"/> (<c>ReadResult.IsCompleted</c>); a
/// failure (a reset) makes its <c>ReadAsync</c> throw the <see cref="SocketException"/>. Completing
/// <see cref="Output"/> sends what is left, then shuts the connection down for sending (a half-close: the peer sees
/// the end of the stream and may still send). A failed send makes the next <c>FlushAsync</c> or <c>GetMemory</c> of
/// <see cref="Output"/> throw.</para>
/// <para><b>Bounded input.</b> The receive loop stops receiving once <see cref="ConnectionPipeOptions.MaxBufferedInput"/>
/// received bytes are not consumed yet (<c>AdvanceTo</c>'s first argument), so the peer's sends wait in the kernel, and
/// receives again when the application has consumed down to half the bound, or as soon as it has examined everything
/// it holds. The count is of consumed bytes, not examined ones: a parser that keeps examining a message that never
/// ends is stopped by the bound too. An application that examines all of a full input without consuming any would
/// wait for ever; its read fails instead, with an <see cref="System.IO.IOException"/> naming the bound.</para>
/// <para><b>Ownership.</b> The pipe owns the connection: do not receive or send on it directly, and
/// <see cref="DisposeAsync"/> disposes it. To cut a connection short, call <see cref="ShardConnection.Abort"/>.</para>
/// </remarks>
public sealed class ConnectionPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Pipe _input;
    private readonly ConnectionInputReader _reader;
    private readonly Pipe _output;
    private readonly int _minimumReceiveSize;
    private readonly int _smallestTail;
    private readonly Task _receiving;
    private readonly Task _sending;
    private bool _disposed;

    internal ConnectionPipe(ShardConnection connection, ConnectionPipeOptions options)
    {
        options.Validate();
        Connection = connection;
        _minimumReceiveSize = options.MinimumReceiveSize;
        _smallestTail = Math.Max(1, options.MinimumReceiveSize / 8);
        var scheduler = new ShardPipeScheduler(connection.Shard);
        MemoryPool<byte> pool = options.Pool ?? MemoryPool<byte>.Shared;
        // The input's pipe never pauses by itself (its threshold counts examined bytes, see ConnectionInputReader): the
        // receive loop stops at the bound that the reader counts in consumed bytes.
        _input = new Pipe(new PipeOptions(pool, scheduler, scheduler, pauseWriterThreshold: 0, resumeWriterThreshold: 0,
            minimumSegmentSize: options.MinimumReceiveSize, useSynchronizationContext: false));
        _reader = new ConnectionInputReader(connection.Shard, _input.Reader, options.MaxBufferedInput);
        _output = new Pipe(new PipeOptions(pool, scheduler, scheduler, options.MaxBufferedOutput, options.MaxBufferedOutput / 2,
            useSynchronizationContext: false));
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    /// <summary>The connection underneath, owned by the pipe.</summary>
    public ShardConnection Connection { get; }

    /// <summary>What the peer sent. Completed at the peer's end of stream; throws the connection's error, or an
    /// <see cref="System.IO.IOException"/> when the application examined all of a full input (see
    /// <see cref="ConnectionPipeOptions.MaxBufferedInput"/>) without consuming any.</summary>
    public PipeReader Input => _reader;

    /// <summary>Received bytes the application has not consumed yet (received into the pipe, not what the kernel
    /// holds); at most <see cref="ConnectionPipeOptions.MaxBufferedInput"/>. On the connection's shard.</summary>
    public long BufferedInput => _reader.BufferedBytes;

    /// <summary>What to send to the peer: each <c>FlushAsync</c> hands the written bytes to the send loop, and waits
    /// when more than <see cref="ConnectionPipeOptions.MaxBufferedOutput"/> bytes are not sent yet.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>
    /// Ends the pipe: completes the application's side of <see cref="Input"/> and <see cref="Output"/>, waits until
    /// what was written has been sent, then disposes the connection and waits for the receive loop to stop.
    /// Idempotent. On the connection's shard.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _output.Writer.CompleteAsync().ConfigureAwait(true);
        await _reader.CompleteAsync().ConfigureAwait(true);
        await _sending.ConfigureAwait(true);

        // The receive loop may be waiting for bytes that will never come: disposing the connection wakes it.
        Connection.Dispose();
        await _receiving.ConfigureAwait(true);
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                long room = _reader.Room;
                if (room <= 0)
                {
                    // Back pressure: nothing is received (the peer's sends wait in the kernel) until the application
                    // consumes, or completes its input.
                    if (!await _reader.WaitForRoomAsync().ConfigureAwait(true))
                    {
                        break;
                    }

                    continue;
                }

                // The free tail of the current segment, unless it is too small to be worth a receive: a receive that
                // took a new segment each time would hold a whole segment per byte of a peer that sends byte by byte.
                Memory<byte> memory = writer.GetMemory(1);
                if (memory.Length < _smallestTail)
                {
                    memory = writer.GetMemory(_minimumReceiveSize);
                }

                if (memory.Length > room)
                {
                    memory = memory[..(int)room];
                }

                int received = await Connection.ReceiveAsync(memory).ConfigureAwait(true);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);
                _reader.OnReceived(received);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(true);
                if (flushed.IsCompleted)
                {
                    // The application stopped reading.
                    break;
                }
            }
        }
        catch (Exception e) when (!_disposed)
        {
            error = e;
        }
        catch (Exception)
        {
            // Disposing the pipe closed the connection under this receive: nobody reads the outcome.
        }

        await writer.CompleteAsync(error).ConfigureAwait(true);
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(true);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await Connection.SendAsync(buffer).ConfigureAwait(true);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }

            // The application completed its output: the peer sees the end of the stream.
            if (!Connection.IsDisposed)
            {
                await Connection.ShutdownAsync(SocketShutdown.Send).ConfigureAwait(true);
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        await reader.CompleteAsync(error).ConfigureAwait(true);
    }
}
