using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace Miniss.AspNetCore.Internal;

/// <summary>
/// A pool of fixed-size blocks owned by one shard: the memory of the pipes of the connections that live there. Blocks
/// are arrays on the pinned object heap, so that an I/O into them needs no pinning. Renting and returning on the
/// owning shard take and give back blocks from a free list that only that shard touches (no lock, no atomic
/// operation but the count); a block returned from another thread (application code that left the shard) goes
/// through a concurrent queue that the shard drains when its own list is empty. Any thread may rent and return.
/// </summary>
internal sealed class ShardMemoryPool : MemoryPool<byte>
{
    private readonly Shard _shard;
    private readonly int _blockSize;
    private readonly int _maxRetained;
    private readonly Stack<Block> _free = new();
    private readonly ConcurrentQueue<Block> _returnedElsewhere = new();
    private long _rented;
    private bool _disposed;

    public ShardMemoryPool(Shard shard, int blockSize, int maxRetained)
    {
        _shard = shard;
        _blockSize = blockSize;
        _maxRetained = maxRetained;
    }

    /// <summary>The shard that owns the pool.</summary>
    public Shard Shard => _shard;

    /// <summary>The size of every block, in bytes.</summary>
    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks rented and not returned yet. Any thread.</summary>
    public long RentedBlocks => Interlocked.Read(ref _rented);

    /// <summary>Rents a block of <see cref="MaxBufferSize"/> bytes. Any thread.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is larger than a block.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            ThrowTooLarge(minBufferSize);
        }

        Block? block = null;
        if (Shard.Current == _shard && _free.TryPop(out Block? free))
        {
            block = free;
        }
        else if (_returnedElsewhere.TryDequeue(out Block? returned))
        {
            block = returned;
        }

        block ??= new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
        block.IsRented = true;
        Interlocked.Increment(ref _rented);
        return block;
    }

    private void Return(Block block)
    {
        if (!block.IsRented)
        {
            return;
        }

        block.IsRented = false;
        Interlocked.Decrement(ref _rented);
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        if (Shard.Current == _shard)
        {
            if (_free.Count < _maxRetained)
            {
                _free.Push(block);
            }
        }
        else
        {
            _returnedElsewhere.Enqueue(block);
        }
    }

    protected override void Dispose(bool disposing)
    {
        // The free list is the shard's: it is left to the GC rather than cleared from another thread.
        Volatile.Write(ref _disposed, true);
        _returnedElsewhere.Clear();
    }

    private void ThrowTooLarge(int size) => throw new ArgumentOutOfRangeException(nameof(size), size,
        $"shard {_shard.Id}'s memory pool hands out blocks of at most {_blockSize} bytes (MinissTransportOptions.MemoryBlockSize); {size} were asked for");

    private sealed class Block(ShardMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public bool IsRented;

        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool.Return(this);
    }
}
