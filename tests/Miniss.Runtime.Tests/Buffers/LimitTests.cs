using System;
using System.Collections.Generic;
using System.Linq;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>What the pool refuses, and that it never goes past MaxMemory.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class LimitTests
{
    [Test, CancelAfter(10000)]
    public void Allocation_fails_once_the_region_is_carved_and_the_class_has_no_free_buffer()
    {
        using BufferPool pool = Create(64 * KiB, 4 * KiB, 8 * KiB);
        for (int i = 0; i < 16; i++)
        {
            pool.Take(4 * KiB);
        }

        Assert.That(pool.Allocate(4 * KiB), Is.Null);
        Assert.That(pool.Allocate(8 * KiB), Is.Null);
    }

    [Test, CancelAfter(10000)]
    public void Memory_carved_for_one_class_is_not_handed_to_another()
    {
        using BufferPool pool = Create(64 * KiB, 4 * KiB, 8 * KiB);
        var small = Enumerable.Range(0, 16).Select(_ => pool.Take(4 * KiB)).ToList();
        small.ForEach(pool.Deallocate);

        Assert.That(pool.Allocate(8 * KiB), Is.Null, "the 8 KiB class is exhausted although nothing is in use");
        Assert.That(pool.Allocate(4 * KiB), Is.Not.Null, "the 4 KiB class still has its 16 buffers");
    }

    [Test, CancelAfter(10000)]
    public void A_refused_request_counts_a_failure_in_its_class()
    {
        using BufferPool pool = Create(64 * KiB, 4 * KiB, 8 * KiB);
        for (int i = 0; i < 16; i++)
        {
            pool.Take(4 * KiB);
        }

        pool.Allocate(4 * KiB);
        pool.Allocate(100);
        pool.Allocate(8 * KiB);

        BufferPoolStats stats = pool.Stats;
        Assert.That(stats[4 * KiB].Failures, Is.EqualTo(2));
        Assert.That(stats[8 * KiB].Failures, Is.EqualTo(1));
        Assert.That(stats.Failures, Is.EqualTo(3));
    }

    [Test, CancelAfter(10000)]
    public void A_request_larger_than_the_largest_class_counts_an_oversize_failure()
    {
        using BufferPool pool = Create(4 * MiB);

        pool.Allocate(2 * MiB);

        Assert.That(pool.Stats.OversizeFailures, Is.EqualTo(1));
        Assert.That(pool.Stats.Failures, Is.EqualTo(1));
        Assert.That(pool.Stats.Classes.Select(c => c.Failures), Is.All.Zero);
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [CancelAfter(20000)]
    public void Under_any_mix_of_requests_the_pool_never_uses_more_than_MaxMemory(int seed)
    {
        const long maxMemory = 6 * MiB;
        using BufferPool pool = Create(maxMemory);
        var random = new Random(seed);
        var live = new List<BufferHandle>();
        for (int step = 0; step < 20_000; step++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int victim = random.Next(live.Count);
                pool.Deallocate(live[victim]);
                live[victim] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
            else if (pool.TryAllocate(random.Next(1, MiB + 1) >> random.Next(0, 9), out BufferHandle buffer))
            {
                live.Add(buffer);
            }

            BufferPoolStats stats = pool.Stats;
            Assert.That(stats.ReservedBytes, Is.LessThanOrEqualTo(maxMemory));
            Assert.That(stats.AllocatedBytes, Is.LessThanOrEqualTo(stats.ReservedBytes));
        }

        Assert.That(pool.Stats.Failures, Is.Positive, "the workload should have run into the limit");
        Assert.That(pool.Stats.Classes.Sum(c => c.Allocated), Is.EqualTo(live.Count));
    }
}
