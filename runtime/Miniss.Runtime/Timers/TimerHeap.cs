using System;
using System.Diagnostics;

namespace Miniss.Timers;

/// <summary>
/// A binary min-heap of deadlines (<see cref="Clock"/> timestamps) with lazy deletion: cancelling a timer does not
/// search the heap; its entry stays, dead, until it reaches the top (<see cref="TryPopDue"/>,
/// <see cref="TryPeekLive"/> drop it) or a compaction removes it. Owned by one thread (a shard's loop).
/// </summary>
/// <typeparam name="T">The entry: what to fire, plus whatever identifies the arming (so a reused owner's entry is
/// recognised as dead).</typeparam>
/// <typeparam name="TLiveness">Judges whether an entry is still armed.</typeparam>
/// <remarks>
/// <para>Compaction bounds the memory of a heap whose timers are mostly cancelled before they fire (a timeout per
/// request, cancelled when the request completes): when a push finds the heap holding twice as many entries as were
/// live after the last compaction (at least <see cref="MinimumCompaction"/>), it drops every dead entry and rebuilds
/// the heap in place, in linear time. So the heap never holds more than about twice its peak of live timers, the pass
/// runs only after as many pushes as it visits entries (constant amortised cost), and it runs only when dead entries
/// may outnumber the live ones.</para>
/// <para>No allocation once the array has grown to the peak. Not thread-safe; entries with equal deadlines fire in
/// no particular order.</para>
/// </remarks>
internal sealed class TimerHeap<T, TLiveness>
    where T : struct
    where TLiveness : struct, ITimerLiveness<T>
{
    /// <summary>Below this many entries the heap never compacts: dead entries cost less than the pass.</summary>
    public const int MinimumCompaction = 64;

    private readonly TLiveness _liveness;
    private Entry[] _entries;
    private int _count;
    private int _compactAt = MinimumCompaction;

    /// <summary>Creates an empty heap with room for <paramref name="capacity"/> entries.</summary>
    public TimerHeap(TLiveness liveness, int capacity = 16)
    {
        _liveness = liveness;
        _entries = new Entry[Math.Max(capacity, 4)];
    }

    /// <summary>Entries held, dead ones included.</summary>
    public int Count => _count;

    /// <summary>Entries the heap has room for without growing.</summary>
    public int Capacity => _entries.Length;

    /// <summary>How many compactions ran.</summary>
    public long Compactions { get; private set; }

    /// <summary>The entry at <paramref name="index"/> (0 to <see cref="Count"/> - 1), in no particular order: for a
    /// pass over every entry (failing them all at a stop).</summary>
    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return _entries[index].Value;
        }
    }

    /// <summary>Adds <paramref name="entry"/> due at <paramref name="deadline"/>; compacts first when dead entries may
    /// outnumber live ones.</summary>
    public void Push(T entry, long deadline)
    {
        if (_count >= _compactAt)
        {
            Compact();
        }

        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        int index = _count++;
        SiftUp(index, new Entry(entry, deadline));
    }

    /// <summary>The earliest entry, dead or live.</summary>
    public bool TryPeek(out T entry, out long deadline)
    {
        if (_count == 0)
        {
            entry = default;
            deadline = 0;
            return false;
        }

        entry = _entries[0].Value;
        deadline = _entries[0].Deadline;
        return true;
    }

    /// <summary>The earliest live entry; dead entries above it are dropped.</summary>
    public bool TryPeekLive(out T entry, out long deadline)
    {
        while (_count > 0)
        {
            if (_liveness.IsLive(in _entries[0].Value))
            {
                entry = _entries[0].Value;
                deadline = _entries[0].Deadline;
                return true;
            }

            RemoveTop();
        }

        entry = default;
        deadline = 0;
        return false;
    }

    /// <summary>Removes and returns the earliest live entry due at <paramref name="now"/> or before; dead entries met
    /// on the way are dropped. False when no live entry is due.</summary>
    public bool TryPopDue(long now, out T entry)
    {
        while (_count > 0 && _entries[0].Deadline <= now)
        {
            Entry top = _entries[0];
            RemoveTop();
            if (_liveness.IsLive(in top.Value))
            {
                entry = top.Value;
                return true;
            }
        }

        entry = default;
        return false;
    }

    /// <summary>Drops every dead entry and restores the heap order, in place.</summary>
    public void Compact()
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_liveness.IsLive(in _entries[i].Value))
            {
                _entries[kept++] = _entries[i];
            }
        }

        Array.Clear(_entries, kept, _count - kept);
        _count = kept;
        for (int i = (_count >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, _entries[i]);
        }

        _compactAt = Math.Max(MinimumCompaction, 2 * _count);
        Compactions++;
    }

    /// <summary>Forgets every entry (keeps the array).</summary>
    public void Clear()
    {
        Array.Clear(_entries, 0, _count);
        _count = 0;
        _compactAt = MinimumCompaction;
    }

    private void RemoveTop()
    {
        int last = --_count;
        Entry moved = _entries[last];
        _entries[last] = default;
        if (last > 0)
        {
            SiftDown(0, moved);
        }
    }

    private void SiftUp(int index, Entry entry)
    {
        Entry[] entries = _entries;
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (entries[parent].Deadline <= entry.Deadline)
            {
                break;
            }

            entries[index] = entries[parent];
            index = parent;
        }

        entries[index] = entry;
    }

    private void SiftDown(int index, Entry entry)
    {
        Entry[] entries = _entries;
        int count = _count;
        while (true)
        {
            int child = (index << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && entries[child + 1].Deadline < entries[child].Deadline)
            {
                child++;
            }

            if (entry.Deadline <= entries[child].Deadline)
            {
                break;
            }

            entries[index] = entries[child];
            index = child;
        }

        Debug.Assert(index < count);
        entries[index] = entry;
    }

    private readonly struct Entry(T value, long deadline)
    {
        public readonly T Value = value;
        public readonly long Deadline = deadline;
    }
}
