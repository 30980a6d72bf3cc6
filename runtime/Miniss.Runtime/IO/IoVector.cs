using System;
using System.Buffers;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.IO;

/// <summary>
/// The <c>iovec</c> array of a vectored operation (<c>readv</c>/<c>writev</c>, on a file or a socket), in native
/// memory, with the buffers it points at pinned while the kernel may use them. Owned by one operation:
/// <see cref="Allocate"/> at its start, <see cref="Dispose"/> at its end, after the last completion.
/// </summary>
/// <remarks>
/// A struct, so a vectored send allocates nothing on the managed heap: hold it in a local (not a <c>using</c>
/// declaration, whose copy is read-only) and dispose it in a <c>finally</c>. Either fill it once with <see cref="Add"/>
/// (a file's <c>preadv</c>/<c>pwritev</c>), or refill it per write with <see cref="Pin"/> and <see cref="Unpin"/> (a
/// socket's sends, which may take several writes).
/// </remarks>
internal unsafe struct IoVector : IDisposable
{
    /// <summary>Buffers per socket write. Well under IOV_MAX (1024); more buffers than this go out in several writes.</summary>
    public const int Capacity = 64;

    /// <summary>The kernel's limit on the buffers of one vectored operation (IOV_MAX).</summary>
    public const int MaxCapacity = 1024;

    private iovec* _iovecs;
    private MemoryHandle[]? _pins;
    private int _capacity;

    /// <summary>The address of the first <c>iovec</c>, for the SQE.</summary>
    public readonly nint Address => (nint)_iovecs;

    /// <summary>How many buffers are pinned and pointed at.</summary>
    public int Count { readonly get; private set; }

    /// <summary>Allocates room for <paramref name="capacity"/> buffers (default <see cref="Capacity"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not between 1 and IOV_MAX (1024).</exception>
    public static IoVector Allocate(int capacity = Capacity)
    {
        if (capacity is <= 0 or > MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a vectored operation takes 1 to 1024 buffers (IOV_MAX)");
        }

        return new IoVector
        {
            _iovecs = (iovec*)NativeMemory.Alloc((nuint)capacity, (nuint)sizeof(iovec)),
            _pins = ArrayPool<MemoryHandle>.Shared.Rent(capacity),
            _capacity = capacity,
        };
    }

    /// <summary>Pins <paramref name="buffer"/> and points the next <c>iovec</c> at it.</summary>
    /// <exception cref="InvalidOperationException">The vector is full.</exception>
    public void Add(Memory<byte> buffer)
    {
        if (Count == _capacity)
        {
            throw new InvalidOperationException($"The vector holds {_capacity} buffers, its capacity.");
        }

        Point(Count, buffer);
        Count++;
    }

    /// <summary>Pins <c>segments[start..end]</c>, up to the capacity, and points the iovecs at them (after
    /// <see cref="Unpin"/> of the previous write); returns how many.</summary>
    public int Pin(ReadOnlyMemory<byte>[] segments, int start, int end)
    {
        int count = Math.Min(end - start, _capacity);
        for (int i = 0; i < count; i++)
        {
            Point(i, MemoryMarshal.AsMemory(segments[start + i]));
        }

        Count = count;
        return count;
    }

    /// <summary>Unpins every buffer (after the write's completion); the vector can be refilled.</summary>
    public void Unpin()
    {
        for (int i = 0; i < Count; i++)
        {
            _pins![i].Dispose();
            _pins[i] = default;
        }

        Count = 0;
    }

    /// <summary>Unpins what is pinned and frees the native array. Safe to call twice.</summary>
    public void Dispose()
    {
        if (_pins is not null)
        {
            Unpin();
            ArrayPool<MemoryHandle>.Shared.Return(_pins);
            _pins = null;
        }

        if (_iovecs != null)
        {
            NativeMemory.Free(_iovecs);
            _iovecs = null;
        }
    }

    private readonly void Point(int index, Memory<byte> buffer)
    {
        MemoryHandle pin = buffer.Pin();
        _pins![index] = pin;
        _iovecs[index].iov_base = pin.Pointer;
        _iovecs[index].iov_len = (nuint)buffer.Length;
    }
}
