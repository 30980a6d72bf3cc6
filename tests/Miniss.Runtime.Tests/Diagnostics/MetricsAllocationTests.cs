using System;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Buffers;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Diagnostics;

/// <summary>
/// The hot paths still allocate nothing once warm while a listener has every instrument of the runtime's meter enabled
/// and reads them all, again and again, on another thread during the measurement: the instruments read counters the
/// shards keep anyway, and reading them costs the shard nothing. Measured as Shards/AllocationTests does, on the
/// shard's own thread.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class MetricsAllocationTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Iterations = 10_000;

    [Test, CancelAfter(30_000)]
    public async Task Awaiting_nops_allocates_nothing_with_a_listener_reading_the_meter(CancellationToken token)
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        using var listening = new BusyListener(scope.Runtime);

        long allocated = await scope.Runtime.SubmitTo(0, static async () =>
        {
            Shard shard = Shard.Current!;
            for (int i = 0; i < 100; i++)
            {
                await shard.NopAsync();
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < Iterations; i++)
                {
                    await shard.NopAsync();
                }
            }

            return windows.Least;
        }).AsTask().WaitAsync(token);

        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(30_000)]
    public async Task Calls_between_shards_allocate_nothing_on_either_side_with_a_listener_reading_the_meter(CancellationToken token)
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        using var listening = new BusyListener(runtime);

        (long Caller, long Callee) allocated = await runtime.SubmitTo(0, async () =>
        {
            Func<int> one = static () => 1;
            Func<long> allocatedOnCallee = static () => GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                await runtime.SubmitTo(1, one);
            }

            // Each side's least over a few windows (see AllocationWindows); the callee's measured by calls to it.
            await runtime.SubmitTo(1, allocatedOnCallee);
            long caller = long.MaxValue;
            long callee = long.MaxValue;
            for (int window = 0; window < AllocationWindows.Attempts && (caller != 0 || callee != 0); window++)
            {
                long calleeBefore = await runtime.SubmitTo(1, allocatedOnCallee);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < Iterations; i++)
                {
                    await runtime.SubmitTo(1, one);
                }

                caller = Math.Min(caller, GC.GetAllocatedBytesForCurrentThread() - before);
                callee = Math.Min(callee, await runtime.SubmitTo(1, allocatedOnCallee) - calleeBefore);
            }

            return (caller, callee);
        }).AsTask().WaitAsync(token);

        Assert.That(allocated.Caller, Is.Zero);
        Assert.That(allocated.Callee, Is.Zero);
    }

    [Test, CancelAfter(30_000)]
    public async Task Delays_and_buffer_allocations_allocate_nothing_with_a_listener_reading_the_meter(CancellationToken token)
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        using var listening = new BusyListener(scope.Runtime);

        long allocated = await scope.Runtime.SubmitTo(1, static async () =>
        {
            Shard shard = Shard.Current!;
            BufferPool pool = shard.Buffers;
            for (int i = 0; i < 100; i++)
            {
                await shard.Delay(TimeSpan.Zero);
                pool.Deallocate(pool.Allocate(4096)!.Value);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < Iterations; i++)
                {
                    await shard.Delay(TimeSpan.Zero);
                    pool.Deallocate(pool.Allocate(4096)!.Value);
                }
            }

            return windows.Least;
        }).AsTask().WaitAsync(token);

        Assert.That(allocated, Is.Zero);
    }

    /// <summary>A listener with every instrument of the runtime's meter enabled, reading the observable ones in a loop
    /// on a thread of its own until disposed; its first reading is done when the constructor returns.</summary>
    private sealed class BusyListener : IDisposable
    {
        private readonly MeterCapture _capture;
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _reader;
        private readonly ManualResetEventSlim _reading = new();

        public BusyListener(MinissRuntime runtime)
        {
            _capture = new MeterCapture(runtime);
            _reader = new Thread(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    _capture.Collect();
                    _reading.Set();
                    Thread.Sleep(1);
                }
            })
            { IsBackground = true, Name = "metrics-reader" };
            _reader.Start();
            if (!_reading.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the listener's thread never read the meter");
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _reader.Join();
            _capture.Dispose();
            _stop.Dispose();
            _reading.Dispose();
        }
    }
}
