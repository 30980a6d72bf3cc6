using System;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Double frees, uses after free, foreign and default handles, disposal: detected and reported, never
/// corrupting the pool.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class MisuseTests
{
    [Test, CancelAfter(10000)]
    public void A_second_deallocate_of_a_buffer_throws_and_changes_nothing()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);
        pool.Deallocate(buffer);

        var error = Assert.Throws<InvalidOperationException>(() => pool.Deallocate(buffer));

        Assert.That(error!.Message, Does.Contain("double free"));
        Assert.That(pool.Stats[4 * KiB].Free, Is.EqualTo(1), "the buffer is on the free list once");
        Assert.That(pool.Stats[4 * KiB].Allocated, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void Deallocating_a_copy_of_a_freed_handle_throws()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);
        BufferHandle copy = buffer;
        pool.Deallocate(buffer);

        Assert.Throws<InvalidOperationException>(() => pool.Deallocate(copy));
    }

    [Test, CancelAfter(10000)]
    public void A_stale_handle_cannot_free_its_buffer_once_it_is_allocated_again()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle stale = pool.Take(4 * KiB);
        nint address = stale.Address;
        pool.Deallocate(stale);
        BufferHandle current = pool.Take(4 * KiB);
        Assume.That(current.Address, Is.EqualTo(address), "the same memory is handed out again");

        Assert.Throws<InvalidOperationException>(() => pool.Deallocate(stale));
        Assert.That(current.IsValid, Is.True);
        Assert.That(stale.IsValid, Is.False);
    }

    [Test, CancelAfter(10000)]
    public void The_span_of_a_freed_handle_throws()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(100);
        pool.Deallocate(buffer);

        Assert.Throws<ObjectDisposedException>(() => _ = buffer.Span.Length);
    }

    [Test, CancelAfter(10000)]
    public void The_memory_and_address_of_a_freed_handle_throw()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(100);
        pool.Deallocate(buffer);

        Assert.Throws<ObjectDisposedException>(() => _ = buffer.Memory);
        Assert.Throws<ObjectDisposedException>(() => _ = buffer.Address);
        Assert.That(buffer.IsValid, Is.False);
        Assert.That(buffer.Size, Is.EqualTo(100), "size and capacity stay readable");
    }

    [Test, CancelAfter(10000)]
    public void A_memory_taken_before_the_free_throws_while_the_buffer_is_free()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(100);
        Memory<byte> memory = buffer.Memory;
        pool.Deallocate(buffer);

        Assert.Throws<ObjectDisposedException>(() => _ = memory.Span.Length);
    }

    [Test, CancelAfter(10000)]
    public void A_handle_from_another_pool_is_refused_and_stays_valid()
    {
        using BufferPool pool = Create(4 * MiB);
        using BufferPool other = Create(4 * MiB);
        BufferHandle foreign = other.Take(4 * KiB);

        var error = Assert.Throws<ArgumentException>(() => pool.Deallocate(foreign));

        Assert.That(error!.Message, Does.Contain($"pool {other.Id}"));
        Assert.That(foreign.IsValid, Is.True);
        Assert.That(foreign.PoolId, Is.EqualTo(other.Id));
        Assert.That(pool.Stats[4 * KiB].Free, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void A_default_handle_is_invalid_and_refuses_access()
    {
        BufferHandle none = default;

        Assert.That(none.IsValid, Is.False);
        Assert.That(none.Size, Is.Zero);
        Assert.That(none.Capacity, Is.Zero);
        Assert.Throws<InvalidOperationException>(() => _ = none.Span.Length);
    }

    [Test, CancelAfter(10000)]
    public void Deallocating_a_default_handle_throws()
    {
        using BufferPool pool = Create(4 * MiB);

        Assert.Throws<ArgumentException>(() => pool.Deallocate(default));
    }

    [Test, CancelAfter(10000)]
    public void Dispose_can_be_called_twice()
    {
        BufferPool pool = Create(4 * MiB);
        pool.Take(4 * KiB);

        pool.Dispose();

        Assert.DoesNotThrow(pool.Dispose);
    }

    [Test, CancelAfter(10000)]
    public void Outstanding_handles_are_invalid_once_the_pool_is_disposed()
    {
        BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);

        pool.Dispose();

        Assert.That(buffer.IsValid, Is.False);
        var error = Assert.Throws<ObjectDisposedException>(() => _ = buffer.Span.Length);
        Assert.That(error!.ObjectName, Is.EqualTo(nameof(BufferPool)));
    }

    [Test, CancelAfter(10000)]
    public void A_disposed_pool_refuses_allocations_and_deallocations()
    {
        BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);
        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Allocate(4 * KiB));
        Assert.Throws<ObjectDisposedException>(() => pool.Deallocate(buffer));
        Assert.Throws<ObjectDisposedException>(() => pool.Prealloc(4 * KiB, 1));
    }
}
