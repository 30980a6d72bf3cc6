using System;
using System.Buffers;
using System.Runtime.InteropServices;

namespace Miniss.Storage;

/// <summary>
/// Native memory aligned for direct I/O (<see cref="DmaFile"/>), outside the GC heap. The owner disposes it once no
/// operation uses it any more (after the awaits that use it have completed).
/// </summary>
public sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    private byte* _memory;

    /// <summary>Allocates <paramref name="length"/> bytes aligned to <paramref name="alignment"/> (a power of two), zeroed.</summary>
    public AlignedBuffer(int length, int alignment = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "the alignment must be a power of two");
        }

        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
        NativeMemory.Clear(_memory, (nuint)length);
        Length = length;
        Alignment = alignment;
    }

    /// <summary>The size in bytes.</summary>
    public int Length { get; }

    /// <summary>The alignment of the first byte.</summary>
    public int Alignment { get; }

    /// <summary>The address of the first byte.</summary>
    public nint Address => (nint)Alive();

    /// <inheritdoc/>
    public override Span<byte> GetSpan() => new(Alive(), Length);

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0) => new(Alive() + elementIndex);

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }

    private byte* Alive() => _memory != null ? _memory : throw new ObjectDisposedException(nameof(AlignedBuffer));
}
