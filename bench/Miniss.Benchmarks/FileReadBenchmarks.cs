using System;
using System.IO;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Miniss.Storage;

namespace Miniss.Benchmarks;

/// <summary>
/// 4 KiB random reads from a 1 GiB file at queue depth 1 and 32 on one shard, beside .NET's RandomAccess.ReadAsync on
/// the same file in the same run. The file is in the page cache after the first pass (the machine has far more memory
/// than 1 GiB), so these measure the cost of the I/O path, not of the device; the direct I/O rows go to the device.
/// </summary>
public class FileReadBenchmarks
{
    private const int Reads = 4096;
    private const int BlockSize = 4096;
    private const long FileSize = 1L << 30;

    private MinissRuntime _runtime = null!;
    private string _path = null!;
    private long[] _offsets = null!;
    private BufferedFile _file = null!;
    private DmaFile _dma = null!;
    private SafeFileHandle _dotnet = null!;
    private byte[][] _buffers = null!;
    private AlignedBuffer[] _aligned = null!;

    [Params(1, 32)]
    public int QueueDepth { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "miniss-bench-" + Guid.NewGuid().ToString("N"));
        var random = new Random(42);
        using (var stream = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            byte[] chunk = new byte[1 << 20];
            for (long written = 0; written < FileSize; written += chunk.Length)
            {
                random.NextBytes(chunk);
                stream.Write(chunk);
            }
        }

        _offsets = new long[Reads];
        for (int i = 0; i < Reads; i++)
        {
            _offsets[i] = random.NextInt64(FileSize / BlockSize) * BlockSize;
        }

        _runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 });
        (_file, _dma) = _runtime.SubmitTo(0, async () =>
            (await BufferedFile.OpenAsync(_path, FileMode.Open, FileAccess.Read), await DmaFile.OpenAsync(_path, FileMode.Open, FileAccess.Read)))
            .AsTask().GetAwaiter().GetResult();
        _dotnet = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        _buffers = new byte[32][];
        _aligned = new AlignedBuffer[32];
        for (int i = 0; i < 32; i++)
        {
            _buffers[i] = GC.AllocateArray<byte>(BlockSize, pinned: true);
            _aligned[i] = new AlignedBuffer(BlockSize);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file.Dispose();
        _dma.Dispose();
        _dotnet.Dispose();
        foreach (AlignedBuffer buffer in _aligned)
        {
            ((IDisposable)buffer).Dispose();
        }

        _runtime.Dispose();
        File.Delete(_path);
    }

    /// <summary>Miniss: BufferedFile.ReadAsync on one shard, QueueDepth reads in flight.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public ValueTask<int> Miniss_buffered() => _runtime.SubmitTo(0, async () =>
    {
        var workers = new Task<int>[QueueDepth];
        for (int w = 0; w < QueueDepth; w++)
        {
            workers[w] = Worker(w, static (self, w, offset) => self._file.ReadAsync(offset, self._buffers[w]));
        }

        int total = 0;
        foreach (Task<int> worker in workers)
        {
            total += await worker;
        }

        return total;
    });

    /// <summary>Miniss: DmaFile.ReadAsync (O_DIRECT, to the device) on one shard, QueueDepth reads in flight.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public ValueTask<int> Miniss_direct() => _runtime.SubmitTo(0, async () =>
    {
        var workers = new Task<int>[QueueDepth];
        for (int w = 0; w < QueueDepth; w++)
        {
            workers[w] = Worker(w, static (self, w, offset) => self._dma.ReadAsync(offset, self._aligned[w].Memory));
        }

        int total = 0;
        foreach (Task<int> worker in workers)
        {
            total += await worker;
        }

        return total;
    });

    /// <summary>.NET: RandomAccess.ReadAsync on the same file, QueueDepth reads in flight.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Reads)]
    public async Task<int> DotNet_RandomAccess()
    {
        var workers = new Task<int>[QueueDepth];
        for (int w = 0; w < QueueDepth; w++)
        {
            int worker = w;
            workers[w] = Task.Run(async () =>
            {
                int sum = 0;
                for (int i = worker; i < Reads; i += QueueDepth)
                {
                    sum += await RandomAccess.ReadAsync(_dotnet, _buffers[worker], _offsets[i]).ConfigureAwait(false);
                }

                return sum;
            });
        }

        int total = 0;
        foreach (Task<int> task in workers)
        {
            total += await task.ConfigureAwait(false);
        }

        return total;
    }

    private async Task<int> Worker(int worker, Func<FileReadBenchmarks, int, long, ValueTask<int>> read)
    {
        int sum = 0;
        for (int i = worker; i < Reads; i += QueueDepth)
        {
            sum += await read(this, worker, _offsets[i]);
        }

        return sum;
    }
}
