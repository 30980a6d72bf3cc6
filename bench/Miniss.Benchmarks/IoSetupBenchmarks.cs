using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Miniss.Buffers;
using Miniss.IO;

namespace Miniss.Benchmarks;

/// <summary>
/// Per-operation costs on a shard: a pool buffer allocated and freed (the lock-free local path), and the whole I/O
/// setup of the specification (buffer + submission + completion object + await registration), measured over batches
/// of 32 NOPs so that the one io_uring_enter per batch is spread over the operations.
/// </summary>
public class IoSetupBenchmarks
{
    private const int Operations = 32 * 64;
    private MinissRuntime _runtime = null!;

    [GlobalSetup]
    public void Setup() => _runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 });

    [GlobalCleanup]
    public void Cleanup() => _runtime.Dispose();

    /// <summary>BufferPool.Allocate(4096) then Deallocate on the owning shard.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Buffer_allocate_and_free() => _runtime.SubmitTo(0, static () =>
    {
        BufferPool pool = Shard.Current!.Buffers;
        int sizes = 0;
        for (int i = 0; i < Operations; i++)
        {
            BufferHandle buffer = pool.Allocate(4096)!.Value;
            sizes += buffer.Capacity;
            pool.Deallocate(buffer);
        }

        return sizes;
    });

    /// <summary>Allocate a buffer, submit a NOP (SQE + pooled completion), await it, free the buffer: 32 in flight at a time.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Whole_io_setup_batched() => _runtime.SubmitTo(0, static async () =>
    {
        BufferPool pool = Shard.Current!.Buffers;
        var buffers = new BufferHandle[32];
        var pending = new ValueTask<int>[32];
        int done = 0;
        for (int round = 0; round < Operations / 32; round++)
        {
            for (int i = 0; i < 32; i++)
            {
                buffers[i] = pool.Allocate(4096)!.Value;
                pending[i] = IoOperations.NopAsync();
            }

            for (int i = 0; i < 32; i++)
            {
                done += 1 + await pending[i];
                pool.Deallocate(buffers[i]);
            }
        }

        return done;
    });
}
