using System.Collections.Generic;

namespace Miniss.Buffers;

/// <summary>
/// A snapshot of a <see cref="BufferPool"/>'s counters. Read on the pool's owner shard it is exact; read on another
/// thread each counter is a recent value, but they may not all be from the same instant.
/// </summary>
public sealed class BufferPoolStats
{
    internal BufferPoolStats(IReadOnlyList<SizeClassStats> classes, long reservedBytes, long maxMemory, long oversizeFailures)
    {
        Classes = classes;
        ReservedBytes = reservedBytes;
        MaxMemory = maxMemory;
        OversizeFailures = oversizeFailures;
        long failures = oversizeFailures;
        long allocated = 0;
        foreach (SizeClassStats sizeClass in classes)
        {
            failures += sizeClass.Failures;
            allocated += sizeClass.Allocated * sizeClass.Size;
        }

        Failures = failures;
        AllocatedBytes = allocated;
    }

    /// <summary>Every size class, smallest first.</summary>
    public IReadOnlyList<SizeClassStats> Classes { get; }

    /// <summary>Bytes of the region carved into buffers so far, in use or free: the memory the pool may have touched.
    /// Never more than <see cref="MaxMemory"/>.</summary>
    public long ReservedBytes { get; }

    /// <summary>The pool's limit, in bytes (<see cref="BufferPoolConfig.MaxMemory"/>).</summary>
    public long MaxMemory { get; }

    /// <summary>Bytes in buffers currently in use (capacity, not the sizes asked for).</summary>
    public long AllocatedBytes { get; }

    /// <summary>Requests refused because they were larger than the largest size class.</summary>
    public long OversizeFailures { get; }

    /// <summary>Every refused request: the classes' <see cref="SizeClassStats.Failures"/> plus
    /// <see cref="OversizeFailures"/>.</summary>
    public long Failures { get; }

    /// <summary>The statistics of the class of buffers of exactly <paramref name="size"/> bytes.</summary>
    /// <exception cref="KeyNotFoundException">No class has that size.</exception>
    public SizeClassStats this[int size]
    {
        get
        {
            foreach (SizeClassStats sizeClass in Classes)
            {
                if (sizeClass.Size == size)
                {
                    return sizeClass;
                }
            }

            throw new KeyNotFoundException($"the pool has no size class of {size} bytes");
        }
    }
}
