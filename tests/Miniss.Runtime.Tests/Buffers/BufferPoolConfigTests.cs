using System;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>The configuration's defaults and the rules the pool enforces when it is created.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class BufferPoolConfigTests
{
    [Test, CancelAfter(10000)]
    public void The_defaults_are_4_KiB_to_1_MiB_page_aligned_64_MiB_and_no_prealloc()
    {
        var config = new BufferPoolConfig();

        Assert.That(config.SizeClasses, Is.EqualTo(new[] { 4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, MiB }));
        Assert.That(config.Alignment, Is.EqualTo(4096));
        Assert.That(config.MaxMemory, Is.EqualTo(64L * MiB));
        Assert.That(config.PreallocCount, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void The_default_configuration_creates_a_pool()
    {
        using var pool = new BufferPool(new BufferPoolConfig());

        Assert.That(pool.SizeClasses, Has.Count.EqualTo(9));
        Assert.That(pool.MaxMemory, Is.EqualTo(64L * MiB));
    }

    [TestCase(new[] { 4096, 12288 }, "power of two")]
    [TestCase(new[] { 8192, 4096 }, "strictly ascending")]
    [TestCase(new[] { 4096, 4096 }, "strictly ascending")]
    [TestCase(new[] { 2048, 4096 }, "multiple of Alignment")]
    [TestCase(new int[0], "at least one")]
    [CancelAfter(10000)]
    public void A_bad_size_class_list_is_refused_with_a_message_naming_the_rule(int[] classes, string rule)
    {
        var config = new BufferPoolConfig { SizeClasses = classes };

        var error = Assert.Throws<ArgumentException>(() => new BufferPool(config));
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BufferPoolConfig.SizeClasses)));
        Assert.That(error.Message, Does.Contain(rule));
    }

    [TestCase(256)]
    [TestCase(3000)]
    [CancelAfter(10000)]
    public void An_alignment_that_is_not_a_power_of_two_of_at_least_512_is_refused(int alignment)
    {
        var config = new BufferPoolConfig { Alignment = alignment };

        var error = Assert.Throws<ArgumentException>(() => new BufferPool(config));
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BufferPoolConfig.Alignment)));
    }

    [Test, CancelAfter(10000)]
    public void A_MaxMemory_smaller_than_the_largest_class_is_refused()
    {
        var config = new BufferPoolConfig { MaxMemory = 512 * KiB };

        var error = Assert.Throws<ArgumentException>(() => new BufferPool(config));
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BufferPoolConfig.MaxMemory)));
        Assert.That(error.Message, Does.Contain("largest size class"));
    }

    [Test, CancelAfter(10000)]
    public void A_MaxMemory_that_is_not_a_multiple_of_the_alignment_is_refused()
    {
        var config = new BufferPoolConfig { MaxMemory = 2L * MiB + 100 };

        var error = Assert.Throws<ArgumentException>(() => new BufferPool(config));
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BufferPoolConfig.MaxMemory)));
    }

    [Test, CancelAfter(10000)]
    public void A_prealloc_count_that_would_exceed_MaxMemory_is_refused()
    {
        // One buffer of each default class is 2 MiB - 4 KiB; 40 of each need about 80 MiB.
        var config = new BufferPoolConfig { PreallocCount = 40 };

        var error = Assert.Throws<ArgumentException>(() => new BufferPool(config));
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BufferPoolConfig.PreallocCount)));
        Assert.That(error.Message, Does.Contain("MaxMemory"));
    }

    [Test, CancelAfter(10000)]
    public void The_pool_copies_the_size_classes()
    {
        int[] classes = [4096, 8192];
        using var pool = new BufferPool(new BufferPoolConfig { SizeClasses = classes, MaxMemory = MiB });
        classes[1] = 16384;

        Assert.That(pool.SizeClasses, Is.EqualTo(new[] { 4096, 8192 }));
    }
}
