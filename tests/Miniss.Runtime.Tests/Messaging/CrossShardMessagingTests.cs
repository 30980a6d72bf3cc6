using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Messaging;

/// <summary>
/// The shard-to-shard rings and the mailbox under load: requests and replies crossing in both directions at once,
/// outside threads posting beside them, batches larger than a ring, rings that fill.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class CrossShardMessagingTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static RuntimeOptions SmallRings(int capacity) => new() { Backend = Backends.Current, ShardCount = 2, CrossShardQueueCapacity = capacity };

    /// <summary>Shard <paramref name="from"/> sends <paramref name="count"/> calls to the other shard in bursts of
    /// <paramref name="burst"/> (sent in one tick, then awaited together) and sums the answers.</summary>
    private static async ValueTask<long> Burst(MinissRuntime runtime, int from, int count, int burst, int[] executed)
    {
        int to = 1 - from;
        long sum = 0;
        var pending = new ValueTask<int>[burst];
        for (int sent = 0; sent < count; sent += burst)
        {
            int n = Math.Min(burst, count - sent);
            for (int i = 0; i < n; i++)
            {
                int value = sent + i;
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited exactly once below.
                pending[i] = runtime.SubmitTo(to, () =>
                {
                    executed[Shard.Current!.Id]++;
                    return value;
                });
#pragma warning restore CA2012
            }

            for (int i = 0; i < n; i++)
            {
                sum += await pending[i];
            }
        }

        return sum;
    }

    [Test, CancelAfter(60000)]
    public async Task No_message_is_lost_when_both_shards_and_outside_threads_publish_at_once(CancellationToken token)
    {
        const int perShard = 20_000;
        const int outsideThreads = 4;
        const int perThread = 2_000;
        await using var scope = RuntimeScope.Start(SmallRings(8));
        MinissRuntime runtime = scope.Runtime;

        // Written only on the shard whose index it is (the work runs there), read once everything has returned.
        var executed = new int[2];
        Task<long> fromZero = runtime.SubmitTo(0, () => Burst(runtime, 0, perShard, 37, executed)).AsTask();
        Task<long> fromOne = runtime.SubmitTo(1, () => Burst(runtime, 1, perShard, 53, executed)).AsTask();
        var outside = new Task<long>[outsideThreads];
        for (int t = 0; t < outsideThreads; t++)
        {
            outside[t] = Task.Run(async () =>
            {
                long sum = 0;
                for (int i = 0; i < perThread; i++)
                {
                    int value = i;
                    sum += await runtime.SubmitTo(i & 1, () =>
                    {
                        executed[Shard.Current!.Id]++;
                        return value;
                    });
                }

                return sum;
            }, token);
        }

        long[] sums = await Task.WhenAll(outside.Prepend(fromOne).Prepend(fromZero)).WaitAsync(Bounded.Ceiling, token);

        long expectedPerShard = (long)perShard * (perShard - 1) / 2;
        long expectedPerThread = (long)perThread * (perThread - 1) / 2;
        Assert.That(sums, Is.EqualTo(new[] { expectedPerShard, expectedPerShard }.Concat(Enumerable.Repeat(expectedPerThread, outsideThreads))));
        int[] counts = await runtime.InvokeOnAll(() => executed[Shard.Current!.Id]).Within(token);
        Assert.That(counts, Is.EqualTo(new[] { perShard + (outsideThreads * perThread / 2), perShard + (outsideThreads * perThread / 2) }));
    }

    [Test, CancelAfter(60000)]
    public async Task A_batch_larger_than_the_ring_arrives_whole_and_in_order(CancellationToken token)
    {
        const int capacity = 4;
        const int messages = (capacity * 25) + 3;
        await using var scope = RuntimeScope.Start(SmallRings(capacity));
        MinissRuntime runtime = scope.Runtime;

        // Owned by shard 1: appended to only there, read there.
        var arrived = new List<int>();
        await runtime.SubmitTo(0, async () =>
        {
            // All sent in one tick: the batch wraps the ring many times and is handed over across several ticks.
            var pending = new ValueTask<bool>[messages];
            for (int i = 0; i < messages; i++)
            {
                int index = i;
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited exactly once below.
                pending[i] = runtime.SubmitTo(1, () =>
                {
                    arrived.Add(index);
                    return true;
                });
#pragma warning restore CA2012
            }

            foreach (ValueTask<bool> call in pending)
            {
                await call;
            }
        }).Within(token);

        int[] order = await runtime.SubmitTo(1, () => arrived.ToArray()).Within(token);
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, messages)));
    }

    [Test, CancelAfter(60000)]
    public async Task A_ring_of_two_slots_carries_requests_and_replies_crossing_both_ways(CancellationToken token)
    {
        const int calls = 5_000;
        await using var scope = RuntimeScope.Start(SmallRings(2));
        MinissRuntime runtime = scope.Runtime;
        var executed = new int[2];

        long[] sums = await Task.WhenAll(
            runtime.SubmitTo(0, () => Burst(runtime, 0, calls, 64, executed)).AsTask(),
            runtime.SubmitTo(1, () => Burst(runtime, 1, calls, 64, executed)).AsTask()).WaitAsync(Bounded.Ceiling, token);

        long expected = (long)calls * (calls - 1) / 2;
        Assert.That(sums, Is.EqualTo(new[] { expected, expected }));
    }

    [Test, CancelAfter(60000)]
    public async Task Shards_sleeping_between_bursts_are_woken_by_each_burst(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero, CrossShardQueueCapacity = 4 });
        MinissRuntime runtime = scope.Runtime;
        var executed = new int[2];

        long total = await runtime.SubmitTo(0, async () =>
        {
            long sum = 0;
            for (int round = 0; round < 50; round++)
            {
                sum += await Burst(runtime, 0, 10, 10, executed);

                // Long enough for the other shard to fall asleep (it sleeps at once when idle).
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            }

            return sum;
        }).Within(token);

        Assert.That(total, Is.EqualTo(50L * 45));
        Assert.That(runtime[1].Statistics.Wakeups, Is.GreaterThan(0), "the other shard never slept between bursts");
    }

    /// <summary>The shard-to-shard wake-up race, many times over: the responder sleeps as soon as it is idle, so each
    /// request finds it either awake (it reads its ring after announcing its sleep) or asleep (the sender reads the
    /// flag after publishing, and wakes it). A request published between the two reads with neither side seeing the
    /// other would wait for ever: the bounded wait fails the test.</summary>
    [Test, CancelAfter(120000)]
    public async Task No_wake_up_is_lost_when_every_message_finds_its_target_falling_asleep(CancellationToken token)
    {
        const int rounds = 20_000;
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero });
        MinissRuntime runtime = scope.Runtime;

        long sum = await runtime.SubmitTo(0, async () =>
        {
            long total = 0;
            for (int i = 0; i < rounds; i++)
            {
                int value = i;
                total += await runtime.SubmitTo(1, () => value);
            }

            return total;
        }).Within(token);

        Assert.That(sum, Is.EqualTo((long)rounds * (rounds - 1) / 2));
        Assert.That(runtime[1].Statistics.Sleeps, Is.GreaterThan(0), "the responder never slept, so no wake-up was tested");
    }
}
