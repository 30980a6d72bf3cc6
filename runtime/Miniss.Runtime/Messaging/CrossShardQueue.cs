using System;
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
    private readonly ShardMessage?[] _slots;
    private readonly int _mask;
    private Indices _indices;

    public CrossShardQueue(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the capacity must be a power of two, at least 2");
        }

        _slots = new ShardMessage?[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _slots.Length;

    /// <summary>Whether the consumer has anything to read (any thread may ask; the answer may be stale).</summary>
    public bool HasItems => Volatile.Read(ref _indices.Tail) != Volatile.Read(ref _indices.Head);

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
    public bool TryWrite(ShardMessage message)
    {
        long tail = _indices.ProducerTail;
        if (tail - _indices.ProducerCachedHead >= _slots.Length)
        {
            // Refresh the consumer's head only when the cached one says full: one shared read per lap, not per item.
            _indices.ProducerCachedHead = Volatile.Read(ref _indices.Head);
            if (tail - _indices.ProducerCachedHead >= _slots.Length)
            {
                return false;
            }
        }

        _slots[tail & _mask] = message;
        _indices.ProducerTail = tail + 1;
        return true;
    }

    /// <summary>Producer: makes the batch written since the last publish visible to the consumer.</summary>
    /// <returns>Whether anything new was published.</returns>
    public bool Publish()
    {
        if (_indices.ProducerTail == Volatile.Read(ref _indices.Tail))
        {
            return false;
        }

        // Release: the slots written above become visible before the tail that covers them.
        Volatile.Write(ref _indices.Tail, _indices.ProducerTail);
        return true;
    }

    /// <summary>Consumer: reads the next published item.</summary>
    public bool TryRead(out ShardMessage message)
    {
        long head = _indices.ConsumerHead;
        if (head == _indices.ConsumerCachedTail)
        {
            // Acquire: a published tail guarantees the slots before it are written.
            _indices.ConsumerCachedTail = Volatile.Read(ref _indices.Tail);
            if (head == _indices.ConsumerCachedTail)
            {
                message = null!;
                return false;
            }
        }

        ref ShardMessage? slot = ref _slots[head & _mask];
        message = slot!;
        slot = null;
        _indices.ConsumerHead = head + 1;
        return true;
    }

    /// <summary>Consumer: returns the slots read since the last release to the producer.</summary>
    public void Release() => Volatile.Write(ref _indices.Head, _indices.ConsumerHead);

    /// <summary>The shared and the side-private indices, each group on its own cache line.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Indices
    {
        [FieldOffset(0)] public long Head;
        [FieldOffset(64)] public long Tail;
        [FieldOffset(128)] public long ProducerTail;
        [FieldOffset(136)] public long ProducerCachedHead;
        [FieldOffset(192)] public long ConsumerHead;
        [FieldOffset(200)] public long ConsumerCachedTail;
    }
}
