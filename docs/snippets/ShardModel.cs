using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the shard-model guide.</summary>
internal static class ShardModel
{
    internal static async Task CurrentShardAsync(MinissRuntime runtime)
    {
        // <current-shard>
        await runtime.SubmitTo(0, async () =>
        {
            Shard shard = Shard.Current!;                       // the shard this code runs on
            Console.WriteLine($"{shard} runs on {shard.BackendName}");
            await shard.Delay(TimeSpan.FromMilliseconds(10));   // a timer of this shard
            Console.WriteLine(Shard.Current == shard);          // True: awaits resume on the same shard
        });
        // </current-shard>
    }

    internal static async Task CrossShardAsync(MinissRuntime runtime)
    {
        // <cross-shard>
        // From anywhere (a shard or not): run on shard 1 and bring the result back.
        int square = await runtime.SubmitTo(1, () => 12 * 12);

        // From a shard to another: the call and its answer are messages between the two shards' queues.
        string trip = await runtime.SubmitTo(0, async () =>
        {
            int there = await runtime.SubmitTo(1, () => Shard.Current!.Id);
            return $"shard {Shard.Current!.Id} asked shard {there}";
        });

        // Every shard at once; the results come back in shard order.
        int[] cpus = await runtime.InvokeOnAll(() => Shard.Current!.Cpu);
        // </cross-shard>
        Console.WriteLine($"{square} {trip} {string.Join(",", cpus)}");
    }

    // <sharded>
    /// <summary>A counter with one instance per shard: each shard counts without locks.</summary>
    internal sealed class RequestCounter
    {
        public long Count { get; set; }
    }

    internal static async Task<long> CountAsync(MinissRuntime runtime)
    {
        await using Sharded<RequestCounter> counters = await Sharded<RequestCounter>.StartAsync(runtime, shard => new RequestCounter());

        // Each shard increments its own instance (Local is the instance of the calling shard).
        await runtime.InvokeOnAll(() =>
        {
            counters.Local.Count++;
            return ValueTask.CompletedTask;
        });

        // Read every shard's count on its shard, and add them up on the caller.
        return await counters.MapReduce(counter => counter.Count, 0L, (total, count) => total + count);
    }
    // </sharded>

    internal static async Task OwnerAsync(MinissRuntime runtime, EndPoint endPoint)
    {
        // <owner>
        // A connection belongs to the shard that connected (or accepted) it ...
        ShardConnection connection = await runtime.SubmitTo(0, () => ShardConnection.ConnectAsync(endPoint));

        // ... so its operations are sent there; calling them from another thread throws InvalidOperationException.
        await runtime.SubmitTo(connection.Shard.Id, async () =>
        {
            await connection.SendAsync("ping"u8.ToArray());
            await connection.DisposeAsync();
        });
        // </owner>
    }

    internal static async Task PeriodicAsync(MinissRuntime runtime, CancellationToken stop)
    {
        // <periodic>
        await runtime.SubmitTo(0, async () =>
        {
            using var timer = new ShardPeriodicTimer(TimeSpan.FromSeconds(1));   // created on, and used on, shard 0
            while (!stop.IsCancellationRequested && await timer.WaitForNextTickAsync(stop))
            {
                ShardStatistics statistics = Shard.Current!.Statistics;
                Console.WriteLine($"shard 0: {statistics.IoSubmissions} submissions, busy {statistics.BusyTime}");
            }
        }, stop);
        // </periodic>
    }

    internal static void Events(MinissRuntime runtime)
    {
        // <events>
        runtime.UnhandledException += (_, e) => Console.Error.WriteLine($"shard {e.ShardId}: {e.Exception.Message}");
        runtime.StallDetected += (_, e) => Console.Error.WriteLine($"shard {e.ShardId} was busy for {e.Duration}");
        // </events>
    }

    internal static IReadOnlyList<int> Cpus() => MinissRuntime.AvailableCpus();
}
