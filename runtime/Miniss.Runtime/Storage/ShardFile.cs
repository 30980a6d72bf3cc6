using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.Buffers;
using Miniss.IO;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Storage;

/// <summary>
/// An open file whose operations run on the calling shard's io_uring ring: positional reads and writes (into user
/// memory or vectored), flushes, allocation and size queries. Any shard of the runtime may use the file (the
/// descriptor is process-wide and stays referenced while an operation is in flight, so disposing the file during
/// one defers the close to its completion); every method must be called on a shard.
/// </summary>
public abstract class ShardFile : IDisposable, IAsyncDisposable
{
    private protected ShardFile(FileDescriptorHandle handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>The file's descriptor, owned by this object.</summary>
    public FileDescriptorHandle Handle { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns how many were read, 0 at
    /// end of file (a short count is not an error). <paramref name="buffer"/> belongs to the kernel until the await
    /// completes, also when cancelled.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    /// <exception cref="IOException">The kernel reported an error (errno in <c>Data["errno"]</c>).</exception>
    /// <exception cref="ObjectDisposedException">The file is closed.</exception>
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ValidateTransfer(offset, buffer.Length, buffer.Span);
        return IoOperations.ReadAsync(Handle, buffer, offset, cancellationToken);
    }

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/>; returns how many bytes were written (a
    /// short count is possible, as with <c>pwrite</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    /// <exception cref="IOException">The kernel reported an error (errno in <c>Data["errno"]</c>).</exception>
    public ValueTask<int> WriteAsync(long offset, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ValidateTransfer(offset, buffer.Length, buffer.Span);
        return IoOperations.WriteAsync(Handle, buffer, offset, cancellationToken);
    }

    /// <summary>
    /// Reads up to <paramref name="length"/> bytes at <paramref name="offset"/> into a buffer from the calling shard's
    /// pool (a fixed-buffer read when the pool is registered with the ring). The caller owns the returned buffer and
    /// frees it with <c>Shard.Buffers.Deallocate</c>; on failure the buffer is freed here.
    /// </summary>
    /// <returns>How many bytes were read (0 at end of file) and the buffer holding them.</returns>
    /// <exception cref="InsufficientMemoryException">The pool has no buffer of that size left.</exception>
    public async ValueTask<(int BytesRead, BufferHandle Buffer)> ReadAsync(long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Shard shard = Shard.CurrentForIo();
        BufferHandle buffer = shard.Buffers.Allocate(length)
            ?? throw new InsufficientMemoryException($"shard {shard.Id}'s buffer pool has no buffer of {length} bytes left (see Shard.Buffers.Stats)");
        try
        {
            ValidateTransfer(offset, length, buffer.Span[..length]);
            int read = shard.HasFixedBuffers
                ? await IoOperations.ReadFixedAsync(Handle, buffer.Address, length, offset, shard.Buffers.FixedBufferIndex(buffer), cancellationToken).ConfigureAwait(true)
                : await IoOperations.ReadAsync(Handle, buffer.Memory[..length], offset, cancellationToken).ConfigureAwait(true);
            return (read, buffer);
        }
        catch
        {
            shard.Buffers.Deallocate(buffer);
            throw;
        }
    }

    /// <summary>Writes the first <paramref name="length"/> bytes of a pool buffer at <paramref name="offset"/> (a
    /// fixed-buffer write when the calling shard's pool is registered and owns the buffer). The caller keeps the buffer.</summary>
    public ValueTask<int> WriteAsync(long offset, BufferHandle buffer, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Size);
        Shard shard = Shard.CurrentForIo();
        ValidateTransfer(offset, length, buffer.Span[..length]);
        return shard.HasFixedBuffers && buffer.PoolId == shard.Buffers.Id
            ? IoOperations.WriteFixedAsync(Handle, buffer.Address, length, offset, shard.Buffers.FixedBufferIndex(buffer), cancellationToken)
            : IoOperations.WriteAsync(Handle, buffer.Memory[..length], offset, cancellationToken);
    }

    /// <summary>Writes all of <paramref name="buffer"/> at <paramref name="offset"/>, repeating short writes.</summary>
    public async ValueTask WriteAllAsync(long offset, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int written = await WriteAsync(offset, buffer, cancellationToken).ConfigureAwait(true);
            if (written == 0)
            {
                throw new IOException($"write '{Path}' made no progress at offset {offset}");
            }

            offset += written;
            buffer = buffer[written..];
        }
    }

    /// <summary>Reads into several buffers in order, at <paramref name="offset"/> (<c>preadv</c>); returns the total.</summary>
    public async ValueTask<int> ReadAsync(long offset, IReadOnlyList<Memory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        IoVector vector = IoVector.Allocate(buffers.Count);
        try
        {
            for (int i = 0; i < buffers.Count; i++)
            {
                ValidateTransfer(offset, buffers[i].Length, buffers[i].Span);
                vector.Add(buffers[i]);
            }

            return await IoOperations.ReadVectorAsync(Handle, vector.Address, vector.Count, offset, cancellationToken).ConfigureAwait(true);
        }
        finally
        {
            vector.Dispose();
        }
    }

    /// <summary>Writes several buffers in order, at <paramref name="offset"/> (<c>pwritev</c>); returns the total.</summary>
    public async ValueTask<int> WriteAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        IoVector vector = IoVector.Allocate(buffers.Count);
        try
        {
            for (int i = 0; i < buffers.Count; i++)
            {
                ValidateTransfer(offset, buffers[i].Length, buffers[i].Span);
                vector.Add(MemoryMarshal.AsMemory(buffers[i]));
            }

            return await IoOperations.WriteVectorAsync(Handle, vector.Address, vector.Count, offset, cancellationToken).ConfigureAwait(true);
        }
        finally
        {
            vector.Dispose();
        }
    }

    /// <summary>Flushes data and metadata to the device (<c>fsync</c>).</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
        await IoOperations.FsyncAsync(Handle, cancellationToken).ConfigureAwait(true);

    /// <summary>Flushes data, and only the metadata needed to read it back (<c>fdatasync</c>).</summary>
    public async ValueTask FlushDataAsync(CancellationToken cancellationToken = default) =>
        await IoOperations.FdatasyncAsync(Handle, cancellationToken).ConfigureAwait(true);

    /// <summary>Reserves <paramref name="length"/> bytes of disk at <paramref name="offset"/> (<c>fallocate</c>); with
    /// <paramref name="keepSize"/> the file's length does not change.</summary>
    public async ValueTask AllocateAsync(long offset, long length, bool keepSize = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        await IoOperations.FallocateAsync(Handle, keepSize ? LinuxFiles.FALLOC_FL_KEEP_SIZE : 0, offset, length, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>The file's length in bytes (<c>statx</c>).</summary>
    public async ValueTask<long> GetLengthAsync(CancellationToken cancellationToken = default)
    {
        // statx takes the descriptor as a number: keep the handle referenced so the number cannot be closed and
        // reused by another file while the query is in flight.
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        bool added = false;
        Handle.DangerousAddRef(ref added);
        try
        {
            using var record = new StatxRecord();
            await IoOperations.StatxAsync(Handle.Descriptor, string.Empty, LinuxFiles.AT_EMPTY_PATH, (int)LinuxFiles.STATX_SIZE, record.Address, cancellationToken).ConfigureAwait(true);
            return (long)record.Value.stx_size;
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    /// <summary>Closes the file. An operation still in flight keeps the descriptor open until its completion.</summary>
    public void Dispose()
    {
        Handle.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Handle.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Checks a transfer before it is submitted (direct I/O checks alignment).</summary>
    private protected virtual void ValidateTransfer(long offset, int length, ReadOnlySpan<byte> memory)
    {
    }

    /// <summary>Opens <paramref name="path"/> on the calling shard's ring; the caller owns the descriptor.</summary>
    private protected static async ValueTask<FileDescriptorHandle> OpenDescriptorAsync(string path, int flags, UnixFileMode permissions, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = await IoOperations.OpenAtAsync(LinuxFiles.AT_FDCWD, path, flags, (int)permissions, cancellationToken).ConfigureAwait(true);
        return new FileDescriptorHandle(fd, path);
    }

    /// <summary>A <c>statx</c> record in native memory, for one query.</summary>
    private protected sealed unsafe class StatxRecord : IDisposable
    {
        private readonly statx* _record = (statx*)NativeMemory.AllocZeroed((nuint)sizeof(statx));

        public nint Address => (nint)_record;

        public ref statx Value => ref *_record;

        public void Dispose() => NativeMemory.Free(_record);
    }
}
