using Miniss.Buffers;
using Miniss.IO;
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class StartupTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private static int[] AllowedCpus()
    {
        // The process's affinity mask, as the runtime reads it: Cpus_allowed_list of /proc/self/status.
        string line = System.IO.File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        var cpus = new List<int>();
        foreach (string range in line["Cpus_allowed_list:".Length..].Trim().Split(','))
        {
            string[] bounds = range.Split('-');
            int first = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
            int last = bounds.Length == 2 ? int.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture) : first;
            for (int cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        return [.. cpus];
    }

    [Test, CancelAfter(10000)]
    public async Task By_default_there_is_one_shard_per_allowed_cpu(CancellationToken token)
    {
        int[] cpus = AllowedCpus();
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current });
        MinissRuntime runtime = scope.Runtime;

        Assert.That(runtime.ShardCount, Is.EqualTo(cpus.Length));
        Assert.That(runtime.Shards.Select(s => s.Id), Is.EqualTo(Enumerable.Range(0, cpus.Length)));
        Assert.That(runtime.Shards.Select(s => s.Cpu), Is.EqualTo(cpus));
        int[] ids = await runtime.InvokeOnAll(() => Shard.Current!.Id).Within(token);
        Assert.That(ids, Is.EqualTo(Enumerable.Range(0, cpus.Length)));
    }

    [Test, CancelAfter(10000)]
    public async Task Each_shard_runs_on_a_thread_named_for_it(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        string?[] names = await scope.Runtime.InvokeOnAll(() => Thread.CurrentThread.Name).Within(token);

        Assert.That(names, Is.EqualTo(new[] { "miniss-shard-0", "miniss-shard-1" }));
    }

    [Test, CancelAfter(10000)]
    public async Task Pinned_shards_run_on_their_cpu(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, PinThreads = true });
        MinissRuntime runtime = scope.Runtime;
        (bool Pinned, int Cpu, int[] Seen)[] shards = await runtime.InvokeOnAll(() =>
        {
            // The processor id may be cached for a while by .NET; after enough calls it is read afresh.
            var seen = new int[200];
            for (int i = 0; i < seen.Length; i++)
            {
                seen[i] = Thread.GetCurrentProcessorId();
                Thread.SpinWait(100);
            }

            return (Shard.Current!.IsPinned, Shard.Current.Cpu, seen);
        }).Within(token);

        foreach ((bool pinned, int cpu, int[] seen) in shards)
        {
            Assert.That(pinned, Is.True, $"shard on cpu {cpu} is not pinned");
            Assert.That(seen[^1], Is.EqualTo(cpu));
            Assert.That(seen.Count(c => c != cpu), Is.LessThan(seen.Length / 2), $"shard on cpu {cpu} ran on {string.Join(",", seen.Distinct())}");
        }
    }

    [Test, CancelAfter(10000)]
    public async Task Unpinned_shards_say_so(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, PinThreads = false });

        Assert.That(scope.Runtime.Shards.Select(s => s.IsPinned), Is.All.False);
        Assert.That(await scope.Runtime.SubmitTo(1, () => 7).Within(token), Is.EqualTo(7));
    }

    [Test, CancelAfter(10000)]
    public async Task More_shards_than_cpus_share_the_cpus_round_robin(CancellationToken token)
    {
        int[] cpus = AllowedCpus();
        int count = cpus.Length * 2 + 1;
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = count });
        MinissRuntime runtime = scope.Runtime;

        Assert.That(runtime.ShardCount, Is.EqualTo(count));
        Assert.That(runtime.Shards.Select(s => s.Cpu), Is.EqualTo(Enumerable.Range(0, count).Select(i => cpus[i % cpus.Length])));
        int[] ids = await runtime.InvokeOnAll(() => Shard.Current!.Id).Within(token);
        Assert.That(ids, Is.EqualTo(Enumerable.Range(0, count)));
        int[] viaOthers = await runtime.SubmitTo(0, async () =>
        {
            int[] results = new int[count];
            for (int i = 0; i < count; i++)
            {
                int target = i;
                results[i] = await runtime.SubmitTo(target, () => Shard.Current!.Id * 10);
            }

            return results;
        }).Within(token);
        Assert.That(viaOthers, Is.EqualTo(Enumerable.Range(0, count).Select(i => i * 10)));
    }

    [Test]
    public void A_shard_count_of_zero_is_refused_at_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 0 }).Dispose());

    [Test]
    public void A_negative_shard_count_is_refused_at_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = -1 }).Dispose());

    [TestCase(3)]
    [TestCase(1)]
    [TestCase(0)]
    [TestCase(1000)]
    public void A_queue_capacity_that_is_not_a_power_of_two_of_at_least_two_is_refused_at_start(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, CrossShardQueueCapacity = capacity }).Dispose());

    [Test]
    public void Ring_entries_out_of_range_are_refused_at_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, RingEntries = 0 }).Dispose());

    [Test]
    public void A_zero_task_quota_is_refused_at_start() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, TaskQuota = TimeSpan.Zero }).Dispose());

    // Guards Shard.Run's start-up failure path: a shard that fails to start counts as drained (before, the shards that
    // did start waited forever for it to drain, and MinissRuntime.Start never returned).
    [Test, CancelAfter(15000)]
    public async Task Start_throws_when_one_shard_fails_to_set_up_while_another_starts(CancellationToken token)
    {
        // Each shard maps its buffer pool's whole region (MAP_NORESERVE: address space, no memory). Sized so that one
        // region fits in the process's address space and two do not, exactly one shard's set-up fails.
        const long Region = 70L << 40;
        RequireOneRegionButNotTwo(Region);
        var options = new RuntimeOptions
        {
            ShardCount = 2,
            RegisterBuffers = false,
            StallThreshold = TimeSpan.Zero,
            BufferPool = new BufferPoolConfig { MaxMemory = Region },
        };

        Task<MinissRuntime> start = Task.Run(() => MinissRuntime.Start(options), token);
        Exception? error = null;
        try
        {
            MinissRuntime started = await start.WaitAsync(Bound, token);
            await started.StopAsync().AsTask().WaitAsync(Bound, token);
        }
        catch (TimeoutException)
        {
            Assert.Fail("MinissRuntime.Start did not return within 5 s: the started shard waits for the failed one");
        }
        catch (InsufficientMemoryException e)
        {
            error = e;
        }

        Assert.That(error, Is.Not.Null, "Start succeeded although one shard could not map its buffer pool");

        // The shard that did start has stopped and released its region: it fits again.
        AnonymousMapping.Create(Region, 1 << 20).Dispose();
    }

    private static void RequireOneRegionButNotTwo(long region)
    {
        AnonymousMapping first;
        try
        {
            first = AnonymousMapping.Create(region, 1 << 20);
        }
        catch (InsufficientMemoryException)
        {
            Assert.Ignore($"this process cannot map {region >> 40} TiB of address space even once");
            return;
        }

        using (first)
        {
            try
            {
                AnonymousMapping.Create(region, 1 << 20).Dispose();
            }
            catch (InsufficientMemoryException)
            {
                return;
            }

            Assert.Ignore($"this process can map {region >> 40} TiB of address space twice");
        }
    }

    private static readonly AsyncLocal<string?> Ambient = new();

    // Guards MinissRuntime.StartThreads: shard threads start with UnsafeStart (before, Thread.Start captured the
    // starter's execution context, so its AsyncLocal values were visible to all work on every shard).
    [Test, CancelAfter(10000)]
    public async Task Async_locals_of_the_thread_that_starts_the_runtime_do_not_reach_the_shards(CancellationToken token)
    {
        Ambient.Value = "starter";
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        // Cleared again, so that only the shard threads' own context can show it.
        Ambient.Value = null;

        string?[] direct = await runtime.InvokeOnAll(() => Ambient.Value).Within(token);
        string? afterAwait = await runtime.SubmitTo(1, async () =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            return Ambient.Value;
        }).Within(token);

        Assert.That(direct, Is.EqualTo(new string?[] { null, null }));
        Assert.That(afterAwait, Is.Null);
    }
}
