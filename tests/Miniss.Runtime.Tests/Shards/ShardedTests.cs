using Miniss.IO;
using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ShardedTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static RuntimeOptions ThreeShards => new() { ShardCount = 3 };

    /// <summary>A per-shard service that records where it was created, used and disposed.</summary>
    private class Counter(Shard owner)
    {
        public Shard Owner { get; } = owner;

        public int CreatedOnShard { get; } = Shard.Current?.Id ?? -1;

        public int CreatedOnThread { get; } = Environment.CurrentManagedThreadId;

        public int Count { get; set; }
    }

    private sealed class SyncDisposableCounter(Shard owner, ConcurrentQueue<(int Instance, int DisposedOn)> disposals)
        : Counter(owner), IDisposable
    {
        public void Dispose() => disposals.Enqueue((Owner.Id, Shard.Current?.Id ?? -1));
    }

    private sealed class AsyncDisposableCounter(Shard owner, ConcurrentQueue<(int Instance, int DisposedOn)> disposals)
        : Counter(owner), IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Shard.Current!.NopAsync();
            disposals.Enqueue((Owner.Id, Shard.Current?.Id ?? -1));
        }
    }

    [Test, CancelAfter(10000)]
    public async Task Each_instance_is_created_on_its_own_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        int[] threads = await runtime.InvokeOnAll(() => Environment.CurrentManagedThreadId).Within(token);

        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(runtime, shard => new Counter(shard)).Within(token);

        int[] created = await runtime.InvokeOnAll(() => counters.Local.CreatedOnShard).Within(token);
        int[] createdOnThreads = await runtime.InvokeOnAll(() => counters.Local.CreatedOnThread).Within(token);
        int[] owners = await runtime.InvokeOnAll(() => counters.Local.Owner.Id).Within(token);
        Assert.That(created, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(owners, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(createdOnThreads, Is.EqualTo(threads));
        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task InvokeOn_runs_on_the_chosen_shard_with_its_instance(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(runtime, shard => new Counter(shard)).Within(token);

        for (int shard = 0; shard < 3; shard++)
        {
            (int RanOn, int Instance) sync = await counters.InvokeOn(shard, c => (Shard.Current!.Id, c.Owner.Id)).Within(token);
            (int RanOn, int Instance) viaAsync = await counters.InvokeOn(shard, async c =>
            {
                await Shard.Current!.NopAsync();
                return (Shard.Current.Id, c.Owner.Id);
            }).Within(token);
            Assert.That(sync, Is.EqualTo((shard, shard)));
            Assert.That(viaAsync, Is.EqualTo((shard, shard)));
        }

        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task InvokeOn_from_another_shard_reaches_the_chosen_instance(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(runtime, shard => new Counter(shard)).Within(token);

        int local = await runtime.SubmitTo(0, async () =>
        {
            await counters.InvokeOn(2, c => c.Count += 5);
            await counters.InvokeOn(2, c => c.Count += 5);
            return counters.Local.Count;
        }).Within(token);

        Assert.That(local, Is.Zero);
        Assert.That(await counters.InvokeOn(2, c => c.Count).Within(token), Is.EqualTo(10));
        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task MapReduce_folds_the_instances_in_shard_order(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(runtime, shard => new Counter(shard)).Within(token);
        await counters.InvokeOnAll(c =>
        {
            c.Count = (c.Owner.Id + 1) * 10;
            return ValueTask.CompletedTask;
        }).Within(token);

        int sum = await counters.MapReduce(c => c.Count, 0, (total, count) => total + count).Within(token);
        string order = await counters.MapReduce(c => $"{c.Owner.Id}@{Shard.Current!.Id}", "", (all, one) => all + one + ";").Within(token);

        Assert.That(sum, Is.EqualTo(10 + 20 + 30));
        Assert.That(order, Is.EqualTo("0@0;1@1;2@2;"));
        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task InvokeOnAll_gives_each_shard_its_own_instance(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(runtime, shard => new Counter(shard)).Within(token);
        var seen = new ConcurrentQueue<(int Shard, int Instance)>();

        await counters.InvokeOnAll(async c =>
        {
            await Shard.Current!.NopAsync();
            seen.Enqueue((Shard.Current.Id, c.Owner.Id));
        }).Within(token);

        Assert.That(seen.OrderBy(s => s.Shard), Is.EqualTo(new[] { (0, 0), (1, 1), (2, 2) }));
        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task Stop_disposes_each_disposable_instance_on_its_own_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        var disposals = new ConcurrentQueue<(int Instance, int DisposedOn)>();
        Sharded<SyncDisposableCounter> counters =
            await Sharded<SyncDisposableCounter>.StartAsync(runtime, shard => new SyncDisposableCounter(shard, disposals)).Within(token);

        await counters.StopAsync().Within(token);

        Assert.That(disposals.OrderBy(d => d.Instance), Is.EqualTo(new[] { (0, 0), (1, 1), (2, 2) }));
    }

    [Test, CancelAfter(10000)]
    public async Task Stop_disposes_each_async_disposable_instance_on_its_own_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        MinissRuntime runtime = scope.Runtime;
        var disposals = new ConcurrentQueue<(int Instance, int DisposedOn)>();
        Sharded<AsyncDisposableCounter> counters =
            await Sharded<AsyncDisposableCounter>.StartAsync(runtime, shard => new AsyncDisposableCounter(shard, disposals)).Within(token);

        await counters.StopAsync().Within(token);
        await counters.StopAsync().Within(token);

        Assert.That(disposals.OrderBy(d => d.Instance), Is.EqualTo(new[] { (0, 0), (1, 1), (2, 2) }), "each instance disposed once, on its shard");
    }

    [Test, CancelAfter(10000)]
    public async Task A_stopped_service_refuses_calls(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(scope.Runtime, shard => new Counter(shard)).Within(token);
        await counters.StopAsync().Within(token);

        Assert.Throws<ObjectDisposedException>(() => _ = counters.InvokeOn(0, c => c.Count).AsTask());
    }

    [Test, CancelAfter(10000)]
    public async Task Local_off_the_shards_throws_InvalidOperationException(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(scope.Runtime, shard => new Counter(shard)).Within(token);

        Assert.Throws<InvalidOperationException>(() => _ = counters.Local);
        await counters.StopAsync().Within(token);
    }

    [Test, CancelAfter(10000)]
    public async Task Local_on_another_runtime_shard_throws_InvalidOperationException(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(ThreeShards);
        await using var other = RuntimeScope.Start();
        Sharded<Counter> counters = await Sharded<Counter>.StartAsync(scope.Runtime, shard => new Counter(shard)).Within(token);

        bool refused = await other.Runtime.SubmitTo(0, () =>
        {
            try
            {
                _ = counters.Local;
                return false;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }).Within(token);

        Assert.That(refused, Is.True);
        await counters.StopAsync().Within(token);
    }
}
