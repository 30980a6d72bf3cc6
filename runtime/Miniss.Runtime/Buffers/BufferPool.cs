using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;
using Miniss.Scheduling;

namespace Miniss.Buffers;

/// <summary>
/// A shard's pool of native I/O buffers in fixed size classes (by default 4 KiB to 1 MiB), carved from one region of
/// <see cref="BufferPoolConfig.MaxMemory"/> bytes reserved when the pool is created, never from the GC heap. Every
/// buffer is contiguous, aligned to its own capacity (hence to <see cref="BufferPoolConfig.Alignment"/>), and stays
/// at its address for the life of the pool, so it can be handed to the kernel directly and registered with io_uring.
/// </summary>
/// <remarks>
/// <para><b>Thread affinity.</b> The pool belongs to the shard that creates it (<see cref="Owner"/>): only that shard
/// allocates, preallocates and disposes, with no lock and no atomic operation besides the one that guards against a
/// double free. <see cref="Deallocate"/> may be called from any thread: off the owner shard the buffer is marked free
/// at once (a second free is caught there and then) and sent home with a message, to be put back on its free list by
/// the owner. A pool created on a thread that is not a shard has no owner; every thread may use it, and a lock
/// serialises its calls. Once the owner shard has stopped, buffers still sent home are taken back under that lock.</para>
/// <para><b>Memory.</b> The region is an anonymous private <c>MAP_NORESERVE</c> mapping: untouched pages cost
/// nothing. Buffers are carved from it by a bump pointer, each at an offset that is a multiple of its capacity, so no
/// buffer crosses a boundary of the 1 MiB chunks the region is registered with io_uring in; the few bytes that
/// alignment skips are carved into buffers of smaller classes rather than lost. A freed buffer goes on its class's
/// LIFO free list and is reused by that class only: memory carved for one class never moves to another.
/// Allocation therefore fails when the class's free list is empty and the region has no room for one more buffer of
/// the class; the pool never uses more than <see cref="BufferPoolConfig.MaxMemory"/>.</para>
/// <para><b>Not supported:</b> growing the region, returning memory to the kernel before <see cref="Dispose"/>,
/// moving memory between classes, buffers larger than the largest class.</para>
/// </remarks>
/// <example>
/// <code>
/// using var pool = new BufferPool(new BufferPoolConfig { MaxMemory = 16 &lt;&lt; 20 }); // on a shard
/// if (pool.TryAllocate(6000, out BufferHandle buffer))     // an 8 KiB buffer; buffer.Size is 6000
/// {
///     buffer.Span.Fill(0);
///     pool.Deallocate(buffer);                             // exactly once, from any thread
/// }
/// </code>
/// </example>
public sealed partial class BufferPool : IDisposable
{
    private static readonly Action<object?> s_returnHome = static state =>
    {
        var slot = (BufferSlot)state!;
        slot.Pool.ReturnHome(slot);
    };

    private static int s_lastId;

    private readonly Shard? _owner;
    private readonly Lock _gate = new();
    private readonly SizeClass[] _classes;

    // The smallest class whose size is at least 2^n, by n (-1: none): finding a class costs one table read.
    private readonly sbyte[] _classByLog2 = new sbyte[32];
    private readonly AnonymousMapping _region;
    private readonly nint _base;
    private readonly long _maxMemory;

    // Every slot ever carved, for Dispose to invalidate outstanding handles; slots are never removed.
    private readonly List<BufferSlot> _slots = [];

    private long _carved;
    private long _oversizeFailures;

    // Capacity of the buffers in use, and the most it has been: plain fields, written by the owner (or under the lock).
    private long _bytesInUse;
    private long _bytesHighWater;
    private int _disposed;

    /// <summary>
    /// Reserves the region and, when <see cref="BufferPoolConfig.PreallocCount"/> asks for it, carves and touches
    /// that many buffers of every class. The calling shard (<see cref="Shard.Current"/>) becomes the pool's owner;
    /// on any other thread the pool has no owner and takes a lock on every call.
    /// </summary>
    /// <param name="config">The layout; validated and copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">The configuration breaks a rule of <see cref="BufferPoolConfig"/>.</exception>
    /// <exception cref="InsufficientMemoryException">The kernel refused to map the region.</exception>
    public BufferPool(BufferPoolConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();

        _classes = new SizeClass[config.SizeClasses.Count];
        var sizes = new int[_classes.Length];
        for (int i = 0; i < _classes.Length; i++)
        {
            sizes[i] = config.SizeClasses[i];
            _classes[i] = new SizeClass(i, sizes[i]);
        }

        SizeClasses = Array.AsReadOnly(sizes);
        for (int log2 = 0; log2 < _classByLog2.Length; log2++)
        {
            _classByLog2[log2] = -1;
            for (int i = 0; i < _classes.Length; i++)
            {
                if (_classes[i].Size >= 1L << log2)
                {
                    _classByLog2[log2] = (sbyte)i;
                    break;
                }
            }
        }

        _maxMemory = config.MaxMemory;
        ChunkSize = Math.Max(BufferPoolConfig.Mebibyte, sizes[^1]);
        _region = AnonymousMapping.Create(_maxMemory, ChunkSize);
        _base = _region.Base;
        _owner = Shard.Current;
        Id = Interlocked.Increment(ref s_lastId);

        if (config.PreallocCount > 0)
        {
            // Largest first: every class then starts where the previous one ended, already aligned, with no gap.
            for (int i = _classes.Length - 1; i >= 0; i--)
            {
                PreallocCore(_classes[i], config.PreallocCount);
            }
        }
    }

    /// <summary>A number that identifies the pool in this process (starting at 1), carried by its handles as
    /// <see cref="BufferHandle.PoolId"/> and named in error messages. Any thread.</summary>
    public int Id { get; }

    /// <summary>The shard that created the pool and alone allocates from it, or <see langword="null"/> when it was
    /// created off the shards (then any thread may use it, under a lock). Any thread.</summary>
    public Shard? Owner => _owner;

    /// <summary>The capacities the pool serves, in bytes, smallest first. Any thread.</summary>
    public IReadOnlyList<int> SizeClasses { get; }

    /// <summary>The most memory the pool uses, in bytes: the size of its region. Any thread.</summary>
    public long MaxMemory => _maxMemory;

    /// <summary>
    /// A snapshot of the pool's counters, per class and in total. Any thread may read it (see
    /// <see cref="BufferPoolStats"/> for how exact it is); it allocates the snapshot, so keep it off hot paths.
    /// It stays readable after <see cref="Dispose"/>.
    /// </summary>
    public BufferPoolStats Stats
    {
        get
        {
            var classes = new SizeClassStats[_classes.Length];
            for (int i = 0; i < classes.Length; i++)
            {
                SizeClass sizeClass = _classes[i];
                classes[i] = new SizeClassStats
                {
                    Size = sizeClass.Size,
                    Allocated = Volatile.Read(ref sizeClass.Allocated),
                    Free = Volatile.Read(ref sizeClass.Free),
                    HighWaterMark = Volatile.Read(ref sizeClass.HighWaterMark),
                    Failures = Volatile.Read(ref sizeClass.Failures),
                };
            }

            return new BufferPoolStats(classes, Volatile.Read(ref _carved), _maxMemory, Volatile.Read(ref _oversizeFailures));
        }
    }

    /// <summary>Bytes in buffers in use (capacity, as <see cref="BufferPoolStats.AllocatedBytes"/>), without the
    /// snapshot <see cref="Stats"/> allocates. Any thread; a moment old.</summary>
    internal long BytesInUse => Volatile.Read(ref _bytesInUse);

    /// <summary>The most bytes in use at once since the pool was created. Any thread; a moment old.</summary>
    internal long BytesHighWater => Volatile.Read(ref _bytesHighWater);

    /// <summary>Bytes of the region carved into buffers so far (<see cref="BufferPoolStats.ReservedBytes"/>). Any thread.</summary>
    internal long ReservedBytes => Volatile.Read(ref _carved);

    /// <summary>Every refused request so far (<see cref="BufferPoolStats.Failures"/>), without allocating. Any thread.</summary>
    internal long FailureCount
    {
        get
        {
            long failures = Volatile.Read(ref _oversizeFailures);
            foreach (SizeClass sizeClass in _classes)
            {
                failures += Volatile.Read(ref sizeClass.Failures);
            }

            return failures;
        }
    }

    /// <summary>The size of the chunks the region is registered with io_uring in: 1 MiB, or the largest class if
    /// that is larger. No buffer crosses a chunk boundary.</summary>
    internal int ChunkSize { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Allocates a buffer of at least <paramref name="size"/> bytes from the smallest class that holds it: the
    /// buffer freed last in that class, or a new one carved from the region. Never blocks and never allocates on
    /// the GC heap once the buffer has been carved. On the owner shard only (any thread for a pool without owner).
    /// </summary>
    /// <param name="size">The bytes needed (0 gets a buffer of the smallest class, with an empty span).</param>
    /// <param name="handle">The buffer, owned by the caller until passed to <see cref="Deallocate"/>; default when
    /// the call returns false.</param>
    /// <returns>False, counting a failure in <see cref="Stats"/>, when <paramref name="size"/> is larger than the
    /// largest class, or the class has no free buffer and the region no room for one more.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Called off the owner shard.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public bool TryAllocate(int size, out BufferHandle handle)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (_owner is null)
        {
            lock (_gate)
            {
                return TryAllocateCore(size, out handle);
            }
        }

        EnsureOwner();
        return TryAllocateCore(size, out handle);
    }

    /// <summary>
    /// Allocates a buffer of at least <paramref name="size"/> bytes, or returns <see langword="null"/> when
    /// <see cref="TryAllocate"/> would return false. Same rules, thread affinity and exceptions as
    /// <see cref="TryAllocate"/>.
    /// </summary>
    /// <param name="size">The bytes needed.</param>
    /// <returns>The buffer, owned by the caller until passed to <see cref="Deallocate"/>; or null.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Called off the owner shard.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public BufferHandle? Allocate(int size) => TryAllocate(size, out BufferHandle handle) ? handle : null;

    /// <summary>
    /// Gives a buffer back: exactly once per allocation, from any thread. On the owner shard it goes straight back on
    /// its class's free list. Elsewhere the handle (and every copy of it) is invalid when the call returns, and the
    /// buffer is sent to the owner shard, which puts it back on the free list when it next runs its queue; until
    /// then <see cref="Stats"/> counts it as allocated. The caller must not touch the memory afterwards.
    /// </summary>
    /// <param name="handle">A buffer this pool allocated and nobody has deallocated yet.</param>
    /// <exception cref="ArgumentException">The handle is default, or belongs to another pool.</exception>
    /// <exception cref="InvalidOperationException">The buffer was already deallocated (double free, or a copy of a
    /// handle deallocated before): nothing is changed.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public void Deallocate(BufferHandle handle)
    {
        BufferSlot slot = OwnSlot(handle, nameof(handle));
        int generation = handle.Generation;

        // The one atomic step of a free: of two frees of one allocation, on any threads, exactly one gets past it.
        if (Interlocked.CompareExchange(ref slot.Generation, generation + 1, generation) != generation)
        {
            ThrowHelper.ThrowDoubleFree(this);
        }

        if (_owner is null)
        {
            lock (_gate)
            {
                Return(slot);
            }
        }
        else if (Shard.Current == _owner)
        {
            Return(slot);
        }
        else
        {
            _owner.Post(new WorkItem(s_returnHome, slot));
        }
    }

    /// <summary>
    /// Carves <paramref name="count"/> more buffers of the class of <paramref name="sizeClass"/> bytes, puts them on
    /// its free list and touches their pages, so that allocations soon after neither carve nor fault. All or
    /// nothing. On the owner shard only (any thread for a pool without owner).
    /// </summary>
    /// <param name="sizeClass">The capacity of the class, in bytes: one of <see cref="SizeClasses"/>.</param>
    /// <param name="count">How many buffers to add (0 does nothing).</param>
    /// <exception cref="ArgumentException"><paramref name="sizeClass"/> is not one of the pool's classes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The buffers would take the pool past
    /// <see cref="BufferPoolConfig.MaxMemory"/> (nothing is carved), or the call is made off the owner shard.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public void Prealloc(int sizeClass, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        SizeClass? target = null;
        foreach (SizeClass candidate in _classes)
        {
            if (candidate.Size == sizeClass)
            {
                target = candidate;
                break;
            }
        }

        if (target is null)
        {
            throw new ArgumentException(
                $"Buffer pool {Id} has no size class of {sizeClass} bytes; its classes are {string.Join(", ", SizeClasses)}.",
                nameof(sizeClass));
        }

        if (_owner is null)
        {
            lock (_gate)
            {
                PreallocCore(target, count);
            }

            return;
        }

        EnsureOwner();
        PreallocCore(target, count);
    }

    /// <summary>
    /// Unmaps the region. Every outstanding handle becomes invalid (its accessors throw
    /// <see cref="ObjectDisposedException"/>) and buffers still on their way home are dropped. Safe to call twice.
    /// Call it on the owner shard, or on any thread once the owner shard has stopped or for a pool without owner,
    /// and only when no thread still reads or writes a buffer (or has one in flight in the kernel without the pool
    /// being registered): their memory is gone.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (BufferSlot slot in _slots)
            {
                // Make the generation even (free) unless a racing Deallocate already did: every handle goes stale.
                int generation;
                while (((generation = Volatile.Read(ref slot.Generation)) & 1) != 0
                    && Interlocked.CompareExchange(ref slot.Generation, generation + 1, generation) != generation)
                {
                }
            }
        }

        _region.Dispose();
    }

    /// <summary>The slot of a live handle of this pool, for calls that take a handle as an argument.</summary>
    /// <exception cref="ArgumentException">The handle is default or belongs to another pool.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    internal BufferSlot OwnSlot(in BufferHandle handle, string parameter)
    {
        BufferSlot? slot = handle.Slot;
        if (slot is null)
        {
            ThrowHelper.ThrowDefaultHandleArgument(parameter);
        }

        if (slot.Pool != this)
        {
            ThrowHelper.ThrowForeignHandle(this, slot.Pool, parameter);
        }

        if (IsDisposed)
        {
            ThrowHelper.ThrowPoolDisposed(this);
        }

        return slot;
    }

    /// <summary>The offset of a buffer from the start of the region, in bytes.</summary>
    internal long OffsetOf(BufferSlot slot) => slot.Address - _base;

    private bool TryAllocateCore(int size, out BufferHandle handle)
    {
        if (_disposed != 0)
        {
            ThrowHelper.ThrowPoolDisposed(this);
        }

        int index = ClassOf(size);
        if (index < 0)
        {
            _oversizeFailures++;
            handle = default;
            return false;
        }

        SizeClass sizeClass = _classes[index];
        BufferSlot? slot = sizeClass.Pop() ?? Carve(sizeClass);
        if (slot is null)
        {
            sizeClass.Failures++;
            handle = default;
            return false;
        }

        // Even to odd. Only this thread changes a free slot's generation, so a plain increment is enough; the write
        // is volatile so that a handle read on another thread never sees the new generation before the slot.
        int generation = slot.Generation + 1;
        Volatile.Write(ref slot.Generation, generation);
        if (++sizeClass.Allocated > sizeClass.HighWaterMark)
        {
            sizeClass.HighWaterMark = sizeClass.Allocated;
        }

        if ((_bytesInUse += sizeClass.Size) > _bytesHighWater)
        {
            _bytesHighWater = _bytesInUse;
        }

        handle = new BufferHandle(slot, size, generation);
        return true;
    }

    private int ClassOf(int size)
    {
        if (size <= _classes[0].Size)
        {
            return 0;
        }

        int log2 = 32 - BitOperations.LeadingZeroCount((uint)(size - 1));
        return _classByLog2[log2];
    }

    /// <summary>A new buffer of <paramref name="sizeClass"/> from the region, or null when it has no room.</summary>
    private BufferSlot? Carve(SizeClass sizeClass)
    {
        long start = AlignUp(_carved, sizeClass.Size);
        if (start + sizeClass.Size > _maxMemory)
        {
            return null;
        }

        if (start != _carved)
        {
            CarveGap(_carved, start);
        }

        Volatile.Write(ref _carved, start + sizeClass.Size);
        return NewSlot(sizeClass, start);
    }

    /// <summary>
    /// Turns the bytes skipped to align a buffer into free buffers of smaller classes instead of losing them. The gap
    /// runs from an offset that is a multiple of the smallest class to one that is a multiple of a larger class, so
    /// it splits into power-of-two blocks, each aligned to its own size (the lowest set bit of its offset), and each
    /// block into buffers of the largest class that fits it.
    /// </summary>
    private void CarveGap(long from, long to)
    {
        long at = from;
        while (at < to)
        {
            long block = at & -at;
            SizeClass target = _classes[0];
            for (int i = _classes.Length - 1; i > 0; i--)
            {
                if (_classes[i].Size <= block)
                {
                    target = _classes[i];
                    break;
                }
            }

            for (long piece = at; piece < at + block; piece += target.Size)
            {
                target.Push(NewSlot(target, piece));
            }

            at += block;
        }
    }

    private BufferSlot NewSlot(SizeClass sizeClass, long offset)
    {
        var slot = new BufferSlot(this, sizeClass, _base + (nint)offset);
        _slots.Add(slot);
        sizeClass.Carved++;
        return slot;
    }

    private void PreallocCore(SizeClass sizeClass, int count)
    {
        if (_disposed != 0)
        {
            ThrowHelper.ThrowPoolDisposed(this);
        }

        long start = AlignUp(_carved, sizeClass.Size);
        long needed = (long)count * sizeClass.Size;
        if (start + needed > _maxMemory)
        {
            throw new InvalidOperationException(
                $"Preallocating {count} buffers of {sizeClass.Size} bytes needs {needed} bytes, but buffer pool {Id} has only " +
                $"{Math.Max(0, _maxMemory - start)} of its MaxMemory ({_maxMemory} bytes) left to carve for that class.");
        }

        for (int i = 0; i < count; i++)
        {
            sizeClass.Push(Carve(sizeClass)!);
        }

        _region.Touch(start, needed);
    }

    /// <summary>Puts a buffer whose generation is already even back on its free list (owner, or under the lock).</summary>
    private void Return(BufferSlot slot)
    {
        if (_disposed != 0)
        {
            return;
        }

        SizeClass sizeClass = slot.Class;
        sizeClass.Allocated--;
        _bytesInUse -= sizeClass.Size;
        sizeClass.Push(slot);
    }

    /// <summary>A buffer deallocated on another thread arrives home. Normally this runs on the owner shard; once the
    /// owner has stopped, the runtime runs posted work on the thread pool, where several may run at once.</summary>
    private void ReturnHome(BufferSlot slot)
    {
        if (Shard.Current == _owner)
        {
            Return(slot);
            return;
        }

        lock (_gate)
        {
            Return(slot);
        }
    }

    private void EnsureOwner()
    {
        if (Shard.Current != _owner)
        {
            ThrowHelper.ThrowNotOwner(this, _owner!);
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}
