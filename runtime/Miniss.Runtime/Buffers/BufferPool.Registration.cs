using System;
using Miniss.Bindings.Linux;
using Miniss.Internal.Linux;

namespace Miniss.Buffers;

// Fixed buffers: the region registered with an io_uring ring, so READ_FIXED / WRITE_FIXED skip pinning the pages
// on every operation. The region is registered as iovecs of ChunkSize bytes (the last one shorter when the region is
// not a whole number of chunks), so a buffer's index in the ring's table is its offset divided by ChunkSize.
public sealed unsafe partial class BufferPool
{
    /// <summary>How many iovecs a ring's fixed-buffer table may hold (<c>IORING_MAX_REG_BUFFERS</c>).</summary>
    internal const int MaxFixedBuffers = 1 << 14;

    // The ring the region is registered with, or -1. Written by the thread that owns that ring.
    private int _registeredRingFd = -1;

    /// <summary>How many iovecs the region is registered as.</summary>
    internal int FixedBufferCount => (int)Math.Min(int.MaxValue, (_maxMemory + ChunkSize - 1) / ChunkSize);

    /// <summary>The ring the pool is registered with, or -1.</summary>
    internal int RegisteredRingFd => _registeredRingFd;

    /// <summary>Whether the pool is registered with a ring as fixed buffers. Any thread; a moment old.</summary>
    internal bool IsRegistered => System.Threading.Volatile.Read(ref _registeredRingFd) >= 0;

    /// <summary>
    /// Registers the whole region with the ring <paramref name="ringFd"/> as its fixed buffers
    /// (<c>IORING_REGISTER_BUFFERS</c>), which pins every page of it. Must run on the thread that owns the ring (its
    /// shard): the rings are single-issuer. A ring holds one table, so one pool per ring. The registration lasts
    /// until <see cref="TryUnregister"/> or the ring is closed; the kernel keeps the pages pinned until then, even
    /// after <see cref="Dispose"/>.
    /// </summary>
    /// <param name="ringFd">The ring's file descriptor (<c>IoUringBackend.Fd</c>).</param>
    /// <param name="reason">Null on success; otherwise why it failed and how to fix it (for RLIMIT_MEMLOCK: the
    /// limit, and how to raise it with <c>ulimit -l</c> or <c>LimitMEMLOCK=</c>).</param>
    /// <returns>Whether the region is now registered. A failure leaves the pool usable without fixed buffers.</returns>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    internal bool TryRegister(int ringFd, out string? reason)
    {
        if (IsDisposed)
        {
            ThrowHelper.ThrowPoolDisposed(this);
        }

        int count = FixedBufferCount;
        if (count > MaxFixedBuffers)
        {
            reason = $"The region ({MaxMemory} bytes) would be {count} fixed buffers of {ChunkSize} bytes; a ring holds at most " +
                $"{MaxFixedBuffers}. Use a smaller MaxMemory or a larger largest size class.";
            return false;
        }

        // Read first, so the explanation can say whether the region alone is over the limit. The call is tried
        // anyway: a process with CAP_IPC_LOCK (root, usually) is not held to it.
        ulong limit = MemlockLimit.Current();
        var iovecs = new iovec[count];
        for (int i = 0; i < count; i++)
        {
            long offset = (long)i * ChunkSize;
            iovecs[i].iov_base = (void*)(_base + (nint)offset);
            iovecs[i].iov_len = (nuint)Math.Min(ChunkSize, _maxMemory - offset);
        }

        int result;
        fixed (iovec* first = iovecs)
        {
            result = IoUringSyscalls.Register(ringFd, IoUring.IORING_REGISTER_BUFFERS, first, (uint)count);
        }

        if (result < 0)
        {
            reason = MemlockLimit.ExplainRegistrationFailure(-result, _maxMemory, limit);
            return false;
        }

        _registeredRingFd = ringFd;
        reason = null;
        return true;
    }

    /// <summary>
    /// Removes the ring's fixed-buffer table (<c>IORING_UNREGISTER_BUFFERS</c>), unpinning the region. On the
    /// thread that owns the ring; only while no fixed-buffer operation is in flight.
    /// </summary>
    /// <param name="ringFd">The ring the pool was registered with.</param>
    /// <param name="reason">Null on success; otherwise the error.</param>
    /// <returns>Whether the table was removed.</returns>
    internal bool TryUnregister(int ringFd, out string? reason)
    {
        int result = IoUringSyscalls.Register(ringFd, IoUring.IORING_UNREGISTER_BUFFERS, null, 0);
        if (result < 0)
        {
            reason = $"io_uring_register(IORING_UNREGISTER_BUFFERS) failed: {Internal.ErrnoNames.Describe(-result)}.";
            return false;
        }

        if (_registeredRingFd == ringFd)
        {
            _registeredRingFd = -1;
        }

        reason = null;
        return true;
    }

    /// <summary>
    /// The index of <paramref name="handle"/>'s buffer in the ring's fixed-buffer table, for the <c>buf_index</c> of a
    /// READ_FIXED or WRITE_FIXED whose address is <see cref="BufferHandle.Address"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The handle is default or belongs to another pool.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or the pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The pool is not registered with a ring.</exception>
    internal ushort FixedBufferIndex(in BufferHandle handle)
    {
        BufferSlot slot = OwnSlot(handle, nameof(handle));
        if (!handle.IsValid)
        {
            ThrowHelper.ThrowBufferReturned(this);
        }

        if (_registeredRingFd < 0)
        {
            throw new InvalidOperationException($"Buffer pool {Id} is not registered with a ring: call TryRegister first.");
        }

        return (ushort)(OffsetOf(slot) / ChunkSize);
    }
}
