namespace Miniss.Buffers;

/// <summary>
/// The buffers of one size: a LIFO free list (the buffer freed last is the warmest in cache, so it is handed out
/// first) threaded through the slots, and the counters behind <see cref="SizeClassStats"/>. Written only by the
/// pool's owner (or under the pool's lock); the counters are read from any thread for statistics.
/// </summary>
internal sealed class SizeClass
{
    private BufferSlot? _freeHead;

    public SizeClass(int index, int size)
    {
        Index = index;
        Size = size;
    }

    public int Index { get; }

    /// <summary>The capacity of every buffer of this class, in bytes (a power of two).</summary>
    public int Size { get; }

    /// <summary>Buffers handed out and not yet back on the free list (a buffer freed on another thread counts until
    /// it reaches home).</summary>
    public long Allocated;

    /// <summary>Buffers on the free list.</summary>
    public long Free;

    /// <summary>The most buffers ever allocated at once.</summary>
    public long HighWaterMark;

    /// <summary>Allocations refused because no buffer was free and none could be carved.</summary>
    public long Failures;

    /// <summary>Buffers carved from the region for this class (in use or free).</summary>
    public long Carved;

    public void Push(BufferSlot slot)
    {
        slot.NextFree = _freeHead;
        _freeHead = slot;
        Free++;
    }

    public BufferSlot? Pop()
    {
        BufferSlot? slot = _freeHead;
        if (slot is not null)
        {
            _freeHead = slot.NextFree;
            slot.NextFree = null;
            Free--;
        }

        return slot;
    }
}
