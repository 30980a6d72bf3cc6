using System;
using System.Collections.Generic;
using System.Numerics;

namespace Miniss.Buffers;

/// <summary>
/// How a <see cref="BufferPool"/> is laid out. Every property has a documented default; the defaults suit socket and
/// file I/O (buffers from 4 KiB to 1 MiB, <c>O_DIRECT</c> alignment, 64 MiB per pool). The pool validates and copies
/// the configuration when it is created; changing the list afterwards changes nothing.
/// </summary>
public sealed class BufferPoolConfig
{
    /// <summary>1 MiB, in bytes.</summary>
    internal const int Mebibyte = 1 << 20;

    /// <summary>The largest buffer io_uring registers as one fixed buffer (1 GiB), in bytes.</summary>
    internal const int MaxClassSize = 1 << 30;

    private static readonly IReadOnlyList<int> s_defaultSizeClasses = Array.AsReadOnly(
    [
        4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, Mebibyte,
    ]);

    /// <summary>
    /// The buffer capacities the pool serves, in bytes: each a power of two and a multiple of <see cref="Alignment"/>,
    /// strictly ascending, at most 1 GiB. A request gets the smallest class that holds it. Default: 4, 8, 16, 32,
    /// 64, 128, 256 and 512 KiB and 1 MiB.
    /// </summary>
    public IReadOnlyList<int> SizeClasses { get; set; } = s_defaultSizeClasses;

    /// <summary>How many buffers of every class the pool carves and touches when it is created, so the first
    /// allocations neither carve nor fault pages in. Default: 0 (carve on demand).</summary>
    public int PreallocCount { get; set; }

    /// <summary>The alignment of every buffer, in bytes: a power of two, at least 512 (a sector, what
    /// <c>O_DIRECT</c> needs). Default: 4096 (a page). Buffers are in fact aligned to their own capacity, which is
    /// a multiple of this.</summary>
    public int Alignment { get; set; } = 4096;

    /// <summary>The most memory the pool may use, in bytes: the size of the one region it reserves and carves every
    /// buffer from. A multiple of <see cref="Alignment"/>, at least the largest size class. Default: 64 MiB.</summary>
    public long MaxMemory { get; set; } = 64L * Mebibyte;

    /// <summary>A copy of this configuration (the size-class list is copied too).</summary>
    internal BufferPoolConfig Clone()
    {
        var copy = (BufferPoolConfig)MemberwiseClone();
        copy.SizeClasses = SizeClasses is null ? null! : Array.AsReadOnly(System.Linq.Enumerable.ToArray(SizeClasses));
        return copy;
    }

    /// <summary>Checks every rule above.</summary>
    /// <exception cref="ArgumentException">A property breaks its rule; the message says which and why.</exception>
    internal void Validate()
    {
        if (Alignment < 512 || !BitOperations.IsPow2(Alignment))
        {
            throw new ArgumentException($"Alignment must be a power of two of at least 512 bytes; it is {Alignment}.", nameof(Alignment));
        }

        if (SizeClasses is null || SizeClasses.Count == 0)
        {
            throw new ArgumentException("SizeClasses must name at least one buffer size.", nameof(SizeClasses));
        }

        long previous = 0;
        long total = 0;
        for (int i = 0; i < SizeClasses.Count; i++)
        {
            int size = SizeClasses[i];
            if (size <= 0 || !BitOperations.IsPow2(size))
            {
                throw new ArgumentException($"SizeClasses[{i}] is {size}: every size class must be a power of two.", nameof(SizeClasses));
            }

            if (size % Alignment != 0)
            {
                throw new ArgumentException(
                    $"SizeClasses[{i}] is {size}: every size class must be a multiple of Alignment ({Alignment}).", nameof(SizeClasses));
            }

            if (size > MaxClassSize)
            {
                throw new ArgumentException(
                    $"SizeClasses[{i}] is {size}: size classes are at most 1 GiB (the most io_uring registers as one buffer).",
                    nameof(SizeClasses));
            }

            if (size <= previous)
            {
                throw new ArgumentException(
                    $"SizeClasses must be strictly ascending: {previous} is followed by {size} at index {i}.", nameof(SizeClasses));
            }

            previous = size;
            total += size;
        }

        if (MaxMemory < previous)
        {
            throw new ArgumentException(
                $"MaxMemory ({MaxMemory} bytes) must hold at least one buffer of the largest size class ({previous} bytes).", nameof(MaxMemory));
        }

        if (MaxMemory % Alignment != 0)
        {
            throw new ArgumentException($"MaxMemory ({MaxMemory} bytes) must be a multiple of Alignment ({Alignment}).", nameof(MaxMemory));
        }

        if (PreallocCount < 0)
        {
            throw new ArgumentException($"PreallocCount must not be negative; it is {PreallocCount}.", nameof(PreallocCount));
        }

        // Carved largest class first, preallocated buffers leave no alignment gaps: they need exactly this much.
        if (PreallocCount > 0 && (total > MaxMemory / PreallocCount))
        {
            throw new ArgumentException(
                $"PreallocCount ({PreallocCount}) buffers of every size class need {(decimal)PreallocCount * total} bytes, more than MaxMemory ({MaxMemory}).",
                nameof(PreallocCount));
        }
    }
}
