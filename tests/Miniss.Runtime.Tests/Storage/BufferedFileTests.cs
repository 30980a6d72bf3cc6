using Miniss.IO;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.Storage;

/// <summary>BufferedFile against real files on ext4 (/tmp): data round trips, end of file, vectored I/O, length,
/// allocation, flushes.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class BufferedFileTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-buffered");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    private string FilePath(string name = "data") => Path.Combine(_directory, name);

    [Test, CancelAfter(30_000)]
    public async Task Data_written_at_many_offsets_and_sizes_reads_back_byte_for_byte()
    {
        int[] sizes = [1, 2, 3, 511, 512, 513, 4095, 4096, 4097, 65_537, 1 << 20, (1 << 20) + 1];
        long[] offsets = [0, 1, 4095, 4096, 4097, (1 << 20) - 1, 3_000_001, 7 * 1024 * 1024];
        byte[] model = new byte[offsets.Max() + sizes.Max()];
        long modelLength = 0;
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        List<string> problems = await runtime.SubmitTo(1, async () =>
        {
            var found = new List<string>();
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew);
            int seed = 0;
            foreach (int size in sizes)
            {
                foreach (long offset in offsets)
                {
                    byte[] data = RandomBytes(size, ++seed);
                    int written = await file.WriteAsync(offset, data);
                    byte[] back = new byte[size];
                    int read = await file.ReadAsync(offset, back);
                    if (written != size || read != size || !back.AsSpan().SequenceEqual(data))
                    {
                        found.Add($"size {size} at {offset}: wrote {written}, read {read}, equal {back.AsSpan().SequenceEqual(data)}");
                    }

                    data.CopyTo(model, offset);
                    modelLength = Math.Max(modelLength, offset + size);
                }
            }

            return found;
        }).Within(25);

        Assert.That(problems, Is.Empty);
        byte[] onDisk = await File.ReadAllBytesAsync(path);
        Assert.That(onDisk.Length, Is.EqualTo(modelLength));
        Assert.That(onDisk.AsSpan().SequenceEqual(model.AsSpan(0, (int)modelLength)), Is.True, "the file seen through System.IO differs from what was written");
    }

    [Test, CancelAfter(20_000)]
    public async Task Data_written_beyond_four_gibibytes_reads_back()
    {
        long offset = (5L << 30) + 3;
        byte[] data = RandomBytes(10_000, 7);
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int written, int read, byte[] back, long length) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            int w = await file.WriteAsync(offset, data);
            byte[] b = new byte[data.Length];
            int r = await file.ReadAsync(offset, b);
            return (w, r, b, await file.GetLengthAsync());
        }).Within(15);

        Assert.That(written, Is.EqualTo(data.Length));
        Assert.That(read, Is.EqualTo(data.Length));
        Assert.That(back, Is.EqualTo(data));
        Assert.That(length, Is.EqualTo(offset + data.Length));
        await using FileStream stream = File.OpenRead(path);
        stream.Position = offset;
        byte[] independent = new byte[data.Length];
        await stream.ReadExactlyAsync(independent);
        Assert.That(independent, Is.EqualTo(data));
    }

    [Test, CancelAfter(20_000)]
    public async Task Reads_at_or_past_end_of_file_return_zero()
    {
        string path = FilePath();
        await File.WriteAllBytesAsync(path, RandomBytes(100, 1));
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        int[] counts = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            byte[] buffer = new byte[4096];
            return new[]
            {
                await file.ReadAsync(100, buffer),
                await file.ReadAsync(101, buffer),
                await file.ReadAsync(1 << 30, buffer),
            };
        }).Within(15);

        Assert.That(counts, Is.EqualTo(new[] { 0, 0, 0 }));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_read_across_end_of_file_reports_the_short_count()
    {
        string path = FilePath();
        byte[] content = RandomBytes(100, 2);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int read, byte[] buffer) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            byte[] b = new byte[4096];
            return (await file.ReadAsync(60, b), b);
        }).Within(15);

        Assert.That(read, Is.EqualTo(40));
        Assert.That(buffer.AsSpan(0, 40).SequenceEqual(content.AsSpan(60)), Is.True);
        Assert.That(buffer.AsSpan(40).ContainsAnyExcept((byte)0), Is.False, "bytes past the short count must be untouched");
    }

    [Test, CancelAfter(20_000)]
    public async Task WriteAllAsync_writes_the_whole_buffer_at_the_offset()
    {
        string path = FilePath();
        byte[] data = RandomBytes((3 << 20) + 5, 3);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        long length = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            await file.WriteAllAsync(17, data);
            return await file.GetLengthAsync();
        }).Within(15);

        Assert.That(length, Is.EqualTo(17 + data.Length));
        byte[] onDisk = await File.ReadAllBytesAsync(path);
        Assert.That(onDisk.AsSpan(0, 17).ContainsAnyExcept((byte)0), Is.False);
        Assert.That(onDisk.AsSpan(17).SequenceEqual(data), Is.True);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_vectored_write_and_a_vectored_read_round_trip()
    {
        string path = FilePath();
        byte[] data = RandomBytes(1 + 4096 + 777 + 65_536 + 3, 4);
        int[] writeSplit = [1, 4096, 777, 65_536, 3];
        int[] readSplit = [70_000, 13, 400];
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int written, int read, byte[] back) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            var outgoing = new List<ReadOnlyMemory<byte>>();
            int at = 0;
            foreach (int part in writeSplit)
            {
                outgoing.Add(data.AsMemory(at, part));
                at += part;
            }

            int w = await file.WriteAsync(10, outgoing);
            byte[] b = new byte[data.Length];
            var incoming = new List<Memory<byte>>();
            at = 0;
            foreach (int part in readSplit)
            {
                incoming.Add(b.AsMemory(at, part));
                at += part;
            }

            int r = await file.ReadAsync(10, incoming);
            return (w, r, b);
        }).Within(15);

        Assert.That(written, Is.EqualTo(data.Length));
        Assert.That(read, Is.EqualTo(data.Length));
        Assert.That(back, Is.EqualTo(data));
        byte[] onDisk = await File.ReadAllBytesAsync(path);
        Assert.That(onDisk.AsSpan(10).SequenceEqual(data), Is.True);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_vectored_read_across_end_of_file_fills_buffers_in_order_and_reports_the_short_total()
    {
        string path = FilePath();
        byte[] content = RandomBytes(150, 5);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int read, byte[] first, byte[] second, byte[] third) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            byte[] a = new byte[100], b = new byte[100], c = new byte[100];
            int r = await file.ReadAsync(20, new Memory<byte>[] { a, b, c });
            return (r, a, b, c);
        }).Within(15);

        Assert.That(read, Is.EqualTo(130));
        Assert.That(first, Is.EqualTo(content[20..120]));
        Assert.That(second.AsSpan(0, 30).SequenceEqual(content.AsSpan(120)), Is.True);
        Assert.That(second.AsSpan(30).ContainsAnyExcept((byte)0) || third.AsSpan().ContainsAnyExcept((byte)0), Is.False);
    }

    [Test, CancelAfter(20_000)]
    public async Task GetLengthAsync_reports_the_length_as_writes_extend_the_file()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        long[] lengths = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew);
            long empty = await file.GetLengthAsync();
            await file.WriteAllAsync(1000, new byte[24]);
            long extended = await file.GetLengthAsync();
            await file.WriteAllAsync(0, new byte[10]);
            long unchanged = await file.GetLengthAsync();
            return new[] { empty, extended, unchanged };
        }).Within(15);

        Assert.That(lengths, Is.EqualTo(new long[] { 0, 1024, 1024 }));
        Assert.That(new FileInfo(path).Length, Is.EqualTo(1024));
    }

    [Test, CancelAfter(20_000)]
    public async Task AllocateAsync_grows_the_file_to_the_allocated_range()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (long length, int read, bool zeros) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            await file.WriteAllAsync(0, new byte[] { 1, 2, 3 });
            await file.AllocateAsync(4096, 1 << 20);
            byte[] tail = new byte[1 << 20];
            int r = await file.ReadAsync(4096, tail);
            return (await file.GetLengthAsync(), r, !tail.AsSpan().ContainsAnyExcept((byte)0));
        }).Within(15);

        Assert.That(length, Is.EqualTo(4096 + (1 << 20)));
        Assert.That(read, Is.EqualTo(1 << 20));
        Assert.That(zeros, Is.True, "allocated space reads as zeros");
    }

    [Test, CancelAfter(20_000)]
    public async Task AllocateAsync_with_keepSize_reserves_space_without_changing_the_length()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (long before, long after, long length) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            await file.WriteAllAsync(0, new byte[100]);
            await file.FlushAsync();
            long b = AllocatedBytes(path);
            await file.AllocateAsync(0, 4 << 20, keepSize: true);
            return (b, AllocatedBytes(path), await file.GetLengthAsync());
        }).Within(15);

        Assert.That(length, Is.EqualTo(100));
        Assert.That(new FileInfo(path).Length, Is.EqualTo(100));
        Assert.That(after, Is.GreaterThanOrEqualTo(4L << 20), "the blocks were reserved");
        Assert.That(after, Is.GreaterThan(before));
    }

    [Test, CancelAfter(20_000)]
    public async Task FlushAsync_and_FlushDataAsync_complete_and_leave_the_data_readable()
    {
        string path = FilePath();
        byte[] data = RandomBytes(8192, 6);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        byte[] back = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            await file.WriteAllAsync(0, data);
            await file.FlushDataAsync();
            await file.FlushAsync();
            byte[] b = new byte[data.Length];
            await file.ReadAsync(0, b);
            return b;
        }).Within(15);

        Assert.That(back, Is.EqualTo(data));
        Assert.That(await File.ReadAllBytesAsync(path), Is.EqualTo(data));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_file_opened_on_one_shard_can_be_read_on_the_other()
    {
        string path = FilePath();
        byte[] data = RandomBytes(5000, 8);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        BufferedFile file = await runtime.SubmitTo(0, async () =>
        {
            BufferedFile f = await BufferedFile.OpenAsync(path, FileMode.Create);
            await f.WriteAllAsync(0, data);
            return f;
        }).Within(15);
        try
        {
            byte[] back = await runtime.SubmitTo(1, async () =>
            {
                byte[] b = new byte[data.Length];
                await file.ReadAsync(0, b);
                return b;
            }).Within(15);

            Assert.That(back, Is.EqualTo(data));
        }
        finally
        {
            await file.DisposeAsync();
        }
    }

    private static unsafe long AllocatedBytes(string path)
    {
        statx record = default;
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = name)
        {
            if (Libc.statx(Files.AT_FDCWD, p, 0, Files.STATX_BLOCKS, &record) != 0)
            {
                throw new IOException($"statx '{path}' failed");
            }
        }

        return (long)record.stx_blocks * 512;
    }
}
