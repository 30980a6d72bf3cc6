using System;

namespace Miniss;

/// <summary>
/// A shard's loop failed: an exception escaped the runtime's own code on that shard, which then stopped serving. The
/// failure is in <see cref="Exception.InnerException"/>. <see cref="MinissRuntime.StopAsync()"/> throws it once the
/// runtime has stopped; <see cref="MinissRuntime.Fault"/> and <see cref="MinissRuntime.Faulted"/> hold it before.
/// </summary>
public sealed class ShardFaultedException : Exception
{
    /// <summary>Creates the exception for shard <paramref name="shardId"/>.</summary>
    /// <param name="shardId">The shard whose loop failed.</param>
    /// <param name="failure">What escaped the loop.</param>
    public ShardFaultedException(int shardId, Exception failure)
        : base($"Miniss shard {shardId} failed: {failure.GetType().Name}: {failure.Message}", failure)
    {
        ShardId = shardId;
    }

    /// <summary>The shard whose loop failed.</summary>
    public int ShardId { get; }
}
