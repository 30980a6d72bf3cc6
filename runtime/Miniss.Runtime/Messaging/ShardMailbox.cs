using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Messaging;

/// <summary>
/// A shard's doorbell for threads that are not shards, and its sleeping flag. Outside threads ring it after queueing
/// work on the shard's external queue; every sender, shard or not, reads the sleeping flag after publishing, and the
/// one that clears it wakes the shard. Both words sit on a cache line of their own, away from the fields the shard
/// writes on every tick, so a sender's look at the flag costs at most one line transfer, and none while the flag
/// stays as it was.
/// </summary>
/// <remarks>
/// Shards do not ring the doorbell: the receiving shard finds their messages by reading the tail of each of its
/// incoming rings (see <see cref="CrossShardQueue.HasReadable"/>), a line that stays in its cache until the sender
/// publishes again. An atomic doorbell per batch would add two line transfers to every message's trip (the sender's
/// atomic write, then the receiver's clearing), which is most of what separated a cross-shard round trip from the
/// two-thread floor.
/// <para>No wake-up is lost: a sender publishes, then executes a full fence (a shard: one
/// <see cref="Interlocked.MemoryBarrier"/> per batch; an outside thread: the atomic OR of <see cref="DeliverExternal"/>),
/// then reads the sleeping flag; the shard sets the flag with an atomic exchange (a full fence), then looks at its
/// rings and its mail. One of the two sees the other's write.</para>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct ShardMailbox
{
    // Offset 64 and a size of 192: at least one full cache line of padding on each side whatever the alignment.
    [FieldOffset(64)] private int _external;
    [FieldOffset(68)] private int _sleeping;

    /// <summary>Whether outside threads have queued work since the shard last took its mail. Any thread; may be stale.</summary>
    public readonly bool HasMail => Volatile.Read(in _external) != 0;

    /// <summary>Whether the shard has announced that it sleeps. Any thread; may be stale.</summary>
    public readonly bool IsSleeping => Volatile.Read(in _sleeping) == 1;

    /// <summary>An outside thread, after queueing work: rings the doorbell. Returns whether the shard sleeps and this
    /// caller is the one that must wake it (the flag is cleared, so one sender wakes it, not every one).</summary>
    public bool DeliverExternal()
    {
        // Full fence: the queued work is visible before the doorbell, and the doorbell before the sleeping flag is read.
        Interlocked.Or(ref _external, 1);
        return TryClaimWake();
    }

    /// <summary>Clears the sleeping flag if it is set; true for the caller that cleared it (and so must wake the
    /// shard). Callers publish their work first, then execute a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaimWake() => Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1;

    /// <summary>The shard: whether the doorbell was rung, clearing it (no write when it was not). Work queued after
    /// this rings it again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TakeExternal() => Volatile.Read(ref _external) != 0 && Interlocked.Exchange(ref _external, 0) != 0;

    /// <summary>The shard is about to sleep: from now on senders wake it. Full fence: the rings and the doorbell read
    /// after this see everything published before a sender read the flag as clear.</summary>
    public void AnnounceSleep() => Interlocked.Exchange(ref _sleeping, 1);

    /// <summary>The shard is awake (it woke, or decided not to sleep).</summary>
    public void EndSleep() => Volatile.Write(ref _sleeping, 0);
}
