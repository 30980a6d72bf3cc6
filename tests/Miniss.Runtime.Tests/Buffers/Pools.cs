using System;
using Miniss.Buffers;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Pool configurations and shortcuts shared by the buffer pool tests.</summary>
internal static class Pools
{
    public const int KiB = 1024;
    public const int MiB = 1024 * 1024;

    /// <summary>A pool of <paramref name="maxMemory"/> bytes with the given classes (the defaults when none).</summary>
    public static BufferPoolConfig Config(long maxMemory, params int[] classes) => classes.Length == 0
        ? new BufferPoolConfig { MaxMemory = maxMemory }
        : new BufferPoolConfig { MaxMemory = maxMemory, SizeClasses = classes };

    /// <summary>A pool with no owner (created off the shards), with the given classes.</summary>
    public static BufferPool Create(long maxMemory, params int[] classes) => new(Config(maxMemory, classes));

    public static BufferHandle Take(this BufferPool pool, int size) =>
        pool.Allocate(size) ?? throw new InvalidOperationException($"the pool refused {size} bytes");
}
