using System;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace Miniss.Benchmarks;

/// <summary>
/// A cross-shard round trip to a shard that sleeps in io_uring_enter between requests (SpinBeforeSleep = 0), woken
/// either through its eventfd (the sender writes it; the target's pending read completes and ends its wait) or, with
/// <see cref="MessageRing"/>, by an IORING_OP_MSG_RING completion the sender posts to the target's ring with its own
/// submissions (RuntimeOptions.WakeShardsWithMessageRing). Compare with ShardBenchmarks.Cross_shard_round_trip, where
/// the idle shard is still spinning when the request arrives.
/// </summary>
public class WakeupBenchmarks
{
    private const int Operations = 200;
    private static readonly Func<int> s_one = static () => 1;

    private MinissRuntime _runtime = null!;

    /// <summary>Whether shards wake each other with MSG_RING (true) or the eventfd (false).</summary>
    [Params(false, true)]
    public bool MessageRing { get; set; }

    [GlobalSetup]
    public void Setup() => _runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero, WakeShardsWithMessageRing = MessageRing });

    [GlobalCleanup]
    public void Cleanup() => _runtime.Dispose();

    /// <summary>await runtime.SubmitTo(1, ...) from shard 0 with both shards sleeping whenever idle.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Round_trip_to_a_sleeping_shard() => _runtime.SubmitTo(0, async () =>
    {
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            sum += await _runtime.SubmitTo(1, s_one);
        }

        return sum;
    });
}
