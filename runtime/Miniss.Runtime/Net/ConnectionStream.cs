using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Net;

/// <summary>
/// A <see cref="Stream"/> over a <see cref="ShardConnection"/>, so code written against streams (an
/// <see cref="System.Net.Security.SslStream"/>, a serializer) runs on Miniss. Reads are receives and writes are sends
/// of the connection: use the stream asynchronously, on the connection's shard, where its awaits resume.
/// </summary>
/// <remarks>
/// <para>A read or write that arrives from another thread is carried to the connection's shard by message (see
/// <see cref="MinissRuntime.SubmitTo{T}(int, Func{ValueTask{T}}, CancellationToken)"/>) and its result carried back: library code that
/// awaits other work with <c>ConfigureAwait(false)</c> (<see cref="System.Net.Security.SslStream"/> does, during its
/// handshake) resumes on the thread pool and calls the stream from there. On the shard, a call costs nothing more
/// than the connection's own operation.</para>
/// <para>The synchronous <see cref="Read(byte[], int, int)"/> and <see cref="Write(byte[], int, int)"/> throw
/// <see cref="NotSupportedException"/>: blocking would stall the shard's loop, which is the only thread that can
/// complete the operation. <see cref="Flush"/> does nothing (a write is in the kernel when its await completes).
/// Not seekable.</para>
/// </remarks>
public sealed class ConnectionStream : Stream
{
    private readonly bool _ownsConnection;
    private bool _disposed;

    internal ConnectionStream(ShardConnection connection, bool ownsConnection)
    {
        Connection = connection;
        _ownsConnection = ownsConnection;
    }

    /// <summary>The connection the stream reads and writes.</summary>
    public ShardConnection Connection { get; }

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <summary>Not supported: a connection has no length.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Length => throw new NotSupportedException("a connection has no length");

    /// <summary>Not supported: a connection has no position.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Position
    {
        get => throw new NotSupportedException("a connection has no position");
        set => throw new NotSupportedException("a connection has no position");
    }

    /// <summary>Receives up to <c>buffer.Length</c> bytes (<see cref="ShardConnection.ReceiveAsync(Memory{byte}, CancellationToken)"/>):
    /// 0 at the end of the stream. Any thread; on the connection's shard it runs directly.</summary>
    /// <inheritdoc cref="ShardConnection.ReceiveAsync(Memory{byte}, CancellationToken)" path="/exception"/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Shard.Current == Connection.Shard)
        {
            return Connection.ReceiveAsync(buffer, cancellationToken);
        }

        ShardConnection connection = Connection;
        return connection.Shard.Runtime.SubmitTo(connection.Shard.Id, () => connection.ReceiveAsync(buffer, cancellationToken), cancellationToken);
    }

    /// <inheritdoc cref="ReadAsync(Memory{byte}, CancellationToken)"/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends all of <paramref name="buffer"/> (<see cref="ShardConnection.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>).
    /// Any thread; on the connection's shard it runs directly.</summary>
    /// <inheritdoc cref="ShardConnection.SendAsync(ReadOnlyMemory{byte}, CancellationToken)" path="/exception"/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Shard.Current == Connection.Shard)
        {
            return Connection.SendAsync(buffer, cancellationToken);
        }

        ShardConnection connection = Connection;
        return connection.Shard.Runtime.SubmitTo(connection.Shard.Id, () => connection.SendAsync(buffer, cancellationToken), cancellationToken);
    }

    /// <inheritdoc cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Does nothing: each write has reached the kernel when its await completes.</summary>
    public override void Flush()
    {
    }

    /// <summary>Completes at once (see <see cref="Flush"/>).</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <summary>Not supported: a blocking read would stall the shard. Use <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override int Read(byte[] buffer, int offset, int count) => throw Blocking();

    /// <summary>Not supported: a blocking write would stall the shard. Use <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void Write(byte[] buffer, int offset, int count) => throw Blocking();

    /// <summary>Not supported: a connection is not seekable.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a connection is not seekable");

    /// <summary>Not supported: a connection has no length.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void SetLength(long value) => throw new NotSupportedException("a connection has no length");

    /// <summary>Disposes the stream, and the connection when the stream owns it. Idempotent.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (_ownsConnection)
            {
                Connection.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private static NotSupportedException Blocking() =>
        new("Miniss connections are asynchronous: a blocking call would stall the shard that has to complete it; use ReadAsync/WriteAsync.");
}
