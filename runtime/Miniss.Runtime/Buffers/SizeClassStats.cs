namespace Miniss.Buffers;

/// <summary>One size class of a <see cref="BufferPool"/> at the moment <see cref="BufferPool.Stats"/> was read.</summary>
public readonly record struct SizeClassStats
{
    /// <summary>The capacity of every buffer of the class, in bytes.</summary>
    public int Size { get; init; }

    /// <summary>Buffers in use: handed out and not yet back home. A buffer deallocated on another thread counts
    /// until the pool's owner shard has put it back on the free list.</summary>
    public long Allocated { get; init; }

    /// <summary>Buffers on the class's free list, ready to be handed out without touching the region.</summary>
    public long Free { get; init; }

    /// <summary>The most buffers of the class in use at once since the pool was created.</summary>
    public long HighWaterMark { get; init; }

    /// <summary>Requests this class refused: no free buffer, and no room left in the region to carve one.</summary>
    public long Failures { get; init; }
}
