using System;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;
using Miniss.Internal;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Buffers;

/// <summary>
/// The one anonymous private mapping a <see cref="BufferPool"/> carves its buffers from: <c>Length</c> bytes of
/// address space, read-write, <c>MAP_NORESERVE</c> (a page costs memory only once it is touched), whose base is
/// aligned to a power of two of the caller's choice. Released with <c>munmap</c> on <see cref="SafeHandle.Dispose()"/>
/// or, if the pool is dropped without being disposed, by the finalizer.
/// </summary>
internal sealed unsafe class AnonymousMapping : SafeHandle
{
    private AnonymousMapping(nint address, long length)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>The first byte of the mapping (aligned as asked at creation).</summary>
    public nint Base => handle;

    /// <summary>The usable length in bytes (the kernel maps whole pages; the rest of the last page is never used).</summary>
    public long Length { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Maps <paramref name="length"/> bytes whose base is a multiple of <paramref name="alignment"/> (a power of two,
    /// at least a page). mmap only promises page alignment, so it maps <paramref name="alignment"/> bytes more and
    /// returns the unaligned head and the tail to the kernel at once: one mapping of the requested size remains.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The kernel refused the mapping (the message names the errno).</exception>
    public static AnonymousMapping Create(long length, long alignment)
    {
        long page = Environment.SystemPageSize;
        alignment = Math.Max(alignment, page);
        long mapped = AlignUp(length + alignment, page);
        void* raw = Libc.mmap(
            null,
            (nuint)mapped,
            LinuxFiles.PROT_READ | LinuxFiles.PROT_WRITE,
            LinuxFiles.MAP_PRIVATE | LinuxFiles.MAP_ANONYMOUS | LinuxFiles.MAP_NORESERVE,
            -1,
            0);
        if (raw == (void*)-1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InsufficientMemoryException(
                $"mapping {length} bytes for the buffer pool failed: {ErrnoNames.Describe(errno)}");
        }

        long start = (long)raw;
        long aligned = AlignUp(start, alignment);
        long end = AlignUp(aligned + length, page);
        if (aligned > start)
        {
            _ = Libc.munmap(raw, (nuint)(aligned - start));
        }

        if (start + mapped > end)
        {
            _ = Libc.munmap((void*)end, (nuint)(start + mapped - end));
        }

        return new AnonymousMapping((nint)aligned, length);
    }

    /// <summary>
    /// Writes a zero into every page of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>)
    /// so the kernel backs it now rather than at first use. Only for memory no buffer handed out covers yet.
    /// </summary>
    public void Touch(long offset, long length)
    {
        long page = Environment.SystemPageSize;
        byte* start = (byte*)handle + offset;
        for (long at = 0; at < length; at += page)
        {
            start[at] = 0;
        }
    }

    protected override bool ReleaseHandle() =>
        Libc.munmap((void*)handle, (nuint)AlignUp(Length, Environment.SystemPageSize)) == 0;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}
