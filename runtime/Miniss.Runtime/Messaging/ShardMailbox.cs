using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Messaging;

/// <summary>
/// A shard's doorbell: which senders have published to it since it last looked, and whether it sleeps. Senders ring
/// it after publishing; the shard reads one word to know whether any of its incoming rings or its external queue
/// holds anything, and drains only the rings whose bit is set. Both words sit on a cache line of their own, away
/// from the fields the shard writes on every tick, so a sender's look at them costs one line transfer, not a miss
/// on a line the shard keeps dirtying.
/// <code>
///   mail bit 63       the external queue (threads that are not shards) has work
///   mail bits 0-62    shard s (s mod 63) has published to its ring to this shard
///   sleeping          1 while the shard sleeps in the kernel (or is about to): the sender that clears it wakes it
/// </code>
/// </summary>
/// <remarks>
/// No wake-up is lost: a sender publishes, then sets its bit with an atomic OR (a full fence), then reads the
/// sleeping flag; the shard sets the flag with an atomic exchange (a full fence), then reads the mail word. One of the
/// two sees the other's write. The shard clears the mail word with an atomic exchange before it reads the rings, so a
/// publish that races with the clearing leaves its bit set for the next look. Per batch, a sender pays one atomic OR
/// per target; per message, nothing.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct ShardMailbox
{
    /// <summary>The bit of the external queue.</summary>
    public const long ExternalBit = 1L << 63;

    // Offset 64 and a size of 192: at least one full cache line of padding on each side whatever the alignment.
    [FieldOffset(64)] private long _mail;
    [FieldOffset(72)] private int _sleeping;

    /// <summary>The mail bit of sending shard <paramref name="shard"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long BitOf(int shard) => 1L << (shard % 63);

    /// <summary>Whether <paramref name="bits"/> (a value <see cref="Take"/> returned) covers sending shard
    /// <paramref name="shard"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Covers(long bits, int shard) => (bits & BitOf(shard)) != 0;

    /// <summary>Whether anything was delivered since the shard last took its mail. Any thread; may be stale.</summary>
    public readonly bool HasMail => Volatile.Read(in _mail) != 0;

    /// <summary>Whether the shard has announced that it sleeps. Any thread; may be stale.</summary>
    public readonly bool IsSleeping => Volatile.Read(in _sleeping) == 1;

    /// <summary>Sender, after publishing: sets <paramref name="bit"/>. Returns whether the shard sleeps and this
    /// caller is the one that must wake it (the flag is cleared, so one sender wakes it, not every one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Deliver(long bit)
    {
        // Full fence: the published items are visible before the bit, and the bit before the sleeping flag is read.
        Interlocked.Or(ref _mail, bit);
        return TryClaimWake();
    }

    /// <summary>Clears the sleeping flag if it is set; true for the caller that cleared it (and so must wake the
    /// shard). Callers publish their work first, with a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaimWake() => Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1;

    /// <summary>The shard: takes the bits delivered so far and clears them (0 when there were none, with no write).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Take() => Volatile.Read(ref _mail) == 0 ? 0 : Interlocked.Exchange(ref _mail, 0);

    /// <summary>The shard: puts back bits it took and could not finish reading (a message's execution failed the loop).</summary>
    public void Return(long bits) => Interlocked.Or(ref _mail, bits);

    /// <summary>The shard is about to sleep: from now on senders wake it. Full fence: the mail word read after this
    /// sees every bit set before a sender read the flag as clear.</summary>
    public void AnnounceSleep() => Interlocked.Exchange(ref _sleeping, 1);

    /// <summary>The shard is awake (it woke, or decided not to sleep).</summary>
    public void EndSleep() => Volatile.Write(ref _sleeping, 0);
}
