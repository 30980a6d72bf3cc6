using System.Runtime.CompilerServices;
using Miniss.IO.Uring;

namespace Miniss.IO;

/// <summary>
/// The one layout of the user data a shard gives its operations, and so finds in their completions:
/// <code>
///   bit 63      internal: the engine's and the loop's own operations (cancel requests, the wake-up read); they
///               have no slot, and their completions are never delivered to a target
///   bits 32-62  the slot's generation (31 bits): moves on each time the slot is freed, so a completion of an
///               operation whose slot was reused is recognised as stale
///   bits 0-31   the slot in the shard's <see cref="CompletionTable"/>
/// </code>
/// </summary>
internal static class CompletionToken
{
    /// <summary>Marks user data as internal (the engine's own bit: see <see cref="IoUringBackend"/>).</summary>
    public const ulong InternalBit = IoBackend.InternalUserData;

    /// <summary>The largest generation; the one after it is 0.</summary>
    public const uint MaxGeneration = (uint)(InternalBit >> 32) - 1;

    /// <summary>User data of the engine's cancel requests and of the loop's cancel-all on stop.</summary>
    public const ulong CancelRequest = InternalBit;

    /// <summary>User data of the eventfd read that wakes a sleeping shard.</summary>
    public const ulong WakeRead = InternalBit | 1;

    /// <summary>User data of the completion another shard's <c>IORING_OP_MSG_RING</c> posts to wake this one (it only
    /// ends the wait: nothing to do).</summary>
    public const ulong RingWake = InternalBit | 2;

    /// <summary>User data of a shard's own <c>IORING_OP_MSG_RING</c> wake-up, with the target shard's id in the low 32
    /// bits: its completion arrives only when the message could not be posted.</summary>
    public const ulong RingWakeSent = InternalBit | (1UL << 32);

    /// <summary>The user data of <paramref name="slot"/> in its <paramref name="generation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Encode(int slot, uint generation) => ((ulong)generation << 32) | (uint)slot;

    /// <summary>Whether <paramref name="userData"/> is one of the internal values (no slot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsInternal(ulong userData) => (userData & InternalBit) != 0;

    /// <summary>The slot of (non-internal) <paramref name="userData"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Slot(ulong userData) => (uint)userData;

    /// <summary>The generation of (non-internal) <paramref name="userData"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Generation(ulong userData) => (uint)(userData >> 32);

    /// <summary>The generation after <paramref name="generation"/>, wrapping within the 31 bits it has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Next(uint generation) => generation == MaxGeneration ? 0 : generation + 1;
}
