using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace Miniss.Benchmarks;

/// <summary>
/// The runtime as users see it: awaits on a shard. Each invocation runs a loop of <see cref="Operations"/> awaits on
/// shard 0 (one outside call to get there, amortised over the loop), beside the .NET thread-pool equivalent.
/// </summary>
public class ShardBenchmarks
{
    private const int Operations = 1000;
    private static readonly Func<int> s_one = static () => 1;

    private MinissRuntime _runtime = null!;

    private readonly System.Threading.Channels.Channel<int> _requests = System.Threading.Channels.Channel.CreateUnbounded<int>(new() { SingleReader = true, SingleWriter = true });
    private readonly System.Threading.Channels.Channel<int> _replies = System.Threading.Channels.Channel.CreateUnbounded<int>(new() { SingleReader = true, SingleWriter = true });
    private Task _responder = Task.CompletedTask;

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2 });
        _responder = Task.Run(async () =>
        {
            await foreach (int request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                _replies.Writer.TryWrite(1);
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _requests.Writer.TryComplete();
        _responder.GetAwaiter().GetResult();
        _runtime.Dispose();
    }

    /// <summary>await shard.NopAsync(): SQE, submission batch, completion, continuation on the shard.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Shard_nop_await() => _runtime.SubmitTo(0, static async () =>
    {
        Shard shard = Shard.Current!;
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            sum += await shard.NopAsync();
        }

        return sum;
    });

    /// <summary>await runtime.SubmitTo(1, ...) from shard 0: request and reply through the SPSC rings.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Cross_shard_round_trip() => _runtime.SubmitTo(0, async () =>
    {
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            sum += await _runtime.SubmitTo(1, s_one);
        }

        return sum;
    });

    /// <summary>.NET's cross-thread ping-pong: a request through one channel to a responder task on the thread pool and
    /// the reply through another, awaited (the closest .NET shape of a message to another core and back).</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task<int> DotNet_channel_round_trip()
    {
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            _requests.Writer.TryWrite(i);
            sum += await _replies.Reader.ReadAsync().ConfigureAwait(false);
        }

        return sum;
    }

    /// <summary>.NET's cheapest hop: await Task.Run(...) from a thread-pool thread (often run on the same thread).</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task<int> DotNet_thread_pool_round_trip()
    {
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            sum += await Task.Run(s_one).ConfigureAwait(false);
        }

        return sum;
    }

    /// <summary>A timer armed and fired: await shard.Delay(1 tick), completed by the loop's next timer pass.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Timer_arm_and_fire() => _runtime.SubmitTo(0, static async () =>
    {
        Shard shard = Shard.Current!;
        for (int i = 0; i < Operations; i++)
        {
            await shard.Delay(TimeSpan.FromTicks(1));
        }

        return Operations;
    });

    /// <summary>A timer armed and cancelled through its token, the await observing the cancellation.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Timer_arm_and_cancel() => _runtime.SubmitTo(0, static async () =>
    {
        Shard shard = Shard.Current!;
        int cancelled = 0;
        for (int i = 0; i < Operations; i++)
        {
            using var source = new CancellationTokenSource();
            ValueTask delay = shard.Delay(TimeSpan.FromHours(1), source.Token);
            source.Cancel();
            try
            {
                await delay;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }

        return cancelled;
    });

    /// <summary>.NET's equivalent: Task.Delay with a token, cancelled, the await observing it.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task<int> DotNet_timer_arm_and_cancel()
    {
        int cancelled = 0;
        for (int i = 0; i < Operations; i++)
        {
            using var source = new CancellationTokenSource();
            Task delay = Task.Delay(TimeSpan.FromHours(1), source.Token);
            source.Cancel();
            try
            {
                await delay.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }

        return cancelled;
    }
}
