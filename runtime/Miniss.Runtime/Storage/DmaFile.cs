using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Storage;

/// <summary>
/// A file opened for direct I/O (<c>O_DIRECT</c>): transfers bypass the page cache, so offsets, lengths and buffer
/// addresses must be aligned to what the file system reports through <c>statx</c> (<c>STATX_DIOALIGN</c>; 4096 when
/// it does not say). A misaligned request is refused with <see cref="ArgumentException"/> before it reaches the
/// kernel. On a file system that refuses <c>O_DIRECT</c> (procfs, ramfs, FUSE, tmpfs before Linux 6.6), the file is opened buffered instead and
/// <see cref="IsDirect"/> says so. Allocate aligned memory with <see cref="AllocateBuffer"/>.
/// </summary>
public sealed class DmaFile : ShardFile
{
    /// <summary>The alignment used when the file system does not report one.</summary>
    public const int DefaultAlignment = 4096;

    private DmaFile(FileDescriptorHandle handle, string path, bool direct, int memoryAlignment, int offsetAlignment) : base(handle, path)
    {
        IsDirect = direct;
        MemoryAlignment = memoryAlignment;
        OffsetAlignment = offsetAlignment;
    }

    /// <summary>Whether the file really is open with <c>O_DIRECT</c> (false after the buffered fallback).</summary>
    public bool IsDirect { get; }

    /// <summary>Required alignment of buffer addresses, in bytes.</summary>
    public int MemoryAlignment { get; }

    /// <summary>Required alignment of offsets and lengths, in bytes.</summary>
    public int OffsetAlignment { get; }

    /// <summary>Opens <paramref name="path"/> for direct I/O on the calling shard's ring (see <see cref="BufferedFile.OpenAsync"/>
    /// for the parameters and exceptions).</summary>
    public static async ValueTask<DmaFile> OpenAsync(string path, FileMode mode, FileAccess access = FileAccess.ReadWrite,
        UnixFileMode permissions = BufferedFile.DefaultPermissions, CancellationToken cancellationToken = default)
    {
        FileDescriptorHandle handle;
        bool direct = true;
        try
        {
            handle = await OpenDescriptorAsync(path, FileOpenOptions.Flags(mode, access, direct: true), permissions, cancellationToken).ConfigureAwait(true);
        }
        catch (IOException e) when (e.Data["errno"] is Errno.EINVAL)
        {
            // The file system refuses O_DIRECT: fall back to buffered I/O, keeping the alignment rules so
            // code written for direct I/O stays correct when it moves to a file system that has it.
            // The kernel creates the file before it refuses O_DIRECT: a CreateNew retry must open what it just made.
            direct = false;
            FileMode retry = mode == FileMode.CreateNew ? FileMode.Open : mode;
            handle = await OpenDescriptorAsync(path, FileOpenOptions.Flags(retry, access, direct: false), permissions, cancellationToken).ConfigureAwait(true);
            Shard.Current?.Runtime.ReportDirectIoRefused(path);
        }

        try
        {
            (int memory, int offset) = await AlignmentAsync(handle, cancellationToken).ConfigureAwait(true);
            return new DmaFile(handle, path, direct, memory, offset);
        }
        catch
        {
            // Nobody else holds the descriptor yet: a failed alignment query must not leak it.
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Allocates <paramref name="length"/> bytes (rounded up to <see cref="OffsetAlignment"/>) aligned for this file.</summary>
    public AlignedBuffer AllocateBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        int rounded = (int)(((long)length + OffsetAlignment - 1) / OffsetAlignment * OffsetAlignment);
        return new AlignedBuffer(rounded, Math.Max(MemoryAlignment, OffsetAlignment));
    }

    private protected override unsafe void ValidateTransfer(long offset, int length, ReadOnlySpan<byte> memory)
    {
        if (offset % OffsetAlignment != 0 || length % OffsetAlignment != 0)
        {
            throw new ArgumentException(
                $"Direct I/O on '{Path}' needs offsets and lengths aligned to {OffsetAlignment} bytes; got offset {offset}, length {length}.");
        }

        fixed (byte* address = memory)
        {
            if ((nint)address % MemoryAlignment != 0)
            {
                throw new ArgumentException(
                    $"Direct I/O on '{Path}' needs buffers aligned to {MemoryAlignment} bytes; this one starts at 0x{(nint)address:X}. Use DmaFile.AllocateBuffer.");
            }
        }
    }

    private static async ValueTask<(int Memory, int Offset)> AlignmentAsync(FileDescriptorHandle handle, CancellationToken cancellationToken)
    {
        using var record = new StatxRecord();
        await IoOperations.StatxAsync(handle.Descriptor, string.Empty, LinuxFiles.AT_EMPTY_PATH, (int)LinuxFiles.STATX_DIOALIGN, record.Address, cancellationToken)
            .ConfigureAwait(true);
        statx value = record.Value;
        bool reported = (value.stx_mask & LinuxFiles.STATX_DIOALIGN) != 0 && value.stx_dio_offset_align != 0;
        return reported ? ((int)Math.Max(1, value.stx_dio_mem_align), (int)value.stx_dio_offset_align) : (DefaultAlignment, DefaultAlignment);
    }
}
