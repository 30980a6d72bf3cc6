using System;
using System.Buffers;
using System.Runtime.InteropServices;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Reading and writing a buffer through its span, its memory and its address.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class AccessTests
{
    [Test, CancelAfter(10000)]
    public void Bytes_written_through_the_span_are_read_back_through_the_memory_and_the_address()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(10_000);
        for (int i = 0; i < buffer.Size; i++)
        {
            buffer.Span[i] = (byte)(i * 7);
        }

        byte[] throughMemory = buffer.Memory.ToArray();
        byte[] throughAddress = new byte[buffer.Size];
        Marshal.Copy(buffer.Address, throughAddress, 0, buffer.Size);

        Assert.That(throughMemory, Is.EqualTo(buffer.Span.ToArray()));
        Assert.That(throughAddress, Is.EqualTo(throughMemory));
        Assert.That(throughMemory[9999], Is.EqualTo(unchecked((byte)(9999 * 7))));
    }

    [Test, CancelAfter(10000)]
    public void Bytes_written_through_the_memory_are_read_back_through_the_span()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(300);

        "hello, buffer"u8.CopyTo(buffer.Memory.Span);

        Assert.That(buffer.Span[..13].ToArray(), Is.EqualTo("hello, buffer"u8.ToArray()));
    }

    [Test, CancelAfter(10000)]
    public void The_memory_has_the_size_asked_for_and_pins_at_the_buffers_address()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(5000);

        Memory<byte> memory = buffer.Memory;
        using MemoryHandle pin = memory.Pin();

        Assert.That(memory.Length, Is.EqualTo(5000));
        unsafe
        {
            Assert.That((nint)pin.Pointer, Is.EqualTo(buffer.Address));
        }
    }

    [Test, CancelAfter(10000)]
    public void Every_allocation_of_a_buffer_reuses_one_memory_manager()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle first = pool.Take(4 * KiB);
        MemoryMarshal.TryGetMemoryManager<byte, MemoryManager<byte>>(first.Memory, out MemoryManager<byte>? before);
        pool.Deallocate(first);

        BufferHandle second = pool.Take(4 * KiB);
        MemoryMarshal.TryGetMemoryManager<byte, MemoryManager<byte>>(second.Memory, out MemoryManager<byte>? after);

        Assert.That(before, Is.Not.Null);
        Assert.That(after, Is.SameAs(before));
    }

    [Test, CancelAfter(10000)]
    public void Taking_the_span_and_the_memory_allocates_nothing()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);
        _ = buffer.Memory.Span.Length + buffer.Span.Length;

        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 10_000; i++)
        {
            total += buffer.Memory.Span.Length + buffer.Span.Length;
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(total, Is.EqualTo(10_000 * 8 * KiB));
    }

    [Test, CancelAfter(10000)]
    public void Handles_are_equal_when_they_are_the_same_allocation()
    {
        using BufferPool pool = Create(4 * MiB);
        BufferHandle buffer = pool.Take(4 * KiB);
        BufferHandle copy = buffer;
        pool.Deallocate(buffer);
        BufferHandle again = pool.Take(4 * KiB);

        Assert.That(copy, Is.EqualTo(buffer));
        Assert.That(again, Is.Not.EqualTo(buffer), "same memory, later allocation");
        Assert.That(default(BufferHandle), Is.EqualTo(new BufferHandle()));
    }
}
