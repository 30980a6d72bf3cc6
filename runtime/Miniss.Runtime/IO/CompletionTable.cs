using System;
using System.Runtime.CompilerServices;
using System.Threading;
using Miniss.Bindings.Linux;

namespace Miniss.IO;

/// <summary>
/// A shard's one table of operations in flight: every target registered here (a single-shot promise or a multishot
/// operation) holds a slot until its last completion, and its user data is that slot and the slot's generation
/// (<see cref="CompletionToken"/>). Reaping a completion is one decode, one array access and one generation check.
/// Single-threaded: only the owning shard's thread registers and delivers; <see cref="Count"/> may be read anywhere.
/// </summary>
internal sealed class CompletionTable
{
    private Entry[] _entries = new Entry[64];
    private int _used;
    private int _freeHead = -1;
    private int _count;

    /// <summary>Targets registered and not yet at their last completion (the shard's operations in flight). Any
    /// thread; a moment old.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gives <paramref name="target"/> a slot until its last completion; returns the user data its SQE carries.</summary>
    public ulong Register(ICompletionTarget target)
    {
        int slot = _freeHead;
        if (slot >= 0)
        {
            _freeHead = _entries[slot].NextFree;
        }
        else
        {
            slot = _used++;
            if (slot == _entries.Length)
            {
                Array.Resize(ref _entries, slot * 2);
            }
        }

        ref Entry entry = ref _entries[slot];
        entry.Target = target;
        _count++;
        return CompletionToken.Encode(slot, entry.Generation);
    }

    /// <summary>Whether <paramref name="userData"/> is registered and its last completion has not arrived.</summary>
    public bool IsRegistered(ulong userData)
    {
        uint slot = CompletionToken.Slot(userData);
        return !CompletionToken.IsInternal(userData) && slot < (uint)_used
            && _entries[slot].Generation == CompletionToken.Generation(userData) && _entries[slot].Target is not null;
    }

    /// <summary>Frees the slot of an operation that never reached the kernel (it failed while being prepared).</summary>
    public void Release(ulong userData)
    {
        if (IsRegistered(userData))
        {
            Free((int)CompletionToken.Slot(userData));
        }
    }

    /// <summary>
    /// Finds the target of a completion: when it is the target's last (no <c>IORING_CQE_F_MORE</c>), its slot is freed
    /// first. False for user data that is internal, stale (its slot has moved on to another generation) or unknown.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryTake(ulong userData, uint flags, out ICompletionTarget target)
    {
        uint slot = CompletionToken.Slot(userData);
        Entry[] entries = _entries;
        if (slot < (uint)entries.Length && !CompletionToken.IsInternal(userData))
        {
            ref Entry entry = ref entries[slot];
            if (entry.Generation == CompletionToken.Generation(userData) && entry.Target is { } found)
            {
                if ((flags & IoUring.IORING_CQE_F_MORE) == 0)
                {
                    Free((int)slot);
                }

                target = found;
                return true;
            }
        }

        target = null!;
        return false;
    }

    private void Free(int slot)
    {
        ref Entry entry = ref _entries[slot];
        entry.Target = null;
        entry.Generation = CompletionToken.Next(entry.Generation);
        entry.NextFree = _freeHead;
        _freeHead = slot;
        _count--;
    }

    private struct Entry
    {
        public ICompletionTarget? Target;
        public uint Generation;

        // The next free slot while this one is free (-1: none).
        public int NextFree;
    }
}
