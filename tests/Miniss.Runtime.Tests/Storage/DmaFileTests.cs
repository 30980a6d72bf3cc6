using Miniss.IO;
using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.Storage;

/// <summary>DmaFile: O_DIRECT on ext4 (/tmp) with the alignment statx reports, the checks made before submission, and
/// the buffered fallback on a file system that refuses O_DIRECT.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class DmaFileTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-dma");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    private string FilePath(string name = "data") => Path.Combine(_directory, name);

    [Test, CancelAfter(20_000)]
    public async Task On_ext4_the_file_is_direct_with_the_alignment_statx_reports()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool direct, int memory, int offset) = await runtime.SubmitTo(0, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            return (file.IsDirect, file.MemoryAlignment, file.OffsetAlignment);
        }).Within(15);

        Assert.That(direct, Is.True);
        Assert.That(memory, Is.GreaterThan(0));
        Assert.That(offset, Is.GreaterThan(0));
        Assert.That(offset & (offset - 1), Is.Zero, "the offset alignment is a power of two");
        Assert.That(offset, Is.LessThanOrEqualTo(DmaFile.DefaultAlignment));
    }

    [Test, CancelAfter(20_000)]
    public async Task AllocateBuffer_rounds_up_to_the_offset_alignment_and_aligns_the_address()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int length, nint address, int memoryAlignment, int offsetAlignment) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            using AlignedBuffer buffer = file.AllocateBuffer(1);
            return (buffer.Length, buffer.Address, file.MemoryAlignment, file.OffsetAlignment);
        }).Within(15);

        Assert.That(length, Is.EqualTo(offsetAlignment));
        Assert.That((long)address % memoryAlignment, Is.Zero);
        Assert.That((long)address % offsetAlignment, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task Aligned_writes_and_reads_round_trip_through_AllocateBuffer()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool direct, int alignment, byte[] data, int written, int read, byte[] back) = await runtime.SubmitTo(0, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            int align = file.OffsetAlignment;
            using AlignedBuffer outgoing = file.AllocateBuffer(64 * 1024);
            using AlignedBuffer incoming = file.AllocateBuffer(64 * 1024);
            byte[] d = RandomBytes(outgoing.Length, 11);
            d.CopyTo(outgoing.GetSpan());
            int w = await file.WriteAsync(3 * align, outgoing.Memory);
            int r = await file.ReadAsync(3 * align, incoming.Memory);
            return (file.IsDirect, align, d, w, r, incoming.GetSpan().ToArray());
        }).Within(15);

        Assert.That(direct, Is.True);
        Assert.That(written, Is.EqualTo(data.Length));
        Assert.That(read, Is.EqualTo(data.Length));
        Assert.That(back, Is.EqualTo(data));
        byte[] onDisk = await File.ReadAllBytesAsync(path);
        Assert.That(onDisk.Length, Is.EqualTo(3 * alignment + data.Length));
        Assert.That(onDisk.AsSpan(3 * alignment).SequenceEqual(data), Is.True, "the page cache sees what went to the device");
    }

    [Test, CancelAfter(20_000)]
    public async Task Aligned_vectored_writes_and_reads_round_trip()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (byte[] data, int written, int read, byte[] back) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            int align = file.OffsetAlignment;
            using AlignedBuffer a = file.AllocateBuffer(align), b = file.AllocateBuffer(4 * align);
            using AlignedBuffer c = file.AllocateBuffer(2 * align), e = file.AllocateBuffer(3 * align);
            byte[] d = RandomBytes(5 * align, 12);
            d.AsSpan(0, align).CopyTo(a.GetSpan());
            d.AsSpan(align).CopyTo(b.GetSpan());
            int w = await file.WriteAsync(0, new ReadOnlyMemory<byte>[] { a.Memory, b.Memory });
            int r = await file.ReadAsync(0, new Memory<byte>[] { c.Memory, e.Memory });
            byte[] back = new byte[5 * align];
            c.GetSpan().CopyTo(back);
            e.GetSpan().CopyTo(back.AsSpan(2 * align));
            return (d, w, r, back);
        }).Within(15);

        Assert.That(written, Is.EqualTo(data.Length));
        Assert.That(read, Is.EqualTo(data.Length));
        Assert.That(back, Is.EqualTo(data));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_misaligned_offset_throws_ArgumentException_before_submission()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? read, Exception? write, long length) = await runtime.SubmitTo(0, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            using AlignedBuffer buffer = file.AllocateBuffer(file.OffsetAlignment);
            Exception? r = await CaptureAtCall(() => file.ReadAsync(1, buffer.Memory));
            Exception? w = await CaptureAtCall(() => file.WriteAsync(file.OffsetAlignment + 7, buffer.Memory));
            return (r, w, await file.GetLengthAsync());
        }).Within(15);

        Assert.That(read, Is.TypeOf<ArgumentException>());
        Assert.That(read!.Message, Does.Contain("offset 1"));
        Assert.That(write, Is.TypeOf<ArgumentException>());
        Assert.That(length, Is.Zero, "the write never reached the file");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_misaligned_length_throws_ArgumentException_before_submission()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? read, Exception? write, long length) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            using AlignedBuffer buffer = file.AllocateBuffer(2 * file.OffsetAlignment);
            Exception? r = await CaptureAtCall(() => file.ReadAsync(0, buffer.Memory[..100]));
            Exception? w = await CaptureAtCall(() => file.WriteAsync(0, buffer.Memory[..(file.OffsetAlignment + 1)]));
            return (r, w, await file.GetLengthAsync());
        }).Within(15);

        Assert.That(read, Is.TypeOf<ArgumentException>());
        Assert.That(read!.Message, Does.Contain("length 100"));
        Assert.That(write, Is.TypeOf<ArgumentException>());
        Assert.That(length, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_misaligned_buffer_address_throws_ArgumentException_before_submission()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int memoryAlignment, Exception? read, Exception? write, long length) = await runtime.SubmitTo(0, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            int align = file.OffsetAlignment;
            using AlignedBuffer buffer = file.AllocateBuffer(2 * align);
            // One byte in: misaligned for any memory alignment above 1, with an aligned length.
            Memory<byte> shifted = buffer.Memory.Slice(1, align);
            Exception? r = await CaptureAtCall(() => file.ReadAsync(0, shifted));
            Exception? w = await CaptureAtCall(() => file.WriteAsync(0, shifted));
            return (file.MemoryAlignment, r, w, await file.GetLengthAsync());
        }).Within(15);

        Assume.That(memoryAlignment, Is.GreaterThan(1), "the file system accepts any buffer address");
        Assert.That(read, Is.TypeOf<ArgumentException>());
        Assert.That(read!.Message, Does.Contain("AllocateBuffer"));
        Assert.That(write, Is.TypeOf<ArgumentException>());
        Assert.That(length, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_misaligned_buffer_in_a_vectored_write_throws_ArgumentException_and_writes_nothing()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, long length) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            using AlignedBuffer good = file.AllocateBuffer(file.OffsetAlignment);
            using AlignedBuffer odd = file.AllocateBuffer(2 * file.OffsetAlignment);
            Exception? e = await Capture(() => file.WriteAsync(0, new ReadOnlyMemory<byte>[] { good.Memory, odd.Memory[..100] }));
            return (e, await file.GetLengthAsync());
        }).Within(15);

        Assert.That(error, Is.TypeOf<ArgumentException>());
        Assert.That(length, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task Refused_transfers_leave_nothing_in_flight_so_the_runtime_stops_promptly()
    {
        string path = FilePath();
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        try
        {
            (int read, int expected) = await runtime.SubmitTo(0, async () =>
            {
                await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
                using AlignedBuffer buffer = file.AllocateBuffer(2 * file.OffsetAlignment);
                for (int i = 0; i < 1000; i++)
                {
                    _ = await CaptureAtCall(() => file.ReadAsync(i % 2 == 0 ? 1 : 0, buffer.Memory[..(i % 2 == 0 ? file.OffsetAlignment : 3)]));
                    _ = await CaptureAtCall(() => file.WriteAsync(0, buffer.Memory.Slice(1, file.OffsetAlignment)));
                }

                await file.WriteAllAsync(0, buffer.Memory);
                return (await file.ReadAsync(0, buffer.Memory), buffer.Length);
            }).Within(15);

            Assert.That(read, Is.EqualTo(expected), "a later operation works");
        }
        finally
        {
            var clock = Stopwatch.StartNew();
            await runtime.StopAsync().Within(10);
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task On_tmpfs_aligned_writes_and_reads_round_trip_whether_or_not_the_file_is_direct()
    {
        // tmpfs refused O_DIRECT before Linux 6.6 (buffered fallback) and accepts it since: either way the I/O works.
        Assume.That(Directory.Exists("/dev/shm"), "no /dev/shm");
        string directory = Path.Combine("/dev/shm", $"miniss-dma-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "data");
            await using RuntimeScope scope = RuntimeScope.Start();
            MinissRuntime runtime = scope.Runtime;

            (byte[] data, int written, int read, byte[] back) = await runtime.SubmitTo(0, async () =>
            {
                await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.CreateNew);
                using AlignedBuffer outgoing = file.AllocateBuffer(16 * 1024), incoming = file.AllocateBuffer(16 * 1024);
                byte[] d = RandomBytes(outgoing.Length, 13);
                d.CopyTo(outgoing.GetSpan());
                int w = await file.WriteAsync(file.OffsetAlignment, outgoing.Memory);
                int r = await file.ReadAsync(file.OffsetAlignment, incoming.Memory);
                return (d, w, r, incoming.GetSpan().ToArray());
            }).Within(15);

            Assert.That(written, Is.EqualTo(data.Length));
            Assert.That(read, Is.EqualTo(data.Length));
            Assert.That(back, Is.EqualTo(data));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task On_a_file_system_that_refuses_O_DIRECT_the_open_falls_back_to_buffered_and_reads_work()
    {
        // procfs refuses O_DIRECT with EINVAL. (tmpfs, /dev/shm, accepts O_DIRECT since Linux 6.6, so it cannot show
        // the fallback on this kernel.)
        const string path = "/proc/version";
        byte[] expected = await File.ReadAllBytesAsync(path);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool direct, int alignment, int read, byte[] back) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            using AlignedBuffer buffer = file.AllocateBuffer(4096);
            int r = await file.ReadAsync(0, buffer.Memory);
            return (file.IsDirect, file.OffsetAlignment, r, buffer.GetSpan()[..r].ToArray());
        }).Within(15);

        Assert.That(direct, Is.False);
        Assert.That(alignment, Is.EqualTo(DmaFile.DefaultAlignment), "no DIOALIGN reported: the default applies");
        Assert.That(read, Is.EqualTo(expected.Length));
        Assert.That(back, Is.EqualTo(expected));
    }
}
