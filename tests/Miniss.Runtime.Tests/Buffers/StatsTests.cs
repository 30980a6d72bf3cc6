using System.Linq;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>The counters of <see cref="BufferPool.Stats"/>.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class StatsTests
{
    [Test, CancelAfter(10000)]
    public void A_new_pool_has_nothing_allocated_free_or_reserved()
    {
        using BufferPool pool = Create(4 * MiB);

        BufferPoolStats stats = pool.Stats;

        Assert.That(stats.Classes.Select(c => c.Size), Is.EqualTo(pool.SizeClasses));
        Assert.That(stats.Classes.Select(c => c.Allocated + c.Free + c.HighWaterMark + c.Failures), Is.All.Zero);
        Assert.That(stats.ReservedBytes, Is.Zero);
        Assert.That(stats.MaxMemory, Is.EqualTo(4L * MiB));
    }

    [Test, CancelAfter(10000)]
    public void Allocated_and_free_follow_allocations_and_deallocations()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle a = pool.Take(16 * KiB);
        pool.Take(16 * KiB);
        pool.Take(16 * KiB);

        pool.Deallocate(a);

        SizeClassStats stats = pool.Stats[16 * KiB];
        Assert.That(stats.Allocated, Is.EqualTo(2));
        Assert.That(stats.Free, Is.EqualTo(1));
        Assert.That(pool.Stats.AllocatedBytes, Is.EqualTo(32L * KiB));
    }

    [Test, CancelAfter(10000)]
    public void The_high_water_mark_keeps_the_most_buffers_in_use_at_once()
    {
        using BufferPool pool = Create(4 * MiB);
        var buffers = Enumerable.Range(0, 5).Select(_ => pool.Take(32 * KiB)).ToList();
        buffers.ForEach(pool.Deallocate);

        pool.Take(32 * KiB);
        pool.Take(32 * KiB);

        SizeClassStats stats = pool.Stats[32 * KiB];
        Assert.That(stats.HighWaterMark, Is.EqualTo(5));
        Assert.That(stats.Allocated, Is.EqualTo(2));
        Assert.That(stats.Free, Is.EqualTo(3));
    }

    [Test, CancelAfter(10000)]
    public void Reusing_a_free_buffer_reserves_no_more_memory()
    {
        using BufferPool pool = Create(4 * MiB);
        pool.Deallocate(pool.Take(64 * KiB));
        long reserved = pool.Stats.ReservedBytes;

        pool.Take(64 * KiB);

        Assert.That(reserved, Is.EqualTo(64L * KiB));
        Assert.That(pool.Stats.ReservedBytes, Is.EqualTo(reserved));
    }

    [Test, CancelAfter(10000)]
    public void Statistics_of_a_size_that_is_no_class_are_not_found()
    {
        using BufferPool pool = Create(4 * MiB);

        Assert.Throws<System.Collections.Generic.KeyNotFoundException>(() => _ = pool.Stats[5000]);
    }
}
