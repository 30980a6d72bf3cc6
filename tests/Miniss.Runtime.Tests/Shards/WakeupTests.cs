using Miniss.IO;
using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>
/// An idle shard sleeps in the kernel and is woken at once by work for it. The bound on each round trip is generous
/// (it fails only if a wake-up waited for some polling timeout, or never came).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class WakeupTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(200);

    private static RuntimeOptions SleepAtOnce => new() { ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero };

    /// <summary>Waits until <paramref name="shard"/> has slept and has not ticked for a while: it sleeps in the kernel.</summary>
    private static async Task WaitUntilAsleep(Shard shard, CancellationToken token)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            ShardStatistics before = shard.Statistics;
            await Task.Delay(10, token);
            ShardStatistics after = shard.Statistics;
            if (after.Sleeps > 0 && after.Sleeps == before.Sleeps && after.Ticks == before.Ticks)
            {
                return;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"shard {shard.Id} does not fall asleep");
        }
    }

    [Test, CancelAfter(10000)]
    public async Task An_idle_shard_sleeps(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce);
        Shard shard = scope.Runtime[1];

        await Bounded.Eventually(() => shard.Statistics.Sleeps > 0, "the idle shard sleeps", token);

        long ticks = shard.Statistics.Ticks;
        await Task.Delay(50, token);
        Assert.That(shard.Statistics.Ticks - ticks, Is.LessThan(20), "an idle shard with nothing to do kept looping");
    }

    [Test, CancelAfter(20000)]
    public async Task A_sleeping_shard_is_woken_promptly_by_another_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce);
        MinissRuntime runtime = scope.Runtime;
        Shard target = runtime[1];
        long wakeupsBefore = target.Statistics.Wakeups;

        double[] roundTrips = await runtime.SubmitTo(0, async () =>
        {
            var times = new double[100];
            long sleeps = 0;
            for (int i = 0; i < times.Length; i++)
            {
                // Let the target fall asleep again (shard 0 sleeps too, on its timer) before each ping: a sleep counted
                // since the last ping was sent.
                while (target.Statistics.Sleeps == sleeps)
                {
                    await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                }

                sleeps = target.Statistics.Sleeps;
                long started = Stopwatch.GetTimestamp();
                await runtime.SubmitTo(1, static () => 0);
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return times;
        }).Within(token);

        Assert.That(roundTrips, Is.All.LessThan(Prompt.TotalMilliseconds));
        Assert.That(target.Statistics.Wakeups - wakeupsBefore, Is.GreaterThanOrEqualTo(50), "pings to a sleeping shard should mostly need a wake-up");
    }

    [Test, CancelAfter(20000)]
    public async Task A_sleeping_shard_is_woken_promptly_by_an_outside_thread(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce);
        MinissRuntime runtime = scope.Runtime;
        Shard target = runtime[1];
        long wakeupsBefore = target.Statistics.Wakeups;
        var roundTrips = new double[100];

        long sleeps = 0;
        for (int i = 0; i < roundTrips.Length; i++)
        {
            // A sleep counted since the last ping was sent: the target has gone back to sleep.
            await Bounded.Eventually(() => target.Statistics.Sleeps != sleeps, "the target shard sleeps again", token);
            sleeps = target.Statistics.Sleeps;
            long started = Stopwatch.GetTimestamp();
            await runtime.SubmitTo(1, static () => 0).Within(token);
            roundTrips[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Assert.That(roundTrips, Is.All.LessThan(Prompt.TotalMilliseconds));
        Assert.That(target.Statistics.Wakeups - wakeupsBefore, Is.GreaterThanOrEqualTo(50));
    }

    [Test, CancelAfter(20000)]
    public async Task A_post_to_a_sleeping_shard_context_wakes_it(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce);
        Shard target = scope.Runtime[0];
        await WaitUntilAsleep(target, token);
        long wakeups = target.Statistics.Wakeups;
        var ran = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        long started = Stopwatch.GetTimestamp();

        target.SynchronizationContext.Post(_ => ran.SetResult(Shard.Current!.Id), null);

        Assert.That(await ran.Task.WaitAsync(token), Is.Zero);
        Assert.That(Stopwatch.GetElapsedTime(started), Is.LessThan(Prompt));
        Assert.That(target.Statistics.Wakeups, Is.GreaterThan(wakeups));
    }

    [Test, CancelAfter(20000)]
    public async Task A_shard_sleeping_with_a_far_timer_is_woken_by_a_message(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce);
        MinissRuntime runtime = scope.Runtime;
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask farTimer = runtime.SubmitTo(1, async () =>
        {
            ValueTask delay = Shard.Current!.Delay(TimeSpan.FromSeconds(30));
            armed.SetResult();
            try
            {
                await delay;
            }
            catch (OperationCanceledException)
            {
                // The runtime stops before the timer fires.
            }
        });
        Shard target = runtime[1];
        await armed.Task.WaitAsync(token);
        await WaitUntilAsleep(target, token);
        long wakeups = target.Statistics.Wakeups;

        long started = Stopwatch.GetTimestamp();
        int answer = await runtime.SubmitTo(1, static () => 42).Within(token);

        Assert.That(answer, Is.EqualTo(42));
        Assert.That(Stopwatch.GetElapsedTime(started), Is.LessThan(Prompt));
        Assert.That(target.Statistics.Wakeups, Is.GreaterThan(wakeups));
        await scope.DisposeAsync();
        await farTimer.Within(token);
    }
}
