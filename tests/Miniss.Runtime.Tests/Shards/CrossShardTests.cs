using Miniss.IO;
using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>Calls between shards and into shards from outside: results, exceptions, re-entrancy, backpressure.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class CrossShardTests(IoBackendKind backend) : BackendFixture(backend)
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ThrowingSyncWork() => throw new InvalidOperationException("sync work failed on purpose");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async ValueTask<int> ThrowingAsyncWork()
    {
        await Shard.Current!.NopAsync();
        throw new FormatException("async work failed on purpose");
    }

    [Test, CancelAfter(10000)]
    public async Task Values_round_trip_between_shards(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        (int, string, int)[] echoes = await runtime.SubmitTo(0, async () =>
        {
            var results = new (int, string, int)[100];
            for (int i = 0; i < results.Length; i++)
            {
                int sent = i;
                results[i] = await runtime.SubmitTo(1, () => (sent * 2, $"v{sent}", Shard.Current!.Id));
            }

            return results;
        }).Within(token);

        Assert.That(echoes, Is.EqualTo(Enumerable.Range(0, 100).Select(i => (i * 2, $"v{i}", 1))));
    }

    /// <summary>Synchronous calls between shards travel inline in the rings' slots when their result is a reference or
    /// an unmanaged value of at most 8 bytes, as message objects otherwise: every kind arrives whole, from the
    /// target shard.</summary>
    [Test, CancelAfter(10000)]
    public async Task Results_of_every_size_and_kind_round_trip_between_shards(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var guid = Guid.NewGuid();
        var when = new DateTime(2026, 12, 5, 15, 0, 0, DateTimeKind.Utc);
        object[] results = await runtime.SubmitTo(0, async () => new object[]
        {
            await runtime.SubmitTo(1, () => Shard.Current!.Id),
            await runtime.SubmitTo(1, () => long.MinValue + Shard.Current!.Id),
            await runtime.SubmitTo(1, () => Math.PI * Shard.Current!.Id),
            await runtime.SubmitTo(1, () => Shard.Current!.Id == 1),
            await runtime.SubmitTo(1, () => (byte)(200 + Shard.Current!.Id)),
            await runtime.SubmitTo(1, () => (Shard.Current!.Id, -7)),
            await runtime.SubmitTo(1, () => when.AddDays(Shard.Current!.Id)),
            await runtime.SubmitTo(1, () => $"from {Shard.Current!.Id}"),
            await runtime.SubmitTo(1, () => Shard.Current!.Id == 1 ? null! : "wrong shard"),
            await runtime.SubmitTo(1, () => Shard.Current!.Id == 1 ? guid : Guid.Empty),
            await runtime.SubmitTo(1, () => 1.5m * Shard.Current!.Id),
            await runtime.SubmitTo(1, () => (Shard.Current!.Id, 2L, 3L)),
        }).Within(token);

        Assert.That(results, Is.EqualTo(new object[]
        {
            1, long.MinValue + 1, Math.PI, true, (byte)201, (1, -7), when.AddDays(1), "from 1", null!, guid, 1.5m, (1, 2L, 3L),
        }));
    }

    /// <summary>A reply resumes its caller inside the loop's read of the ring: a continuation that throws (a
    /// hand-written awaiter's; an async method keeps its exceptions) is reported as unhandled on the caller's shard,
    /// and the loop goes on serving.</summary>
    [Test, CancelAfter(10000)]
    public async Task A_throwing_continuation_of_a_reply_is_reported_and_the_shard_keeps_serving(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var reported = new TaskCompletionSource<ShardExceptionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.UnhandledException += (_, e) => reported.TrySetResult(e);

        await runtime.SubmitTo(0, () =>
        {
#pragma warning disable CA2012 // The call is awaited by hand, once, through its awaiter.
            runtime.SubmitTo(1, static () => 7).GetAwaiter().OnCompleted(static () => throw new FormatException("continuation failed on purpose"));
#pragma warning restore CA2012
            return 0;
        }).Within(token);
        ShardExceptionEventArgs report = await reported.Task.WaitAsync(token);

        Assert.That(report.ShardId, Is.Zero);
        Assert.That(report.Exception, Is.TypeOf<FormatException>());
        Assert.That(await runtime.SubmitTo(0, async () => await runtime.SubmitTo(1, static () => Shard.Current!.Id)).Within(token), Is.EqualTo(1));
        Assert.That(runtime.IsFaulted, Is.False);
    }

    [Test, CancelAfter(10000)]
    public async Task Async_values_round_trip_between_shards(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        int[] echoes = await runtime.SubmitTo(1, async () =>
        {
            var results = new int[50];
            for (int i = 0; i < results.Length; i++)
            {
                int sent = i;
                results[i] = await runtime.SubmitTo(0, async () =>
                {
                    await Shard.Current!.NopAsync();
                    return sent + Shard.Current.Id * 1000;
                });
            }

            return results;
        }).Within(token);

        Assert.That(echoes, Is.EqualTo(Enumerable.Range(0, 50)));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_from_remote_sync_work_reaches_the_caller_shard_with_its_type_message_and_stack(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        Exception? caught = await runtime.SubmitTo(0, async () =>
        {
            try
            {
                await runtime.SubmitTo(1, ThrowingSyncWork);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        Assert.That(caught, Is.TypeOf<InvalidOperationException>());
        Assert.That(caught!.Message, Is.EqualTo("sync work failed on purpose"));
        Assert.That(caught.StackTrace, Does.Contain(nameof(ThrowingSyncWork)));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_from_remote_async_work_reaches_the_caller_shard_with_its_type_message_and_stack(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        Exception? caught = await runtime.SubmitTo(0, async () =>
        {
            try
            {
                await runtime.SubmitTo(1, ThrowingAsyncWork);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        Assert.That(caught, Is.TypeOf<FormatException>());
        Assert.That(caught!.Message, Is.EqualTo("async work failed on purpose"));
        Assert.That(caught.StackTrace, Does.Contain(nameof(ThrowingAsyncWork)));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_from_sync_work_reaches_an_outside_caller_with_its_type_message_and_stack(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        var caught = Assert.ThrowsAsync<InvalidOperationException>(() => scope.Runtime.SubmitTo(1, ThrowingSyncWork).Within(token));

        Assert.That(caught!.Message, Is.EqualTo("sync work failed on purpose"));
        Assert.That(caught.StackTrace, Does.Contain(nameof(ThrowingSyncWork)));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_from_async_work_reaches_an_outside_caller_with_its_type_message_and_stack(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        var caught = Assert.ThrowsAsync<FormatException>(() => scope.Runtime.SubmitTo(1, ThrowingAsyncWork).Within(token));

        Assert.That(caught!.Message, Is.EqualTo("async work failed on purpose"));
        Assert.That(caught.StackTrace, Does.Contain(nameof(ThrowingAsyncWork)));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_from_work_without_a_result_reaches_the_caller(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        string?[] messages = await runtime.SubmitTo(0, async () =>
        {
            var seen = new string?[2];
            try
            {
                await runtime.SubmitTo(1, () => throw new InvalidOperationException("action"));
            }
            catch (InvalidOperationException e)
            {
                seen[0] = e.Message;
            }

            try
            {
                await runtime.SubmitTo(1, async () =>
                {
                    await Shard.Current!.NopAsync();
                    throw new InvalidOperationException("async action");
                });
            }
            catch (InvalidOperationException e)
            {
                seen[1] = e.Message;
            }

            return seen;
        }).Within(token);

        Assert.That(messages, Is.EqualTo(new[] { "action", "async action" }));
    }

    [Test, CancelAfter(10000)]
    public async Task A_shard_may_submit_to_itself(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        (int Outer, int Inner, int InnerAsync) ids = await runtime.SubmitTo(1, async () =>
        {
            int inner = await runtime.SubmitTo(1, () => Shard.Current!.Id);
            int innerAsync = await runtime.SubmitTo(1, async () =>
            {
                await Task.Yield();
                return Shard.Current!.Id;
            });
            return (Shard.Current!.Id, inner, innerAsync);
        }).Within(token);

        Assert.That(ids, Is.EqualTo((1, 1, 1)));
    }

    [Test, CancelAfter(10000)]
    public async Task Work_on_a_shard_may_call_another_shard_that_calls_back(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        string path = await runtime.SubmitTo(0, async () =>
        {
            // 0 -> 0 (itself) -> 1 -> 0 -> 1: every hop awaits the next one.
            return await runtime.SubmitTo(0, async () =>
            {
                string rest = await runtime.SubmitTo(1, async () =>
                {
                    string back = await runtime.SubmitTo(0, async () =>
                    {
                        int last = await runtime.SubmitTo(1, () => Shard.Current!.Id);
                        return $"{Shard.Current!.Id}>{last}";
                    });
                    return $"{Shard.Current!.Id}>{back}";
                });
                return $"{Shard.Current!.Id}>{rest}";
            });
        }).Within(token);

        Assert.That(path, Is.EqualTo("0>1>0>1"));
    }

    [Test, CancelAfter(10000)]
    public async Task Calls_from_an_outside_thread_run_on_the_shard_and_resume_off_the_shards(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        for (int i = 0; i < 20; i++)
        {
            int target = i % 2;
            (int Shard, string? Thread) ran = await runtime.SubmitTo(target, () => (Shard.Current!.Id, Thread.CurrentThread.Name));
            Assert.That(ran, Is.EqualTo((target, $"miniss-shard-{target}")));
            Assert.That(Shard.Current, Is.Null, "the continuation of an outside call ran on a shard");
            Assert.That(Thread.CurrentThread.Name ?? string.Empty, Does.Not.StartWith("miniss-shard"));

            int asyncRan = await runtime.SubmitTo(target, async () =>
            {
                await Shard.Current!.NopAsync();
                return Shard.Current.Id;
            });
            Assert.That(asyncRan, Is.EqualTo(target));
            Assert.That(Shard.Current, Is.Null, "the continuation of an outside async call ran on a shard");
        }

        await runtime.SubmitTo(0, () => { });
        Assert.That(Shard.Current, Is.Null);
        await runtime.SubmitTo(1, async () => await Shard.Current!.NopAsync());
        Assert.That(Shard.Current, Is.Null);
        token.ThrowIfCancellationRequested();
    }

    [Test, CancelAfter(10000)]
    public async Task InvokeOnAll_runs_on_every_shard_and_returns_results_by_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 3 });
        MinissRuntime runtime = scope.Runtime;
        int[] ids = await runtime.InvokeOnAll(() => Shard.Current!.Id * 10).Within(token);
        int ran = 0;
        await runtime.InvokeOnAll(async () =>
        {
            await Shard.Current!.NopAsync();
            Interlocked.Increment(ref ran);
        }).Within(token);

        Assert.That(ids, Is.EqualTo(new[] { 0, 10, 20 }));
        Assert.That(ran, Is.EqualTo(3));
    }

    [Test, CancelAfter(10000)]
    public async Task InvokeOnAll_collects_the_failures_of_every_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 3 });
        MinissRuntime runtime = scope.Runtime;
        var error = Assert.ThrowsAsync<AggregateException>(() => runtime.InvokeOnAll(async () =>
        {
            await Shard.Current!.NopAsync();
            if (Shard.Current.Id != 1)
            {
                throw new InvalidOperationException($"shard {Shard.Current.Id}");
            }
        }).Within(token));

        Assert.That(error!.InnerExceptions.Select(e => e.Message), Is.EquivalentTo(new[] { "shard 0", "shard 2" }));
    }

    [Test, CancelAfter(30000)]
    public async Task A_full_queue_delays_calls_but_loses_none(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, CrossShardQueueCapacity = 2 });
        MinissRuntime runtime = scope.Runtime;
        int[] results = await runtime.SubmitTo(0, async () =>
        {
            var pending = new ValueTask<int>[10_000];
            for (int i = 0; i < pending.Length; i++)
            {
                int sent = i;
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited once below, after all are started.
                pending[i] = runtime.SubmitTo(1, () => sent);
#pragma warning restore CA2012
            }

            var received = new int[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                received[i] = await pending[i];
            }

            return received;
        }).Within(token);

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 10_000)));
    }

    [Test, CancelAfter(30000)]
    public async Task Two_shards_flooding_each_other_through_full_queues_do_not_deadlock(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, CrossShardQueueCapacity = 2 });
        MinissRuntime runtime = scope.Runtime;
        Func<ValueTask<int[]>> flood(int to) => async () =>
        {
            var pending = new ValueTask<int>[10_000];
            for (int i = 0; i < pending.Length; i++)
            {
                int sent = i;
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited once below, after all are started.
                pending[i] = runtime.SubmitTo(to, () => sent * 2 + Shard.Current!.Id);
#pragma warning restore CA2012
            }

            var received = new int[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                received[i] = await pending[i];
            }

            return received;
        };

        Task<int[]> fromZero = runtime.SubmitTo(0, flood(1)).Within(token);
        Task<int[]> fromOne = runtime.SubmitTo(1, flood(0)).Within(token);
        int[][] both = await Task.WhenAll(fromZero, fromOne);

        Assert.That(both[0], Is.EqualTo(Enumerable.Range(0, 10_000).Select(i => i * 2 + 1)));
        Assert.That(both[1], Is.EqualTo(Enumerable.Range(0, 10_000).Select(i => i * 2)));
    }

    [Test, CancelAfter(30000)]
    public async Task A_full_queue_delays_async_calls_but_loses_none(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, CrossShardQueueCapacity = 2 });
        MinissRuntime runtime = scope.Runtime;
        int[] results = await runtime.SubmitTo(1, async () =>
        {
            var pending = new ValueTask<int>[2_000];
            for (int i = 0; i < pending.Length; i++)
            {
                int sent = i;
#pragma warning disable CA2012 // Each ValueTask is stored once and awaited once below, after all are started.
                pending[i] = runtime.SubmitTo(0, async () =>
                {
                    await Shard.Current!.NopAsync();
                    return sent;
                });
#pragma warning restore CA2012
            }

            var received = new int[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                received[i] = await pending[i];
            }

            return received;
        }).Within(token);

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 2_000)));
    }

    [Test, CancelAfter(30000)]
    public async Task Many_outside_threads_calling_at_once_lose_no_call(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        int[][] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(caller => Task.Run(async () =>
        {
            var received = new int[500];
            for (int i = 0; i < received.Length; i++)
            {
                int sent = caller * 10_000 + i;
                received[i] = await runtime.SubmitTo(i % 2, () => sent);
            }

            return received;
        }, token))).WaitAsync(token);

        for (int caller = 0; caller < 4; caller++)
        {
            Assert.That(results[caller], Is.EqualTo(Enumerable.Range(caller * 10_000, 500)));
        }
    }
}
