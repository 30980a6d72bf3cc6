namespace Miniss.Timers;

/// <summary>A shard's timer entry: the delay to fire, and which of its armings it is (a pooled promise is reused).</summary>
internal readonly record struct ArmedDelay(DelayPromise Promise, long ArmId);
