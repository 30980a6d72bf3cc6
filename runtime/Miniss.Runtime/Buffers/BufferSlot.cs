using System;
using System.Buffers;
using System.Threading;

namespace Miniss.Buffers;

/// <summary>
/// One buffer of a <see cref="BufferPool"/>: where it lives, its size class, and the generation that tells a live
/// <see cref="BufferHandle"/> from a stale one. Created the first time its memory is carved from the pool's region
/// and reused for every later allocation of that memory, so it also serves as the buffer's
/// <see cref="MemoryManager{T}"/>: <see cref="BufferHandle.Memory"/> allocates nothing.
/// </summary>
/// <remarks>
/// <code>
///            Allocate (owner: plain write)
///   even ───────────────────────────────────► odd = g      a handle carries g
///   free  ◄───────────────────────────────────  allocated
///            Deallocate (any thread: CAS g → g + 1)
///
///   BufferPool.Dispose turns every odd generation even: every outstanding handle becomes stale.
/// </code>
/// The free transition is a compare-and-swap from the handle's own generation, so of two frees of one handle (on
/// one thread or on two) exactly one wins and the other is reported; the slot is never pushed on its free list
/// twice. A handle's generation is always odd, so no handle can free a slot that is already free.
/// </remarks>
internal sealed unsafe class BufferSlot : MemoryManager<byte>
{
    /// <summary>Even while the slot is free (or on its way home, or its pool is disposed); odd while allocated.</summary>
    public int Generation;

    /// <summary>The next slot of the class's free list. Touched only by the pool's owner (or under its lock).</summary>
    public BufferSlot? NextFree;

    public BufferSlot(BufferPool pool, SizeClass sizeClass, nint address)
    {
        Pool = pool;
        Class = sizeClass;
        Pointer = (byte*)address;
    }

    public BufferPool Pool { get; }

    public SizeClass Class { get; }

    public byte* Pointer { get; }

    public nint Address => (nint)Pointer;

    public int Capacity => Class.Size;

    public bool IsAllocated => (Volatile.Read(ref Generation) & 1) != 0;

    /// <summary>The first <paramref name="length"/> bytes of the buffer. The caller has checked the generation.</summary>
    public Span<byte> SpanOf(int length) => new(Pointer, length);

    /// <summary>The first <paramref name="length"/> bytes of the buffer as memory this manager serves.</summary>
    public Memory<byte> MemoryOf(int length) => CreateMemory(length);

    /// <summary>
    /// The whole buffer. A <see cref="Memory{T}"/> taken from a handle reaches it through here on every
    /// <c>.Span</c>; while the buffer is free this throws, which catches most uses of such a memory after
    /// <see cref="BufferPool.Deallocate"/> (not those after the buffer has been allocated again).
    /// </summary>
    public override Span<byte> GetSpan()
    {
        if (!IsAllocated)
        {
            ThrowHelper.ThrowBufferReturned(Pool);
        }

        return new Span<byte>(Pointer, Capacity);
    }

    /// <summary>The memory is native and never moves: pinning is free.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex), elementIndex, $"the buffer holds {Capacity} bytes");
        }

        return new MemoryHandle(Pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    /// <summary>The pool owns the memory; disposing its manager (through <see cref="IMemoryOwner{T}"/>) does nothing.</summary>
    protected override void Dispose(bool disposing)
    {
    }
}
