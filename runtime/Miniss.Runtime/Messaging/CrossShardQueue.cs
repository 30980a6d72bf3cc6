using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Messaging;

/// <summary>
/// A bounded single-producer single-consumer ring of messages from one shard to another. The producer writes
/// items and publishes its tail once per batch (release); the consumer reads up to the published tail (acquire) and
/// publishes its head once per batch. Head and tail live on separate cache lines so the two cores do not share one.
/// </summary>
/// <remarks>Not supported: more than one producer or consumer thread. A full ring is never overwritten: the
/// producer keeps what does not fit (see <see cref="Shard"/>'s outgoing buffers) and retries.</remarks>
internal sealed class CrossShardQueue
{
    // The first SlotPadding entries are never used, so the array's length (which both sides would otherwise read for
    // bounds checks) is not on a line the other side writes; slots are reached by reference, with the index masked,
    // so no bounds check reads it.
    private const int SlotPadding = 2;
    private readonly Envelope[] _slots;
    private readonly int _mask;
    private Indices _indices;

    public CrossShardQueue(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the capacity must be a power of two, at least 2");
        }

        _slots = new Envelope[capacity + SlotPadding];
        _mask = capacity - 1;
    }

    public int Capacity => _mask + 1;

    /// <summary>Consumer: whether a published item waits to be read. Reads the producer's tail (one shared cache line,
    /// which stays in this core's cache until the producer publishes again) and the consumer's own head.</summary>
    public bool HasReadable => _indices.ConsumerHead != Volatile.Read(ref _indices.Tail);

    /// <summary>Items published and not yet released by the consumer (any thread may ask; the answer may be stale).
    /// The head is read first: the tail it is subtracted from is never older, so the count is never negative.</summary>
    public long Count
    {
        get
        {
            long head = Volatile.Read(ref _indices.Head);
            return Volatile.Read(ref _indices.Tail) - head;
        }
    }

    /// <summary>Producer: adds an item to the unpublished batch, or returns false when the ring is full.</summary>
    public bool TryWrite(in Envelope envelope)
    {
        long tail = _indices.ProducerTail;
        if (tail - _indices.ProducerCachedHead > _mask)
        {
            // Refresh the consumer's head only when the cached one says full: one shared read per lap, not per item.
            _indices.ProducerCachedHead = Volatile.Read(ref _indices.Head);
            if (tail - _indices.ProducerCachedHead > _mask)
            {
                return false;
            }
        }

        SlotAt(tail) = envelope;
        _indices.ProducerTail = tail + 1;
        return true;
    }

    /// <summary>Producer: makes the batch written since the last publish visible to the consumer.</summary>
    /// <returns>Whether anything new was published.</returns>
    public bool Publish()
    {
        long tail = _indices.ProducerTail;
        if (tail == _indices.ProducerPublished)
        {
            return false;
        }

        // Release: the slots written above become visible before the tail that covers them. The producer compares
        // with its own copy of what it published, so it never reads the line the consumer polls.
        _indices.ProducerPublished = tail;
        Volatile.Write(ref _indices.Tail, tail);
        return true;
    }

    /// <summary>Consumer: reads the next published item.</summary>
    public bool TryRead(out Envelope envelope)
    {
        long head = _indices.ConsumerHead;
        if (head == _indices.ConsumerCachedTail)
        {
            // Acquire: a published tail guarantees the slots before it are written.
            _indices.ConsumerCachedTail = Volatile.Read(ref _indices.Tail);
            if (head == _indices.ConsumerCachedTail)
            {
                envelope = default;
                return false;
            }
        }

        ref Envelope slot = ref SlotAt(head);
        envelope = slot;
        slot = default;
        _indices.ConsumerHead = head + 1;
        return true;
    }

    /// <summary>Consumer: returns the slots read since the last release to the producer.</summary>
    public void Release() => Volatile.Write(ref _indices.Head, _indices.ConsumerHead);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Envelope SlotAt(long index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), (nint)(index & _mask) + SlotPadding);

    /// <summary>The shared and the side-private indices, each group on a cache line of its own, and none on the line
    /// of the object's header and its read-only fields (the slots and the mask, which both sides read on every
    /// batch): the object is only 8-byte aligned, so each group is 64 bytes from the next and the first starts 64
    /// bytes in.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 320)]
    private struct Indices
    {
        [FieldOffset(64)] public long Head;
        [FieldOffset(128)] public long Tail;
        [FieldOffset(192)] public long ProducerTail;
        [FieldOffset(200)] public long ProducerCachedHead;
        [FieldOffset(208)] public long ProducerPublished;
        [FieldOffset(256)] public long ConsumerHead;
        [FieldOffset(264)] public long ConsumerCachedTail;
    }
}
