using System;
using System.Threading;

namespace Miniss.Buffers;

/// <summary>
/// A buffer allocated from a <see cref="BufferPool"/>: <see cref="Size"/> bytes asked for, in a native, contiguous
/// block of <see cref="Capacity"/> bytes aligned to its capacity (so to the pool's <see cref="BufferPoolConfig.Alignment"/>).
/// A small value (16 bytes): copying it copies the reference to the buffer, not the buffer.
/// </summary>
/// <remarks>
/// <para><b>Ownership.</b> Whoever holds the handle owns the buffer until it passes the handle to
/// <see cref="BufferPool.Deallocate"/>, exactly once; every copy of the handle is stale from then on.</para>
/// <para><b>Threads.</b> Any thread may read and write the buffer (hand it to another shard with the handle), but
/// only one at a time, as with any memory.</para>
/// <para><b>Misuse is detected, not undefined.</b> Each buffer carries a generation number that changes when it is
/// freed, and the handle remembers the one it was allocated with: <see cref="Span"/>, <see cref="Memory"/> and
/// <see cref="Address"/> of a freed handle, or of any handle once its pool is disposed, throw
/// <see cref="ObjectDisposedException"/>; <see cref="IsValid"/> says so without throwing. A <see cref="Memory{T}"/>
/// taken before the free throws while the buffer is free, but cannot tell once the buffer has been allocated again:
/// do not keep one past <see cref="BufferPool.Deallocate"/>. <c>default(BufferHandle)</c> refers to no buffer.</para>
/// </remarks>
public readonly struct BufferHandle : IEquatable<BufferHandle>
{
    // The pointer, capacity and pool of the design's handle (docs/architecture.md) live in the slot, shared by every handle of the buffer; the
    // handle adds what differs per allocation: the size asked for and the generation.
    private readonly BufferSlot? _slot;
    private readonly int _size;
    private readonly int _generation;

    internal BufferHandle(BufferSlot slot, int size, int generation)
    {
        _slot = slot;
        _size = size;
        _generation = generation;
    }

    /// <summary>The size asked for, in bytes: the length of <see cref="Span"/> and <see cref="Memory"/>. 0 for a
    /// default handle. Reading it never throws.</summary>
    public int Size => _size;

    /// <summary>The capacity of the buffer in bytes: its size class, at least <see cref="Size"/>. 0 for a default
    /// handle. Reading it never throws.</summary>
    public int Capacity => _slot?.Capacity ?? 0;

    /// <summary>The <see cref="BufferPool.Id"/> of the pool the buffer came from; 0 for a default handle.</summary>
    public int PoolId => _slot?.Pool.Id ?? 0;

    /// <summary>Whether the handle still owns its buffer: false once it has been deallocated (through this copy or
    /// another), once its pool is disposed, and for a default handle. Any thread; never throws.</summary>
    public bool IsValid => _slot is { } slot && Volatile.Read(ref slot.Generation) == _generation;

    /// <summary>The address of the buffer's first byte, for native calls and I/O submissions. The memory stays at this
    /// address (it never moves) until the handle is deallocated.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or its pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is default.</exception>
    public nint Address => Live().Address;

    /// <summary>The <see cref="Size"/> bytes asked for. Valid until the handle is deallocated; allocates nothing.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or its pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is default.</exception>
    public Span<byte> Span => Live().SpanOf(_size);

    /// <summary>The <see cref="Size"/> bytes asked for, as <see cref="Memory{T}"/> (for async APIs). It is served
    /// by a memory manager created once per buffer and reused, so it allocates nothing; do not keep it past
    /// <see cref="BufferPool.Deallocate"/> (see the remarks on <see cref="BufferHandle"/>).</summary>
    /// <exception cref="ObjectDisposedException">The buffer was deallocated, or its pool disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is default.</exception>
    public Memory<byte> Memory => Live().MemoryOf(_size);

    internal BufferSlot? Slot => _slot;

    internal int Generation => _generation;

    /// <summary>Whether both handles are the same allocation (same buffer, same generation, same size).</summary>
    public bool Equals(BufferHandle other) =>
        ReferenceEquals(_slot, other._slot) && _generation == other._generation && _size == other._size;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BufferHandle other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_slot, _generation, _size);

    /// <summary>Whether both handles are the same allocation.</summary>
    public static bool operator ==(BufferHandle left, BufferHandle right) => left.Equals(right);

    /// <summary>Whether the handles are different allocations.</summary>
    public static bool operator !=(BufferHandle left, BufferHandle right) => !left.Equals(right);

    /// <summary>"pool 3, 4096 of 8192 bytes at 0x7F…" (or "stale", or "default"), for diagnostics.</summary>
    public override string ToString() => _slot switch
    {
        null => "BufferHandle (default)",
        { } slot when IsValid => $"BufferHandle (pool {slot.Pool.Id}, {_size} of {slot.Capacity} bytes at 0x{slot.Address:X})",
        { } slot => $"BufferHandle (pool {slot.Pool.Id}, {_size} of {slot.Capacity} bytes, stale)",
    };

    private BufferSlot Live()
    {
        BufferSlot? slot = _slot;
        if (slot is null)
        {
            ThrowHelper.ThrowDefaultHandle();
        }

        if (Volatile.Read(ref slot.Generation) != _generation)
        {
            ThrowHelper.ThrowBufferReturned(slot.Pool);
        }

        return slot;
    }
}
