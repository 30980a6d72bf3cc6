using System;
using System.Buffers;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.Net.Internal;

/// <summary>
/// The <c>iovec</c> array of one vectored write, in native memory, with the buffers it points at pinned while the
/// write is in flight. Owned by one send: <see cref="Allocate"/> at its start, <see cref="Dispose"/> at its end,
/// after the last write's completion.
/// </summary>
internal unsafe struct IoVector : IDisposable
{
    /// <summary>Buffers per write. Well under IOV_MAX (1024); more buffers than this go out in several writes.</summary>
    public const int Capacity = 64;

    private iovec* _iovecs;
    private MemoryHandle[]? _pins;

    public readonly nint Address => (nint)_iovecs;

    public static IoVector Allocate() => new()
    {
        _iovecs = (iovec*)NativeMemory.Alloc(Capacity, (nuint)sizeof(iovec)),
        _pins = ArrayPool<MemoryHandle>.Shared.Rent(Capacity),
    };

    /// <summary>Pins <c>segments[start..end]</c>, up to <see cref="Capacity"/> of them, and points the iovecs at them;
    /// returns how many.</summary>
    public readonly int Pin(ReadOnlyMemory<byte>[] segments, int start, int end)
    {
        int count = Math.Min(end - start, Capacity);
        for (int i = 0; i < count; i++)
        {
            ReadOnlyMemory<byte> segment = segments[start + i];
            MemoryHandle pin = segment.Pin();
            _pins![i] = pin;
            _iovecs[i].iov_base = pin.Pointer;
            _iovecs[i].iov_len = (nuint)segment.Length;
        }

        return count;
    }

    /// <summary>Unpins what <see cref="Pin"/> pinned (after the write's completion).</summary>
    public readonly void Unpin(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _pins![i].Dispose();
            _pins[i] = default;
        }
    }

    public void Dispose()
    {
        if (_iovecs != null)
        {
            NativeMemory.Free(_iovecs);
            _iovecs = null;
        }

        if (_pins is not null)
        {
            ArrayPool<MemoryHandle>.Shared.Return(_pins);
            _pins = null;
        }
    }
}
