using Miniss.IO;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class TimerTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Test, CancelAfter(10000)]
    public async Task A_delay_completes_no_earlier_than_asked(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        double[] elapsed = await scope.Runtime.SubmitTo(0, async () =>
        {
            var times = new double[5];
            for (int i = 0; i < times.Length; i++)
            {
                long started = Stopwatch.GetTimestamp();
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(10 * (i + 1)));
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return times;
        }).Within(token);

        for (int i = 0; i < elapsed.Length; i++)
        {
            Assert.That(elapsed[i], Is.GreaterThanOrEqualTo(10 * (i + 1)));
            Assert.That(elapsed[i], Is.LessThan(10 * (i + 1) + 500), "a delay fired far too late");
        }
    }

    [Test, CancelAfter(10000)]
    public async Task A_zero_or_negative_delay_completes(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        int done = await scope.Runtime.SubmitTo(0, async () =>
        {
            await Shard.Current!.Delay(TimeSpan.Zero);
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(-5));
            return 2;
        }).Within(token);

        Assert.That(done, Is.EqualTo(2));
    }

    [Test, CancelAfter(10000)]
    public async Task Timers_armed_in_any_order_fire_in_deadline_order(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        int[] order = await scope.Runtime.SubmitTo(1, async () =>
        {
            // Deadlines 3 ms apart from one common start, armed shuffled. Each delay is computed right before Delay is
            // called, from the common clock, after a warm-up await: neither arming speed nor first-call JIT can
            // reorder the deadlines.
            var fired = new List<int>();
            await Shard.Current!.Delay(TimeSpan.Zero);
            await WaitThenRecord(0, null);
            int[] delays = Enumerable.Range(1, 40).Select(i => i * 3).OrderBy(d => (d * 7919) % 41).ToArray();
            var waits = new Task[delays.Length];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < delays.Length; i++)
            {
                waits[i] = WaitThenRecord(delays[i], clock);
            }

            await Task.WhenAll(waits);
            return fired.ToArray();

            async Task WaitThenRecord(int milliseconds, System.Diagnostics.Stopwatch? start)
            {
                await Shard.Current!.Delay(start is null ? TimeSpan.Zero : TimeSpan.FromMilliseconds(milliseconds) - start.Elapsed);
                if (start is not null)
                {
                    fired.Add(milliseconds);
                }
            }
        }).Within(token);

        Assert.That(order, Is.EqualTo(Enumerable.Range(1, 40).Select(i => i * 3)));
    }

    [Test, CancelAfter(10000)]
    public async Task A_cancelled_delay_throws_and_never_fires(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[0];
        (Exception? Error, double Elapsed, long Fired) result = await scope.Runtime.SubmitTo(0, async () =>
        {
            using var cancel = new CancellationTokenSource();
            long firedBefore = Shard.Current!.Statistics.TimersFired;
            long started = Stopwatch.GetTimestamp();
            // A deadline no loaded machine reaches first: the cancel, not the deadline, must end this delay.
            ValueTask delay = Shard.Current.Delay(TimeSpan.FromSeconds(60), cancel.Token);
            await Shard.Current.Delay(TimeSpan.FromMilliseconds(5));
            cancel.Cancel();
            Exception? error = null;
            try
            {
                await delay;
            }
            catch (Exception e)
            {
                error = e;
            }

            double elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return (error, elapsed, Shard.Current.Statistics.TimersFired - firedBefore);
        }).Within(token);

        Assert.That(result.Error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(result.Elapsed, Is.LessThan(30_000), "the cancelled delay waited for its deadline");
        Assert.That(result.Fired, Is.EqualTo(1), "only the 5 ms delay fired");

        // Past the cancelled deadline, the cancelled timer has still not fired.
        long fired = shard.Statistics.TimersFired;
        await Task.Delay(150, token);
        Assert.That(shard.Statistics.TimersFired, Is.EqualTo(fired));
    }

    [Test, CancelAfter(10000)]
    public async Task A_delay_cancelled_from_another_thread_throws_on_its_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        using var cancel = new CancellationTokenSource();
        Task<(string Outcome, int Shard, bool OnPool)> waiting = scope.Runtime.SubmitTo(1, async () =>
        {
            try
            {
                await Shard.Current!.Delay(TimeSpan.FromSeconds(30), cancel.Token);
                return ("fired", Shard.Current!.Id, Thread.CurrentThread.IsThreadPoolThread);
            }
            catch (OperationCanceledException e) when (e.CancellationToken == cancel.Token)
            {
                return ("cancelled", Shard.Current!.Id, Thread.CurrentThread.IsThreadPoolThread);
            }
        }).Within(token);
        await Task.Delay(10, token);

        await cancel.CancelAsync();

        Assert.That(await waiting, Is.EqualTo(("cancelled", 1, false)));
    }

    [Test, CancelAfter(10000)]
    public async Task A_delay_with_an_already_cancelled_token_is_cancelled_at_once(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        (bool IsCanceled, bool Threw) result = await scope.Runtime.SubmitTo(0, async () =>
        {
            ValueTask delay = Shard.Current!.Delay(TimeSpan.FromSeconds(30), new CancellationToken(canceled: true));
            bool isCanceled = delay.IsCanceled;
            try
            {
                await delay;
                return (isCanceled, false);
            }
            catch (OperationCanceledException)
            {
                return (isCanceled, true);
            }
        }).Within(token);

        Assert.That(result, Is.EqualTo((true, true)));
    }

    [Test, CancelAfter(10000)]
    public async Task A_pooled_delay_reused_after_a_cancellation_keeps_its_own_deadline(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        double elapsed = await scope.Runtime.SubmitTo(0, async () =>
        {
            Shard shard = Shard.Current!;
            using (var cancel = new CancellationTokenSource())
            {
                ValueTask cancelled = shard.Delay(TimeSpan.FromMilliseconds(20), cancel.Token);
                cancel.Cancel();
                try
                {
                    await cancelled;
                }
                catch (OperationCanceledException)
                {
                }
            }

            // The same pooled promise now serves a longer delay; the stale 20 ms entry must not complete it.
            long started = Stopwatch.GetTimestamp();
            await shard.Delay(TimeSpan.FromMilliseconds(80));
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }).Within(token);

        Assert.That(elapsed, Is.GreaterThanOrEqualTo(80));
    }

    [Test, CancelAfter(20000)]
    public async Task Ten_thousand_timers_on_one_shard_all_fire(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        Shard shard = scope.Runtime[1];
        long firedBefore = shard.Statistics.TimersFired;
        int fired = await scope.Runtime.SubmitTo(1, async () =>
        {
            int count = 0;
            var waits = new Task[10_000];
            for (int i = 0; i < waits.Length; i++)
            {
                waits[i] = Wait(TimeSpan.FromMicroseconds(50 * (i % 1000)));
            }

            await Task.WhenAll(waits);
            return count;

            async Task Wait(TimeSpan delay)
            {
                await Shard.Current!.Delay(delay);
                count++;
            }
        }).Within(token);

        Assert.That(fired, Is.EqualTo(10_000));
        Assert.That(shard.Statistics.TimersFired - firedBefore, Is.EqualTo(10_000));
    }

    [Test, CancelAfter(10000)]
    public async Task Delay_must_be_called_on_its_shard(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Assert.ThrowsAsync<InvalidOperationException>(async () => await runtime[0].Delay(TimeSpan.FromMilliseconds(1)));
        bool refused = await runtime.SubmitTo(1, async () =>
        {
            try
            {
                await runtime[0].Delay(TimeSpan.FromMilliseconds(1));
                return false;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }).Within(token);
        Assert.That(refused, Is.True);
    }

    [Test, CancelAfter(10000)]
    public async Task A_periodic_timer_ticks_at_its_period(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        double[] ticks = await scope.Runtime.SubmitTo(0, async () =>
        {
            using var timer = new ShardPeriodicTimer(TimeSpan.FromMilliseconds(20));
            long started = Stopwatch.GetTimestamp();
            var at = new double[5];
            for (int i = 0; i < at.Length; i++)
            {
                if (!await timer.WaitForNextTickAsync())
                {
                    throw new InvalidOperationException("the timer stopped ticking");
                }

                at[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return at;
        }).Within(token);

        for (int i = 0; i < ticks.Length; i++)
        {
            // Tick n is due at n periods after the start (no drift); a generous margin above for a busy machine.
            Assert.That(ticks[i], Is.GreaterThanOrEqualTo(20 * (i + 1) - 1));
            Assert.That(ticks[i], Is.LessThan(20 * (i + 1) + 200));
        }
    }

    [Test, CancelAfter(10000)]
    public async Task A_disposed_periodic_timer_returns_false(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        bool next = await scope.Runtime.SubmitTo(0, async () =>
        {
            var timer = new ShardPeriodicTimer(TimeSpan.FromMilliseconds(5));
            await timer.WaitForNextTickAsync();
            timer.Dispose();
            return await timer.WaitForNextTickAsync();
        }).Within(token);

        Assert.That(next, Is.False);
    }

    [Test, CancelAfter(10000)]
    public async Task Disposing_a_periodic_timer_ends_a_pending_wait_with_false(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        (bool Result, double Elapsed) outcome = await scope.Runtime.SubmitTo(0, async () =>
        {
            var timer = new ShardPeriodicTimer(TimeSpan.FromSeconds(30));
            long started = Stopwatch.GetTimestamp();
            ValueTask<bool> pending = timer.WaitForNextTickAsync();
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(5));
            timer.Dispose();
            bool result = await pending;
            return (result, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }).Within(token);

        Assert.That(outcome.Result, Is.False);
        Assert.That(outcome.Elapsed, Is.LessThan(5_000));
    }

    [Test, CancelAfter(10000)]
    public async Task A_periodic_timer_wait_can_be_cancelled_by_its_token(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        bool cancelled = await scope.Runtime.SubmitTo(0, async () =>
        {
            using var timer = new ShardPeriodicTimer(TimeSpan.FromSeconds(30));
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
            try
            {
                await timer.WaitForNextTickAsync(cancel.Token);
                return false;
            }
            catch (OperationCanceledException)
            {
                return true;
            }
        }).Within(token);

        Assert.That(cancelled, Is.True);
    }

    [Test]
    public void A_periodic_timer_must_be_created_on_a_shard() =>
        Assert.Throws<InvalidOperationException>(() => new ShardPeriodicTimer(TimeSpan.FromMilliseconds(1)).Dispose());

    // Guards DelayPromise.ArmId / Shard.Timers.cs: a cancelled delay's heap entry stays behind; with the 16-bit token
    // version as its key, after 65,536 reuses of the pooled promise the stale entry matched a new delay and fired it
    // at the cancelled delay's (earlier) deadline.
    [Test, CancelAfter(10000)]
    public async Task A_stale_timer_entry_does_not_fire_a_delay_after_65536_reuses_of_its_promise(CancellationToken token)
    {
        const double StaleMilliseconds = 800;
        const double Margin = 300;
        await using var scope = RuntimeScope.Start();
        (double Elapsed, double Asked, double Reuses) result = await scope.Runtime.SubmitTo(0, async () =>
        {
            Shard shard = Shard.Current!;
            long started = Stopwatch.GetTimestamp();
            using (var cancel = new CancellationTokenSource())
            {
                // Its entry stays in the heap until StaleMilliseconds from now; the promise goes back to the pool.
                ValueTask cancelled = shard.Delay(TimeSpan.FromMilliseconds(StaleMilliseconds), cancel.Token);
                cancel.Cancel();
                try
                {
                    await cancelled;
                }
                catch (OperationCanceledException)
                {
                }
            }

            // The same pooled promise serves each of these: with the cancellation, 65,536 uses in all.
            for (int i = 0; i < 65_535; i++)
            {
                await shard.Delay(TimeSpan.Zero);
            }

            double reuses = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            // A delay that ends Margin after the stale entry's deadline: the stale entry must not end it early.
            double asked = Math.Max(0, StaleMilliseconds - reuses) + Margin;
            long armed = Stopwatch.GetTimestamp();
            await shard.Delay(TimeSpan.FromMilliseconds(asked));
            return (Stopwatch.GetElapsedTime(armed).TotalMilliseconds, asked, reuses);
        }).Within(token);

        TestContext.Out.WriteLine($"65,535 zero delays took {result.Reuses:F0} ms; asked {result.Asked:F0} ms, waited {result.Elapsed:F1} ms");
        Assert.That(result.Elapsed, Is.GreaterThanOrEqualTo(result.Asked - 1), "the delay fired early: a stale heap entry matched it");
    }

    // Guards ShardPeriodicTimer/ArmTimer: a wait that starts after the shard began stopping returns false (before, it
    // armed a timer the stop had already swept, which kept the shard from draining: StopAsync hung).
    [Test, CancelAfter(15000)]
    public async Task A_periodic_timer_wait_started_after_the_stop_reached_its_shard_returns_false(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool> outcome = runtime.SubmitTo(0, async () =>
        {
            // A long period: the first wait is never already due, so it has to arm a timer.
            using var timer = new ShardPeriodicTimer(TimeSpan.FromMinutes(1));
            ValueTask parked = Shard.Current!.Delay(TimeSpan.FromMinutes(1));
            ready.SetResult();
            try
            {
                await parked;
            }
            catch (OperationCanceledException)
            {
                // The stop reached this shard and cancelled its timers: the shard now refuses new work.
            }

            return await timer.WaitForNextTickAsync();
        }).Within(token);
        await ready.Task.WaitAsync(token);

        Task stopping = runtime.StopAsync().AsTask();

        Assert.That(await outcome.WaitAsync(Bound, token), Is.False);
        await stopping.WaitAsync(Bound, token);
    }

    // Guards ShardPeriodicTimer.WaitForNextTickAsync: a wait pending when the runtime stops ends with false (before,
    // the stop's OperationCanceledException escaped the loop; a wait started after the sweep could also hang the stop).
    [Test, CancelAfter(15000)]
    public async Task A_periodic_timer_loop_ends_when_the_runtime_stops_and_the_stop_completes(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var ticking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> loop = runtime.SubmitTo(0, async () =>
        {
            using var timer = new ShardPeriodicTimer(TimeSpan.FromMilliseconds(1));
            int ticks = 0;
            while (await timer.WaitForNextTickAsync())
            {
                if (++ticks == 5)
                {
                    ticking.SetResult();
                }
            }

            return ticks;
        }).Within(token);
        await ticking.Task.WaitAsync(token);

        Task stopping = runtime.StopAsync().AsTask();

        await stopping.WaitAsync(Bound, token);
        Assert.That(await loop.WaitAsync(Bound, token), Is.GreaterThanOrEqualTo(5), "the loop did not end with false");
    }

    // Guards ShardPeriodicTimer.WaitForNextTickAsync: the token source linking the caller's token to the timer's stop
    // is disposed after each wait (before, each one stayed registered on the caller's long-lived token: a leak).
    [Test, CancelAfter(15000)]
    public async Task Periodic_timer_waits_with_a_long_lived_token_do_not_leak(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        using var longLived = new CancellationTokenSource();

        async Task<int> Tick(int count)
        {
            return await runtime.SubmitTo(1, async () =>
            {
                // 20 µs: long enough for each wait to arm a timer (and so link the tokens), short enough to be quick.
                using var timer = new ShardPeriodicTimer(TimeSpan.FromMicroseconds(20));
                int ticks = 0;
                for (int i = 0; i < count; i++)
                {
                    ticks += await timer.WaitForNextTickAsync(longLived.Token) ? 1 : 0;
                }

                return ticks;
            }).Within(token);
        }

        await Tick(2_000);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        int ticked = await Tick(20_000);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(longLived);

        TestContext.Out.WriteLine($"reachable memory grew by {after - before} bytes over 20,000 waits");
        Assert.That(ticked, Is.EqualTo(20_000));
        Assert.That(after - before, Is.LessThan(1 << 20), "waits left memory reachable from the caller's token");
    }

    // Guards Clock.Deadline: a deadline past the clock's range saturates (before, now + duration overflowed into the
    // past and the delay completed at once).
    [Test, CancelAfter(10000)]
    public async Task A_delay_of_200000_days_is_still_pending_after_100_ms(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        (bool Pending, bool Cancelled) result = await scope.Runtime.SubmitTo(1, async () =>
        {
            Shard shard = Shard.Current!;
            using var cancel = new CancellationTokenSource();
            ValueTask far = shard.Delay(TimeSpan.FromDays(200_000), cancel.Token);
            await shard.Delay(TimeSpan.FromMilliseconds(100));
            bool pending = !far.IsCompleted;
            cancel.Cancel();
            try
            {
                await far;
                return (pending, false);
            }
            catch (OperationCanceledException)
            {
                return (pending, true);
            }
        }).Within(token);

        Assert.That(result.Pending, Is.True, "the delay completed early");
        Assert.That(result.Cancelled, Is.True, "the delay was not ended by its token");
    }
}
