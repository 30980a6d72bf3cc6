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
    [Test, CancelAfter(10000)]
    public async Task A_delay_completes_no_earlier_than_asked(CancellationToken token)
    {
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
        Shard shard = scope.Runtime[0];
        (Exception? Error, double Elapsed, long Fired) result = await scope.Runtime.SubmitTo(0, async () =>
        {
            using var cancel = new CancellationTokenSource();
            long firedBefore = Shard.Current!.Statistics.TimersFired;
            long started = Stopwatch.GetTimestamp();
            ValueTask delay = Shard.Current.Delay(TimeSpan.FromMilliseconds(100), cancel.Token);
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
        Assert.That(result.Elapsed, Is.LessThan(90), "the cancelled delay waited for its deadline");
        Assert.That(result.Fired, Is.EqualTo(1), "only the 5 ms delay fired");

        // Past the cancelled deadline, the cancelled timer has still not fired.
        long fired = shard.Statistics.TimersFired;
        await Task.Delay(150, token);
        Assert.That(shard.Statistics.TimersFired, Is.EqualTo(fired));
    }

    [Test, CancelAfter(10000)]
    public async Task A_delay_cancelled_from_another_thread_throws_on_its_shard(CancellationToken token)
    {
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
        await using var scope = TestRuntime.Start();
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
}
