using Miniss.IO;
using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>Code running on a shard resumes on that shard after every kind of await, never on the thread pool.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class AffinityTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>Where code ran: the shard, the managed thread and whether that thread belongs to the pool.</summary>
    private readonly record struct Place(int Shard, int Thread, bool OnPool)
    {
        public static Place Here => new(Miniss.Shard.Current?.Id ?? -1, Environment.CurrentManagedThreadId, System.Threading.Thread.CurrentThread.IsThreadPoolThread);
    }

    /// <summary>Runs <paramref name="pause"/> on shard 0 and returns where the code was before and after it.</summary>
    private static async Task<(Place Before, Place After)> AroundAwait(Func<MinissRuntime, ValueTask> pause, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        return await runtime.SubmitTo(0, async () =>
        {
            Place before = Place.Here;
            await pause(runtime);
            Place after = Place.Here;
            return (before, after);
        }).Within(token);
    }

    private static void AssertSameShardThread((Place Before, Place After) places)
    {
        Assert.That(places.Before.Shard, Is.Zero);
        Assert.That(places.After, Is.EqualTo(places.Before));
        Assert.That(places.After.OnPool, Is.False);
    }

    [Test, CancelAfter(10000)]
    public async Task An_await_of_a_nop_resumes_on_the_same_shard_thread(CancellationToken token) =>
        AssertSameShardThread(await AroundAwait(async _ => await Shard.Current!.NopAsync(), token));

    [Test, CancelAfter(10000)]
    public async Task An_await_of_a_delay_resumes_on_the_same_shard_thread(CancellationToken token) =>
        AssertSameShardThread(await AroundAwait(_ => Shard.Current!.Delay(TimeSpan.FromMilliseconds(2)), token));

    [Test, CancelAfter(10000)]
    public async Task An_await_of_Task_Yield_resumes_on_the_same_shard_thread(CancellationToken token) =>
        AssertSameShardThread(await AroundAwait(async _ => await Task.Yield(), token));

    [Test, CancelAfter(10000)]
    public async Task An_await_of_a_task_completed_on_the_thread_pool_resumes_on_the_same_shard_thread(CancellationToken token)
    {
        AssertSameShardThread(await AroundAwait(async runtime =>
        {
            var source = new TaskCompletionSource<int>();
            _ = Task.Run(async () =>
            {
                await Task.Delay(5, CancellationToken.None);
                source.SetResult(1);
            }, CancellationToken.None);
            await source.Task;
        }, token));
    }

    [Test, CancelAfter(10000)]
    public async Task An_await_of_Task_Delay_resumes_on_the_same_shard_thread(CancellationToken token) =>
        AssertSameShardThread(await AroundAwait(async _ => await Task.Delay(5, CancellationToken.None), token));

    [Test, CancelAfter(10000)]
    public async Task An_await_of_a_call_to_another_shard_resumes_on_the_same_shard_thread(CancellationToken token)
    {
        int remote = -1;
        AssertSameShardThread(await AroundAwait(async runtime => remote = await runtime.SubmitTo(1, () => Shard.Current!.Id), token));
        Assert.That(remote, Is.EqualTo(1));
    }

    [Test, CancelAfter(10000)]
    public async Task An_await_of_an_async_call_to_another_shard_resumes_on_the_same_shard_thread(CancellationToken token)
    {
        AssertSameShardThread(await AroundAwait(runtime => runtime.SubmitTo(1, async () =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
        }), token));
    }

    [Test, CancelAfter(10000)]
    public async Task Remote_async_work_resumes_on_its_own_shard_after_each_await(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        Place[] places = await runtime.SubmitTo(0, () => runtime.SubmitTo(1, async () =>
        {
            var seen = new Place[5];
            seen[0] = Place.Here;
            await Shard.Current!.NopAsync();
            seen[1] = Place.Here;
            await Task.Yield();
            seen[2] = Place.Here;
            await Task.Run(() => { }, CancellationToken.None);
            seen[3] = Place.Here;
            await runtime.SubmitTo(0, () => 0);
            seen[4] = Place.Here;
            return seen;
        })).Within(token);

        Assert.That(places[0].Shard, Is.EqualTo(1));
        Assert.That(places, Is.All.EqualTo(places[0]));
        Assert.That(places[0].OnPool, Is.False);
    }

    [Test, CancelAfter(10000)]
    public async Task A_chain_of_mixed_awaits_never_leaves_the_shard_thread(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        int leaks = await runtime.SubmitTo(1, async () =>
        {
            Place home = Place.Here;
            int leaked = 0;
            for (int i = 0; i < 20; i++)
            {
                switch (i % 5)
                {
                    case 0:
                        await Shard.Current!.NopAsync();
                        break;
                    case 1:
                        await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                        break;
                    case 2:
                        await Task.Yield();
                        break;
                    case 3:
                        await Task.Run(() => Thread.Sleep(1), CancellationToken.None);
                        break;
                    default:
                        await runtime.SubmitTo(0, () => i);
                        break;
                }

                leaked += Place.Here == home ? 0 : 1;
            }

            return leaked;
        }).Within(token);

        Assert.That(leaks, Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public async Task Shard_code_sees_the_shard_synchronization_context_and_no_other(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        bool same = await runtime.SubmitTo(1, async () =>
        {
            await Task.Yield();
            return SynchronizationContext.Current == Shard.Current!.SynchronizationContext
                && Shard.Current.SynchronizationContext.Shard == runtime[1];
        }).Within(token);

        Assert.That(same, Is.True);
    }

    // Guards Shard.ArmTimer's thread check: a periodic timer waited on off its shard throws InvalidOperationException
    // (before, it armed a timer in the shard's heap from the wrong thread and its await's OnCompleted threw on the
    // thread pool, which ends the process).
    [Test, CancelAfter(10000)]
    public async Task Waiting_on_a_periodic_timer_off_its_shard_throws_and_the_runtime_keeps_working(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        // A long period: the first wait is never already due, so it has to arm a timer.
        ShardPeriodicTimer timer = await runtime.SubmitTo(0, () => new ShardPeriodicTimer(TimeSpan.FromHours(1))).Within(token);

        InvalidOperationException? error = Assert.ThrowsAsync<InvalidOperationException>(async () => await timer.WaitForNextTickAsync());

        Assert.That(error!.Message, Does.Contain("shard 0"));
        await runtime.SubmitTo(0, timer.Dispose).Within(token);
        Assert.That(await runtime.SubmitTo(0, () => Shard.Current!.Id + 40).Within(token), Is.EqualTo(40));
    }

    /// <summary>Carries a shard-owned ValueTask out of the shard unawaited.</summary>
    private sealed class Holder(ValueTask<int> operation)
    {
        public ValueTask<int> Operation { get; } = operation;
    }

    // Guards LocalPromiseCore.OnCompleted: an I/O await from another thread completes with InvalidOperationException
    // naming the shard (before, OnCompleted threw inside the awaiting thread's async machinery: the process ended).
    [Test, CancelAfter(10000)]
    public async Task Awaiting_a_shards_io_on_another_thread_throws_naming_the_shard_and_the_process_survives(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, StallThreshold = TimeSpan.Zero });
        MinissRuntime runtime = scope.Runtime;
        var handedOver = new TaskCompletionSource<Holder>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        Task<bool> blocking = runtime.SubmitTo(0, () =>
        {
            // The NOP is submitted when this tick ends, so it stays pending while this work holds the shard.
            handedOver.SetResult(new Holder(Shard.Current!.NopAsync()));
            return release.Wait(Bound);
        }).Within(token);
        Holder holder = await handedOver.Task.WaitAsync(token);

        Assert.That(Shard.Current, Is.Null, "the await must run off the shards");
        Exception? error = null;
        try
        {
            await holder.Operation;
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            release.Set();
        }

        Assert.That(error, Is.TypeOf<InvalidOperationException>().With.Message.Contains("shard 0"));
        Assert.That(await blocking.WaitAsync(token), Is.True, "the shard was not released in time");
        Assert.That(await runtime.SubmitTo(0, () => Shard.Current!.Id + 7).Within(token), Is.EqualTo(7));
        Assert.That(await runtime.SubmitTo(0, async () => await Shard.Current!.NopAsync()).Within(token), Is.Zero);
    }

    // Guards LocalPromiseCore.GetResult: an operation that already completed, read on another thread, is reported
    // (before, the foreign thread got the result and pushed the promise back into the shard's unsynchronised pool).
    [Test, CancelAfter(10000)]
    public async Task Reading_a_completed_shard_operation_on_another_thread_throws_naming_the_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, StallThreshold = TimeSpan.Zero });
        MinissRuntime runtime = scope.Runtime;
        Holder holder = await runtime.SubmitTo(0, async () =>
        {
            var pending = new Holder(Shard.Current!.NopAsync());
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(20));
            return pending;
        }).Within(token);

        Assert.That(holder.Operation.IsCompleted, Is.True, "the NOP completes while the shard waits 20 ms");
        InvalidOperationException? error = Assert.ThrowsAsync<InvalidOperationException>(async () => await holder.Operation);
        Assert.That(error!.Message, Does.Contain("shard 0"));
        Assert.That(await runtime.SubmitTo(0, async () => await Shard.Current!.NopAsync()).Within(token), Is.Zero);
    }

    // Guards ShardPeriodicTimer.WaitForNextTickAsync: the thread check comes before the shortcut for a tick that is
    // already due (before, a wait off the shard with a due tick returned true and moved the timer's deadline).
    [Test, CancelAfter(10000)]
    public async Task Waiting_on_a_periodic_timer_with_a_due_tick_off_its_shard_throws(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        ShardPeriodicTimer timer = await scope.Runtime.SubmitTo(0, () => new ShardPeriodicTimer(TimeSpan.FromMilliseconds(1))).Within(token);
        Thread.Sleep(5);

        Assert.ThrowsAsync<InvalidOperationException>(async () => await timer.WaitForNextTickAsync(token));
        await scope.Runtime.SubmitTo(0, timer.Dispose).AsTask().WaitAsync(token);
    }
}
