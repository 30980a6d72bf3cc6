using Miniss.IO;
using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>The loop's counters, and the shard's TaskScheduler and SynchronizationContext used from outside.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class LoopTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(10000)]
    public async Task The_tick_count_grows_while_the_shard_works(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        ShardStatistics before = runtime[1].Statistics;

        await runtime.SubmitTo(1, async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                await Shard.Current!.NopAsync();
            }
        }).Within(token);
        // The last task's counters are written after it completed the call: one more round trip settles them.
        await runtime.SubmitTo(1, static () => 0).Within(token);

        ShardStatistics after = runtime[1].Statistics;
        Assert.That(after.ShardId, Is.EqualTo(1));
        Assert.That(after.Ticks, Is.GreaterThanOrEqualTo(before.Ticks + 50));
        Assert.That(after.IoCompletions, Is.GreaterThanOrEqualTo(before.IoCompletions + 50));
        Assert.That(after.TasksRun, Is.GreaterThanOrEqualTo(before.TasksRun + 50));
    }

    [Test, CancelAfter(10000)]
    public async Task Messages_are_counted_on_both_sides(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        ShardStatistics zero = runtime[0].Statistics;
        ShardStatistics one = runtime[1].Statistics;

        await runtime.SubmitTo(0, async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                await runtime.SubmitTo(1, static () => 0);
            }
        }).Within(token);

        // 20 requests from 0 to 1, 20 replies from 1 to 0.
        Assert.That(runtime[0].Statistics.MessagesSent - zero.MessagesSent, Is.EqualTo(20));
        Assert.That(runtime[0].Statistics.MessagesReceived - zero.MessagesReceived, Is.EqualTo(20));
        Assert.That(runtime[1].Statistics.MessagesSent - one.MessagesSent, Is.EqualTo(20));
        Assert.That(runtime[1].Statistics.MessagesReceived - one.MessagesReceived, Is.EqualTo(20));
    }

    [Test, CancelAfter(10000)]
    public async Task A_task_started_on_the_shard_scheduler_runs_on_that_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[1];

        (int Shard, string? Thread, bool OnPool) ran = await Task.Factory.StartNew(
            () => (Shard.Current!.Id, Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread),
            token,
            TaskCreationOptions.None,
            shard.TaskScheduler).WaitAsync(token);

        Assert.That(ran, Is.EqualTo((1, "miniss-shard-1", false)));
    }

    [Test, CancelAfter(10000)]
    public async Task Async_work_started_on_the_shard_scheduler_stays_on_that_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[0];

        int[] places = await Task.Factory.StartNew(
            async () =>
            {
                int first = Shard.Current!.Id;
                // A task started from inside with the current scheduler (StartNew's default) runs on the shard too.
                Task<int> inner = Task.Factory.StartNew(() => Shard.Current?.Id ?? -1, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Current);
                await Task.Yield();
                int second = Shard.Current!.Id;
                return new[] { first, second, await inner };
            },
            token,
            TaskCreationOptions.None,
            shard.TaskScheduler).Unwrap().WaitAsync(token);

        Assert.That(places, Is.EqualTo(new[] { 0, 0, 0 }));
    }

    [Test, CancelAfter(10000)]
    public async Task Send_from_outside_runs_on_the_shard_and_returns_after(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[1];
        int ranOn = -1;

        await Task.Run(() => shard.SynchronizationContext.Send(_ =>
        {
            Thread.Sleep(10);
            ranOn = Shard.Current!.Id;
        }, null), token).WaitAsync(token);

        Assert.That(ranOn, Is.EqualTo(1));
    }

    [Test, CancelAfter(10000)]
    public async Task Send_rethrows_the_exception_of_its_callback(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[0];

        Task sending = Task.Run(() => shard.SynchronizationContext.Send(_ => throw new InvalidOperationException("sent"), null), token);

        var error = Assert.ThrowsAsync<InvalidOperationException>(() => sending.WaitAsync(token));
        Assert.That(error!.Message, Is.EqualTo("sent"));
    }

    [Test, CancelAfter(10000)]
    public async Task Send_on_the_shard_itself_runs_inline(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int Before, int Inside) ids = await runtime.SubmitTo(0, () =>
        {
            int inside = -1;
            Shard.Current!.SynchronizationContext.Send(_ => inside = Environment.CurrentManagedThreadId, null);
            return (Environment.CurrentManagedThreadId, inside);
        }).Within(token);

        Assert.That(ids.Inside, Is.EqualTo(ids.Before));
    }

    [Test, CancelAfter(10000)]
    public async Task Posts_from_outside_run_in_order(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[1];
        var order = new System.Collections.Generic.List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        for (int i = 0; i < 1000; i++)
        {
            shard.SynchronizationContext.Post(state => order.Add((int)state!), i);
        }

        shard.SynchronizationContext.Post(_ => done.SetResult(), null);
        await done.Task.WaitAsync(token);

        Assert.That(order, Is.EqualTo(System.Linq.Enumerable.Range(0, 1000)));
    }
}
