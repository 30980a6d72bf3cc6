using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.Storage;

/// <summary>Many file operations in flight per shard, on both shards at once, and I/O shipped to another shard.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class FileConcurrencyTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Block = 4096;

    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-concurrency");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    private string FilePath(string name = "data") => Path.Combine(_directory, name);

    [Test, CancelAfter(20_000)]
    public async Task Two_hundred_fifty_six_reads_in_flight_at_once_all_return_their_own_block()
    {
        const int count = 256;
        string path = FilePath();
        byte[] content = RandomBytes(count * Block, 21);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int[] counts, byte[][] blocks) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            byte[][] buffers = Enumerable.Range(0, count).Select(_ => new byte[Block]).ToArray();
            // Reverse order, so completion order and submission order are unlikely to line up by accident.
            Task<int>[] reads = Enumerable.Range(0, count).Reverse().Select(i => file.ReadAsync((long)i * Block, buffers[i]).AsTask()).ToArray();
            int[] results = await Task.WhenAll(reads);
            return (results, buffers);
        }).Within(15);

        Assert.That(counts, Is.All.EqualTo(Block));
        for (int i = 0; i < count; i++)
        {
            Assert.That(blocks[i].AsSpan().SequenceEqual(content.AsSpan(i * Block, Block)), Is.True, $"block {i}");
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Two_hundred_fifty_six_direct_reads_in_flight_at_once_all_return_their_own_block()
    {
        const int count = 256;
        string path = FilePath();
        byte[] content = RandomBytes(count * Block, 22);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool direct, int[] counts, byte[][] blocks) = await runtime.SubmitTo(1, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            AlignedBuffer[] buffers = Enumerable.Range(0, count).Select(_ => file.AllocateBuffer(Block)).ToArray();
            try
            {
                int[] results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => file.ReadAsync((long)i * Block, buffers[i].Memory).AsTask()));
                return (file.IsDirect, results, buffers.Select(b => b.GetSpan().ToArray()).ToArray());
            }
            finally
            {
                foreach (AlignedBuffer buffer in buffers)
                {
                    ((IDisposable)buffer).Dispose();
                }
            }
        }).Within(15);

        Assert.That(direct, Is.True);
        Assert.That(counts, Is.All.EqualTo(Block));
        for (int i = 0; i < count; i++)
        {
            Assert.That(blocks[i].AsSpan().SequenceEqual(content.AsSpan(i * Block, Block)), Is.True, $"block {i}");
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task More_operations_in_flight_than_ring_entries_all_complete_correctly()
    {
        const int count = 1500;
        string path = FilePath();
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, RingEntries = 64 });

        (int[] written, int[] read, byte[][] back) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            Task<int>[] writes = Enumerable.Range(0, count)
                .Select(i => file.WriteAsync((long)i * 100, RandomBytes(100, i)).AsTask()).ToArray();
            int[] w = await Task.WhenAll(writes);
            byte[][] buffers = Enumerable.Range(0, count).Select(_ => new byte[100]).ToArray();
            int[] r = await Task.WhenAll(Enumerable.Range(0, count).Select(i => file.ReadAsync((long)i * 100, buffers[i]).AsTask()));
            return (w, r, buffers);
        }).Within(15);

        Assert.That(written, Is.All.EqualTo(100));
        Assert.That(read, Is.All.EqualTo(100));
        for (int i = 0; i < count; i++)
        {
            Assert.That(back[i], Is.EqualTo(RandomBytes(100, i)), $"record {i}");
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Both_shards_write_and_read_their_own_files_at_the_same_time()
    {
        const int count = 300;
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        async ValueTask<(int Shard, bool Equal)> WorkOn(int shard)
        {
            return await runtime.SubmitTo(shard, async () =>
            {
                string path = FilePath($"shard-{shard}");
                byte[] content = RandomBytes(count * Block, 100 + shard);
                await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew);
                await Task.WhenAll(Enumerable.Range(0, count).Select(i => file.WriteAsync((long)i * Block, content.AsMemory(i * Block, Block)).AsTask()));
                byte[] back = new byte[content.Length];
                await Task.WhenAll(Enumerable.Range(0, count).Select(i => file.ReadAsync((long)i * Block, back.AsMemory(i * Block, Block)).AsTask()));
                return (Shard.Current!.Id, back.AsSpan().SequenceEqual(content));
            });
        }

        (int Shard, bool Equal)[] results = await Task.WhenAll(WorkOn(0).AsTask(), WorkOn(1).AsTask()).Within(15);

        Assert.That(results, Is.EqualTo(new[] { (0, true), (1, true) }));
        Assert.That(await File.ReadAllBytesAsync(FilePath("shard-0")), Is.EqualTo(RandomBytes(count * Block, 100)));
        Assert.That(await File.ReadAllBytesAsync(FilePath("shard-1")), Is.EqualTo(RandomBytes(count * Block, 101)));
    }

    [Test, CancelAfter(20_000)]
    public async Task Both_shards_read_the_same_file_concurrently()
    {
        const int count = 200;
        string path = FilePath();
        byte[] content = RandomBytes(count * Block, 31);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        BufferedFile file = await runtime.SubmitTo(0, () => BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read)).Within(15);
        try
        {
            async ValueTask<bool> ReadAllOn(int shard) => await runtime.SubmitTo(shard, async () =>
            {
                byte[] back = new byte[content.Length];
                await Task.WhenAll(Enumerable.Range(0, count).Select(i => file.ReadAsync((long)i * Block, back.AsMemory(i * Block, Block)).AsTask()));
                return back.AsSpan().SequenceEqual(content);
            });

            bool[] equal = await Task.WhenAll(ReadAllOn(0).AsTask(), ReadAllOn(1).AsTask()).Within(15);
            Assert.That(equal, Is.All.True);
        }
        finally
        {
            await file.DisposeAsync();
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task SubmitIo_from_a_shard_runs_the_operation_on_the_other_shard_and_returns_its_result()
    {
        string path = FilePath();
        byte[] content = RandomBytes(10_000, 41);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int caller, int ranOn, int resumedOn, int read, byte[] back) = await runtime.SubmitTo(0, async () =>
        {
            int callerId = Shard.Current!.Id;
            int executedOn = -1;
            byte[] buffer = new byte[content.Length];
            int r = await runtime.SubmitIo(1, async () =>
            {
                executedOn = Shard.Current!.Id;
                await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
                return await file.ReadAsync(0, buffer);
            });
            return (callerId, executedOn, Shard.Current!.Id, r, buffer);
        }).Within(15);

        Assert.That(caller, Is.Zero);
        Assert.That(ranOn, Is.EqualTo(1));
        Assert.That(resumedOn, Is.Zero, "the caller resumes on its own shard");
        Assert.That(read, Is.EqualTo(content.Length));
        Assert.That(back, Is.EqualTo(content));
    }

    [Test, CancelAfter(20_000)]
    public async Task SubmitIo_carries_the_operations_failure_back_to_the_caller()
    {
        string missing = FilePath("missing");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () => Capture(() => runtime.SubmitIo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(missing, FileMode.Open);
            return 0;
        }))).Within(15);

        Assert.That(error, Is.TypeOf<FileNotFoundException>());
        Assert.That(((FileNotFoundException)error!).FileName, Is.EqualTo(missing));
    }

    [Test, CancelAfter(20_000)]
    public async Task Many_raw_reads_shipped_to_the_other_shard_with_SubmitIo_all_complete()
    {
        const int count = 200;
        string path = FilePath();
        byte[] content = RandomBytes(count * 64, 51);
        await File.WriteAllBytesAsync(path, content);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        BufferedFile file = await runtime.SubmitTo(1, () => BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read)).Within(15);
        try
        {
            (List<int> shards, byte[] back) = await runtime.SubmitTo(0, async () =>
            {
                byte[] buffer = new byte[content.Length];
                var ranOn = new List<int>();
                await Task.WhenAll(Enumerable.Range(0, count).Select(i => runtime.SubmitIo(1, async () =>
                {
                    ranOn.Add(Shard.Current!.Id);
                    return await IoOperations.ReadAsync(file.Handle, buffer.AsMemory(i * 64, 64), (long)i * 64);
                }).AsTask()));
                return (ranOn, buffer);
            }).Within(15);

            Assert.That(shards, Has.Count.EqualTo(count).And.All.EqualTo(1));
            Assert.That(back, Is.EqualTo(content));
        }
        finally
        {
            await file.DisposeAsync();
        }
    }
}
