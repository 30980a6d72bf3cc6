using System;
using System.Linq;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Pre-warming: buffers carved ahead of use, by configuration or by <see cref="BufferPool.Prealloc"/>.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class PreallocTests
{
    [Test, CancelAfter(10000)]
    public void Prealloc_puts_that_many_buffers_on_the_free_list()
    {
        using BufferPool pool = Create(4 * MiB);

        pool.Prealloc(8 * KiB, 5);

        SizeClassStats stats = pool.Stats[8 * KiB];
        Assert.That(stats.Free, Is.EqualTo(5));
        Assert.That(stats.Allocated, Is.Zero);
        Assert.That(pool.Stats.ReservedBytes, Is.EqualTo(40L * KiB));
    }

    [Test, CancelAfter(10000)]
    public void Allocations_after_prealloc_reserve_nothing_more()
    {
        using BufferPool pool = Create(4 * MiB);
        pool.Prealloc(8 * KiB, 5);

        for (int i = 0; i < 5; i++)
        {
            pool.Take(8 * KiB);
        }

        Assert.That(pool.Stats.ReservedBytes, Is.EqualTo(40L * KiB));
        Assert.That(pool.Stats[8 * KiB].Free, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void Prealloc_past_MaxMemory_throws_and_carves_nothing()
    {
        using BufferPool pool = Create(2 * MiB);
        pool.Prealloc(MiB, 1);

        var error = Assert.Throws<InvalidOperationException>(() => pool.Prealloc(64 * KiB, 17));

        Assert.That(error!.Message, Does.Contain("MaxMemory"));
        Assert.That(pool.Stats.ReservedBytes, Is.EqualTo(1L * MiB));
        Assert.That(pool.Stats[64 * KiB].Free, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void Prealloc_of_a_size_that_is_no_class_throws()
    {
        using BufferPool pool = Create(2 * MiB);

        var error = Assert.Throws<ArgumentException>(() => pool.Prealloc(5000, 1));
        Assert.That(error!.Message, Does.Contain("4096, 8192"));
    }

    [Test, CancelAfter(10000)]
    public void PreallocCount_fills_every_class_and_reserves_exactly_their_sizes()
    {
        using var pool = new BufferPool(new BufferPoolConfig { PreallocCount = 3, MaxMemory = 8 * MiB });

        BufferPoolStats stats = pool.Stats;

        Assert.That(stats.Classes.Select(c => c.Free), Is.All.EqualTo(3));
        Assert.That(stats.ReservedBytes, Is.EqualTo(3L * pool.SizeClasses.Sum()));
    }
}
