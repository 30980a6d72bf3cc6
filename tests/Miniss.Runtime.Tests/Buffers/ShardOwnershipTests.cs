using Miniss.IO;
using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Buffers;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>A pool belongs to the shard that creates it; buffers freed anywhere else are sent back there.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ShardOwnershipTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static Task Settled(MinissRuntime runtime, BufferPool pool, long free, string what, CancellationToken token) =>
        Bounded.Eventually(
            async () =>
            {
                BufferPoolStats stats = await runtime.SubmitTo(0, () => pool.Stats).Within(token);
                return stats.Classes.Sum(c => c.Allocated) == 0 && stats.Classes.Sum(c => c.Free) == free;
            },
            what,
            token);

    [Test, CancelAfter(20000)]
    public async Task A_pool_created_on_a_shard_is_owned_by_it(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int Owner, int Expected) ids = await runtime.SubmitTo(0, () =>
        {
            using var pool = new BufferPool(Config(4 * MiB));
            return (pool.Owner!.Id, Shard.Current!.Id);
        }).Within(token);

        Assert.That(ids.Owner, Is.EqualTo(ids.Expected));
    }

    [Test, CancelAfter(20000)]
    public async Task Buffers_freed_on_another_shard_and_off_the_shards_return_to_the_owner(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        BufferPool pool = await runtime.SubmitTo(0, () => new BufferPool(Config(16 * MiB))).Within(token);
        (BufferHandle[] buffers, long free) = await runtime.SubmitTo(0, () =>
        {
            var random = new Random(5);
            BufferHandle[] taken = Enumerable.Range(0, 64).Select(_ => pool.Take(random.Next(1, 200 * KiB))).ToArray();
            return (taken, pool.Stats.Classes.Sum(c => c.Free) + taken.Length);
        }).Within(token);

        bool allInvalid = await runtime.SubmitTo(1, () =>
        {
            foreach (BufferHandle buffer in buffers[..32])
            {
                pool.Deallocate(buffer);
            }

            return buffers[..32].All(b => !b.IsValid);
        }).Within(token);
        foreach (BufferHandle buffer in buffers[32..])
        {
            pool.Deallocate(buffer);
        }

        Assert.That(allInvalid, Is.True, "a handle is invalid as soon as Deallocate returns, on any thread");
        Assert.That(buffers[32..].All(b => !b.IsValid), Is.True);
        await Settled(runtime, pool, free, "every buffer is back on shard 0's free lists", token);
        await runtime.SubmitTo(0, pool.Dispose).Within(token);
    }

    [Test, CancelAfter(20000)]
    public async Task Racing_frees_of_the_same_buffers_on_two_threads_free_each_exactly_once(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        BufferPool pool = await runtime.SubmitTo(0, () => new BufferPool(Config(16 * MiB))).Within(token);
        BufferHandle[] buffers = await runtime.SubmitTo(0, () => Enumerable.Range(0, 500).Select(_ => pool.Take(4 * KiB)).ToArray()).Within(token);

        int FreeAll()
        {
            int freed = 0;
            foreach (BufferHandle buffer in buffers)
            {
                try
                {
                    pool.Deallocate(buffer);
                    freed++;
                }
                catch (InvalidOperationException)
                {
                }
            }

            return freed;
        }

        Task<int> onShard = runtime.SubmitTo(1, FreeAll).Within(token);
        Task<int> offShards = Task.Run(FreeAll, token);
        int[] freed = await Task.WhenAll(onShard, offShards);

        Assert.That(freed.Sum(), Is.EqualTo(500));
        await Settled(runtime, pool, 500, "each buffer is on the free list once", token);
        await runtime.SubmitTo(0, pool.Dispose).Within(token);
    }

    [Test, CancelAfter(20000)]
    public async Task Allocating_off_the_owner_shard_throws(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        BufferPool pool = await runtime.SubmitTo(0, () => new BufferPool(Config(4 * MiB))).Within(token);

        Exception? onOtherShard = await runtime.SubmitTo(1, () => Catch(() => pool.Allocate(4 * KiB))).Within(token);
        Exception? offShards = Catch(() => pool.Allocate(4 * KiB));

        Assert.That(onOtherShard, Is.InstanceOf<InvalidOperationException>());
        Assert.That(onOtherShard!.Message, Does.Contain("shard 0"));
        Assert.That(offShards, Is.InstanceOf<InvalidOperationException>());
        Assert.That(Catch(() => pool.Prealloc(4 * KiB, 1)), Is.InstanceOf<InvalidOperationException>());
        await runtime.SubmitTo(0, pool.Dispose).Within(token);
    }

    [Test, CancelAfter(20000)]
    public async Task A_second_free_on_another_thread_is_caught_there_and_then(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        BufferPool pool = await runtime.SubmitTo(0, () => new BufferPool(Config(4 * MiB))).Within(token);
        BufferHandle buffer = await runtime.SubmitTo(0, () => pool.Take(4 * KiB)).Within(token);
        pool.Deallocate(buffer);

        Exception? second = await runtime.SubmitTo(1, () => Catch(() => pool.Deallocate(buffer))).Within(token);

        Assert.That(second, Is.InstanceOf<InvalidOperationException>());
        await Settled(runtime, pool, 1, "the buffer is back on shard 0's free list", token);
        await runtime.SubmitTo(0, pool.Dispose).Within(token);
    }

    [Test, CancelAfter(20000)]
    public async Task Buffers_freed_after_the_owner_shard_stopped_still_return_to_the_pool(CancellationToken token)
    {
        BufferPool pool;
        BufferHandle[] buffers;
        await using (var scope = RuntimeScope.Start())
        {
            pool = await scope.Runtime.SubmitTo(0, () => new BufferPool(Config(4 * MiB))).Within(token);
            buffers = await scope.Runtime.SubmitTo(0, () => Enumerable.Range(0, 10).Select(_ => pool.Take(8 * KiB)).ToArray()).Within(token);
        }

        using (pool)
        {
            foreach (BufferHandle buffer in buffers)
            {
                pool.Deallocate(buffer);
            }

            await Bounded.Eventually(() => pool.Stats[8 * KiB].Allocated == 0, "every buffer freed after the stop is back", token);

            Assert.That(pool.Stats[8 * KiB].Free, Is.EqualTo(10));
        }
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
#pragma warning disable CA1031 // The test reports whatever was thrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e;
        }
    }
}
