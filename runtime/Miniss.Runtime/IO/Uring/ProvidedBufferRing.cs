using System;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.Buffers;
using Miniss.Internal;
using Miniss.Internal.Linux;

namespace Miniss.IO.Uring;

/// <summary>
/// A provided-buffer ring registered with one io_uring ring (<c>IORING_REGISTER_PBUF_RING</c>): receives that ask
/// for buffer selection take the next buffer from it, and their completion names the buffer by id. The ring and its
/// buffers live in one dedicated anonymous mapping (page-aligned, as the kernel requires), apart from the shard's
/// <see cref="BufferPool"/>, so they take nothing from the application's pool budget. The io_uring ring owns it
/// (<see cref="IoBackend.Attach"/>): the mapping is released only after the ring's descriptor is closed, when the
/// kernel no longer holds its pages.
/// </summary>
/// <remarks>
/// <para>The ABI, restated: the ring is an array of <c>struct io_uring_buf</c> (16 bytes: address, length, buffer id)
/// whose entry count is a power of two; the kernel consumes entries at its private head, and user space publishes
/// new ones by writing them at <c>tail &amp; mask</c> and then storing the 16-bit tail, which overlays the
/// <c>resv</c> field of entry 0 (byte 14 of the ring), with release ordering. A completion that used a buffer has
/// <c>IORING_CQE_F_BUFFER</c> set and the buffer id in the upper 16 bits of its flags.</para>
/// <para>Every id the kernel hands out must come back through <see cref="Recycle"/>; <see cref="InUse"/> counts those
/// that have not, so the kernel holds <c>Count - InUse</c> buffers at any time. Owned by the shard's thread.</para>
/// </remarks>
internal sealed unsafe class ProvidedBufferRing : IDisposable
{
    /// <summary>The buffer group id the ring is registered under (one ring per io_uring ring).</summary>
    public const ushort GroupId = 0;

    private readonly AnonymousMapping _memory;
    private readonly nint _firstBuffer;
    private readonly io_uring_buf* _entries;
    private readonly ushort* _tail;
    private readonly ushort _mask;
    private ushort _localTail;
    private int _inUse;
    private long _handedOut;

    private ProvidedBufferRing(AnonymousMapping memory, int ringBytes, int count, int bufferSize)
    {
        _memory = memory;
        Count = count;
        BufferSize = bufferSize;
        _entries = (io_uring_buf*)memory.Base;
        _tail = (ushort*)((byte*)memory.Base + 14);
        _mask = (ushort)(count - 1);
        _firstBuffer = memory.Base + ringBytes;
    }

    /// <summary>How many buffers the ring has.</summary>
    public int Count { get; }

    /// <summary>The size of each buffer, in bytes.</summary>
    public int BufferSize { get; }

    /// <summary>Buffers the kernel has handed out (by completion) that have not been recycled yet.</summary>
    public int InUse => Volatile.Read(ref _inUse);

    /// <summary>Buffers the kernel can still fill.</summary>
    public int Available => Count - _inUse;

    /// <summary>How many buffers completions have carried since the ring was set up.</summary>
    public long HandedOut => Volatile.Read(ref _handedOut);

    /// <summary>
    /// Maps the ring and <paramref name="count"/> buffers of <paramref name="bufferSize"/> bytes, and registers them
    /// with the ring <paramref name="ringFd"/> as buffer group <see cref="GroupId"/>. On the thread that owns the ring.
    /// Fails, releasing what it mapped, when the kernel refuses (EINVAL on kernels before 5.19, which do not know the
    /// registration) or the memory cannot be mapped.
    /// </summary>
    /// <param name="ringFd">The io_uring ring's descriptor.</param>
    /// <param name="count">A power of two, 1 to 32768.</param>
    /// <param name="bufferSize">The size of each buffer, in bytes.</param>
    /// <param name="reason">Why it failed, or <see langword="null"/>.</param>
    public static ProvidedBufferRing? TryCreate(int ringFd, int count, int bufferSize, out string? reason)
    {
        if (count < 1 || count > 32768 || (count & (count - 1)) != 0 || bufferSize <= 0)
        {
            reason = $"a buffer ring needs a power-of-two count up to 32768 and a positive size (got {count} of {bufferSize} bytes)";
            return null;
        }

        // The ring first, in whole pages (the kernel wants it page-aligned), then the buffers; an anonymous mapping
        // starts zeroed, so the tail the kernel reads at registration is 0.
        int page = Environment.SystemPageSize;
        int ringBytes = (count * sizeof(io_uring_buf) + page - 1) / page * page;
        AnonymousMapping memory;
        try
        {
            memory = AnonymousMapping.Create(ringBytes + (long)count * bufferSize, page);
        }
        catch (InsufficientMemoryException e)
        {
            reason = e.Message;
            return null;
        }

        io_uring_buf_reg registration = default;
        registration.ring_addr = (ulong)memory.Base;
        registration.ring_entries = (uint)count;
        registration.bgid = GroupId;
        int result = IoUringSyscalls.Register(ringFd, IoUring.IORING_REGISTER_PBUF_RING, &registration, 1);
        if (result < 0)
        {
            memory.Dispose();
            reason = $"io_uring_register(IORING_REGISTER_PBUF_RING) failed: {ErrnoNames.Describe(-result)}";
            return null;
        }

        var ring = new ProvidedBufferRing(memory, ringBytes, count, bufferSize);
        for (int id = 0; id < count; id++)
        {
            ring.Add((ushort)id);
        }

        ring.Publish();
        reason = null;
        return ring;
    }

    /// <summary>The first <paramref name="length"/> bytes of buffer <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> Data(ushort id, int length) => new((void*)(_firstBuffer + (nint)id * BufferSize), length);

    /// <summary>Counts a buffer a completion carried: the kernel no longer holds it.</summary>
    public void OnHandedOut()
    {
        _inUse++;
        _handedOut++;
    }

    /// <summary>Gives buffer <paramref name="id"/> back to the kernel, at once visible to it.</summary>
    public void Recycle(ushort id)
    {
        _inUse--;
        Add(id);
        Publish();
    }

    private void Add(ushort id)
    {
        io_uring_buf* entry = &_entries[_localTail & _mask];
        entry->addr = (ulong)(_firstBuffer + (nint)id * BufferSize);
        entry->len = (uint)BufferSize;
        entry->bid = id;
        _localTail++;
    }

    // The entries must be visible before the tail that publishes them (the kernel reads the tail with acquire).
    private void Publish() => Volatile.Write(ref *_tail, _localTail);

    /// <summary>Unmaps the ring and its buffers. Only once the io_uring ring's descriptor is closed.</summary>
    public void Dispose() => _memory.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"buffer ring of {Count} x {BufferSize} bytes ({InUse} in use)";
}
