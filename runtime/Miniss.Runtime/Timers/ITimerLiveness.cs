namespace Miniss.Timers;

/// <summary>
/// Tells a <see cref="TimerHeap{T, TLiveness}"/> whether one of its entries still stands: a timer cancelled (or its
/// owner reused) stays in the heap as a dead entry until it reaches the top or a compaction drops it.
/// </summary>
/// <typeparam name="T">The heap's entry.</typeparam>
/// <remarks>Implemented by a struct, so the heap's calls are specialised and inlined rather than dispatched.</remarks>
internal interface ITimerLiveness<T>
{
    /// <summary>Whether <paramref name="entry"/> is still armed.</summary>
    bool IsLive(in T entry);
}
