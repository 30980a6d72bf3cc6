using System;
using System.Collections.Generic;
using System.Linq;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Which buffer a request gets: its class, size, capacity, alignment and place in the region.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class AllocationTests
{
    [TestCase(0, 4 * KiB)]
    [TestCase(1, 4 * KiB)]
    [TestCase(4 * KiB, 4 * KiB)]
    [TestCase(4 * KiB + 1, 8 * KiB)]
    [TestCase(100 * KiB, 128 * KiB)]
    [TestCase(512 * KiB, 512 * KiB)]
    [TestCase(512 * KiB + 1, MiB)]
    [TestCase(MiB, MiB)]
    [CancelAfter(10000)]
    public void A_request_gets_the_smallest_class_that_holds_it(int size, int capacity)
    {
        using BufferPool pool = Create(8 * MiB);

        BufferHandle buffer = pool.Take(size);

        Assert.That(buffer.Size, Is.EqualTo(size));
        Assert.That(buffer.Capacity, Is.EqualTo(capacity));
        Assert.That(buffer.Span.Length, Is.EqualTo(size));
    }

    [TestCase(5000, 64 * KiB)]
    [TestCase(64 * KiB + 1, MiB)]
    [CancelAfter(10000)]
    public void With_sparse_classes_a_request_skips_to_the_next_class_that_exists(int size, int capacity)
    {
        using BufferPool pool = Create(4 * MiB, 4 * KiB, 64 * KiB, MiB);

        Assert.That(pool.Take(size).Capacity, Is.EqualTo(capacity));
    }

    [Test, CancelAfter(10000)]
    public void A_request_larger_than_the_largest_class_gets_nothing()
    {
        using BufferPool pool = Create(8 * MiB);

        Assert.That(pool.Allocate(MiB + 1), Is.Null);
        Assert.That(pool.TryAllocate(int.MaxValue, out BufferHandle handle), Is.False);
        Assert.That(handle.IsValid, Is.False);
    }

    [Test, CancelAfter(10000)]
    public void A_negative_size_throws()
    {
        using BufferPool pool = Create(8 * MiB);

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Allocate(-1));
    }

    [Test, CancelAfter(10000)]
    public void Every_buffer_of_every_class_is_aligned_to_its_capacity_and_to_the_alignment()
    {
        using BufferPool pool = Create(64 * MiB);
        var buffers = new List<BufferHandle>();

        // Interleaving small and large classes forces the bump pointer to skip to each large buffer's alignment.
        for (int round = 0; round < 3; round++)
        {
            foreach (int size in pool.SizeClasses)
            {
                buffers.Add(pool.Take(size));
                buffers.Add(pool.Take(4 * KiB));
            }
        }

        Assert.Multiple(() =>
        {
            foreach (BufferHandle buffer in buffers)
            {
                Assert.That((long)buffer.Address % buffer.Capacity, Is.Zero, $"{buffer}");
                Assert.That((long)buffer.Address % 4096, Is.Zero, $"{buffer}");
            }
        });
    }

    [Test, CancelAfter(10000)]
    public void Buffers_smaller_than_a_page_are_aligned_to_a_small_alignment()
    {
        var config = new BufferPoolConfig { Alignment = 512, SizeClasses = [512, 1024, 2048], MaxMemory = MiB };
        using var pool = new BufferPool(config);

        var buffers = Enumerable.Range(0, 100).Select(i => pool.Take(i % 3 == 0 ? 2000 : 300)).ToList();

        Assert.That(buffers.Select(b => (long)b.Address % 512), Is.All.Zero);
        Assert.That(buffers.Select(b => (long)b.Address % b.Capacity), Is.All.Zero);
    }

    [Test, CancelAfter(10000)]
    public void No_buffer_crosses_a_1_MiB_boundary()
    {
        using BufferPool pool = Create(16 * MiB);
        var random = new Random(7);
        var buffers = new List<BufferHandle>();
        while (pool.TryAllocate(random.Next(1, MiB + 1), out BufferHandle buffer))
        {
            buffers.Add(buffer);
        }

        Assert.That(buffers, Is.Not.Empty);
        Assert.That(buffers.Select(b => b.Address / MiB == (b.Address + b.Capacity - 1) / MiB), Is.All.True);
    }

    [Test, CancelAfter(10000)]
    public void Buffers_in_use_never_overlap_and_all_lie_within_MaxMemory()
    {
        const long maxMemory = 8 * MiB;
        using BufferPool pool = Create(maxMemory);
        var random = new Random(11);
        var buffers = new List<BufferHandle>();
        while (pool.TryAllocate(random.Next(1, 300 * KiB), out BufferHandle buffer))
        {
            buffers.Add(buffer);
        }

        var ordered = buffers.Select(b => (Start: (long)b.Address, End: (long)b.Address + b.Capacity)).OrderBy(b => b.Start).ToList();
        for (int i = 1; i < ordered.Count; i++)
        {
            Assert.That(ordered[i].Start, Is.GreaterThanOrEqualTo(ordered[i - 1].End), "buffers overlap");
        }

        Assert.That(ordered[^1].End - ordered[0].Start, Is.LessThanOrEqualTo(maxMemory));
    }

    [Test, CancelAfter(10000)]
    public void Each_buffer_is_contiguous_and_keeps_its_own_bytes()
    {
        using BufferPool pool = Create(4 * MiB);
        var random = new Random(3);
        var buffers = new List<BufferHandle>();
        while (pool.TryAllocate(random.Next(1, 200 * KiB), out BufferHandle buffer))
        {
            buffer.Span.Fill((byte)(buffers.Count + 1));
            buffers.Add(buffer);
        }

        for (int i = 0; i < buffers.Count; i++)
        {
            Assert.That(buffers[i].Span.IndexOfAnyExcept((byte)(i + 1)), Is.EqualTo(-1), $"buffer {i} was overwritten");
        }
    }

    [Test, CancelAfter(10000)]
    public void A_freed_buffer_is_the_next_one_its_class_hands_out()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle first = pool.Take(8 * KiB);
        BufferHandle second = pool.Take(8 * KiB);
        nint firstAddress = first.Address;
        nint secondAddress = second.Address;

        pool.Deallocate(first);
        pool.Deallocate(second);

        Assert.That(pool.Take(8 * KiB).Address, Is.EqualTo(secondAddress), "last freed, first reused");
        Assert.That(pool.Take(8 * KiB).Address, Is.EqualTo(firstAddress));
    }

    [Test, CancelAfter(10000)]
    public void The_bytes_skipped_to_align_a_large_buffer_become_free_buffers_of_smaller_classes()
    {
        using BufferPool pool = Create(8 * MiB);
        pool.Take(4 * KiB);

        BufferHandle large = pool.Take(MiB);

        BufferPoolStats stats = pool.Stats;
        Assert.That(stats.ReservedBytes, Is.EqualTo(2L * MiB), "the 1 MiB buffer starts at the second MiB");
        Assert.That(large.Capacity, Is.EqualTo(MiB));
        Assert.That(stats.Classes.Take(8).Select(c => c.Free), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1, 1, 1 }));
    }

    [Test, CancelAfter(10000)]
    public void Allocating_and_deallocating_allocates_nothing_on_the_heap_once_warm()
    {
        using BufferPool pool = Create(4 * MiB);
        for (int i = 0; i < 100; i++)
        {
            pool.Deallocate(pool.Take(i * 100));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            pool.TryAllocate(i % 10_000, out BufferHandle buffer);
            pool.Deallocate(buffer);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
