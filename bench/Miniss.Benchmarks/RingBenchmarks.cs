using System;
using BenchmarkDotNet.Attributes;
using Miniss.IO;
using Miniss.IO.Uring;

namespace Miniss.Benchmarks;

/// <summary>
/// The io_uring backend alone, driven through the public <see cref="IoBackend"/> on the benchmark thread: what it costs to queue an operation (no system call), to poll
/// when nothing has completed (no system call), and to complete NOPs one at a time or in batches.
/// </summary>
public class RingBenchmarks
{
    private const int Batch = 32;
    private IoBackend _backend = null!;
    private IoUringBackend _ring = null!;
    private IoCompletion[] _completions = null!;

    [GlobalSetup]
    public void Setup()
    {
        _backend = IoBackend.Create(IoBackendKind.IoUring, new IoBackendOptions { Entries = 256 });
        _ring = (IoUringBackend)_backend;
        _completions = new IoCompletion[256];
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    /// <summary>Writing one NOP SQE into the shared ring (the batch is then dropped, never entering the kernel).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Submit_nop_no_syscall()
    {
        for (int i = 0; i < Batch; i++)
        {
            _backend.Submit(IoOperation.Nop((ulong)i));
        }

        _ring.DiscardPendingSubmissions();
    }

    /// <summary>Queuing a cancel request for an operation in flight (an ASYNC_CANCEL SQE; the batch is dropped).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Cancel_no_syscall()
    {
        for (int i = 0; i < Batch; i++)
        {
            _backend.Cancel(new IoHandle((ulong)i));
        }

        _ring.DiscardPendingSubmissions();
    }

    /// <summary>A poll that finds nothing: reads the completion ring's head and tail and the SQ flags.</summary>
    [Benchmark]
    public int Empty_poll() => _backend.Poll(TimeSpan.Zero, _completions);

    /// <summary>One NOP submitted and reaped: one io_uring_enter per operation.</summary>
    [Benchmark]
    public int Nop_round_trip()
    {
        _backend.Submit(IoOperation.Nop(1));
        return _backend.Poll(TimeSpan.FromSeconds(1), _completions);
    }

    /// <summary>32 NOPs submitted together and reaped: one io_uring_enter per 32 operations.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Nop_round_trip_batched()
    {
        for (int i = 0; i < Batch; i++)
        {
            _backend.Submit(IoOperation.Nop((ulong)i));
        }

        int reaped = 0;
        while (reaped < Batch)
        {
            reaped += _backend.Poll(TimeSpan.FromSeconds(1), _completions);
        }

        return reaped;
    }
}
