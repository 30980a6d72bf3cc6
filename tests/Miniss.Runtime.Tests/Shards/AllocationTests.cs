using Miniss.IO;
using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>
/// The hot paths allocate nothing once warm. Each test measures, on the shard's own thread, the bytes allocated
/// around a loop of awaits inside one work item (the async method's state machine is boxed once, at its first
/// suspension, during the warm-up).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class AllocationTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Iterations = 10_000;

    [Test, CancelAfter(20000)]
    public async Task Awaiting_nops_allocates_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
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
        }).Within(token);

        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Awaiting_calls_to_another_shard_allocates_nothing_on_the_caller_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        (long Allocated, long Sum) result = await runtime.SubmitTo(0, async () =>
        {
            // One call site: each static lambda's delegate is created (64 bytes) the first time its site runs.
            Func<int> one = static () => 1;
            long sum = 0;
            for (int i = 0; i < 100; i++)
            {
                sum += await runtime.SubmitTo(1, one);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < Iterations; i++)
                {
                    sum += await runtime.SubmitTo(1, one);
                }
            }

            return (windows.Least, sum - (windows.Count * (long)Iterations));
        }).Within(token);

        Assert.That(result.Sum, Is.EqualTo(100), "every window's calls returned their answer");
        Assert.That(result.Allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Waking_a_sleeping_shard_allocates_nothing_on_the_caller(CancellationToken token)
    {
        // No spinning: shard 1 sleeps in the kernel between calls, so the calls wake it through its eventfd.
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero });
        MinissRuntime runtime = scope.Runtime;
        (long Allocated, long Wakeups) result = await runtime.SubmitTo(0, async () =>
        {
            Func<int> one = static () => 1;
            await runtime.SubmitTo(1, one);
            long wakeupsBefore = runtime[1].Statistics.Wakeups;
            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < 200; i++)
                {
                    await runtime.SubmitTo(1, one);
                }
            }

            return (windows.Least, runtime[1].Statistics.Wakeups - wakeupsBefore);
        }).Within(token);

        Assert.That(result.Wakeups, Is.Positive, "shard 1 was never asleep: the test did not exercise the wake-up");
        Assert.That(result.Allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Serving_calls_from_another_shard_allocates_nothing_on_the_callee_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        long allocated = await runtime.SubmitTo(0, async () =>
        {
            Func<int> one = static () => 1;
            Func<long> allocatedOnCallee = static () => GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                await runtime.SubmitTo(1, one);
            }

            // The callee's windows, measured by calls to it (see AllocationWindows: the least of a few).
            await runtime.SubmitTo(1, allocatedOnCallee);
            long least = long.MaxValue;
            for (int window = 0; window < AllocationWindows.Attempts && least != 0; window++)
            {
                long before = await runtime.SubmitTo(1, allocatedOnCallee);
                for (int i = 0; i < Iterations; i++)
                {
                    await runtime.SubmitTo(1, one);
                }

                least = Math.Min(least, await runtime.SubmitTo(1, allocatedOnCallee) - before);
            }

            return least;
        }).Within(token);

        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Awaiting_zero_delays_allocates_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        long allocated = await scope.Runtime.SubmitTo(0, static async () =>
        {
            Shard shard = Shard.Current!;
            for (int i = 0; i < 100; i++)
            {
                await shard.Delay(TimeSpan.Zero);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < Iterations; i++)
                {
                    await shard.Delay(TimeSpan.Zero);
                }
            }

            return windows.Least;
        }).Within(token);

        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Awaiting_tiny_delays_allocates_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        long allocated = await scope.Runtime.SubmitTo(0, static async () =>
        {
            Shard shard = Shard.Current!;
            TimeSpan tiny = TimeSpan.FromMicroseconds(1);
            for (int i = 0; i < 100; i++)
            {
                await shard.Delay(tiny);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < 2_000; i++)
                {
                    await shard.Delay(tiny);
                }
            }

            return windows.Least;
        }).Within(token);

        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(20000)]
    public async Task Submitting_to_itself_allocates_nothing_once_warm(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        long allocated = await runtime.SubmitTo(1, async () =>
        {
            Func<int> one = static () => 1;
            for (int i = 0; i < 100; i++)
            {
                await runtime.SubmitTo(1, one);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < Iterations; i++)
                {
                    await runtime.SubmitTo(1, one);
                }
            }

            return windows.Least;
        }).Within(token);

        Assert.That(allocated, Is.Zero);
    }
}
