using System;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>
/// Whatever an idle shard does before it sleeps (<see cref="RuntimeOptions.IdleStrategy"/>), it never sleeps past work:
/// a message from another shard or thread, or a timer that falls due, is handled. Waits are bounded far beyond what a
/// correct run needs; nothing here times the wake-ups.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IdlePolicyTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static RuntimeOptions Options(IdleStrategy strategy) => new() { ShardCount = 2, IdleStrategy = strategy };

    [Test, CancelAfter(60_000)]
    public async Task An_idle_shard_answers_every_message_from_another_shard(
        [Values(IdleStrategy.Adaptive, IdleStrategy.Spin, IdleStrategy.Block)] IdleStrategy strategy, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(Options(strategy));
        MinissRuntime runtime = scope.Runtime;
        Shard target = runtime[1];

        int answered = await runtime.SubmitTo(0, async () =>
        {
            int sum = 0;
            for (int i = 0; i < 200; i++)
            {
                // Pauses of varied length let the target's spins both find and miss work, so its budget moves.
                if (i % 4 == 0)
                {
                    await Shard.Current!.Delay(TimeSpan.FromMilliseconds(i % 8 == 0 ? 1 : 3));
                }

                sum += await runtime.SubmitTo(1, static () => 1);
            }

            return sum;
        }).Within(token);

        Assert.That(answered, Is.EqualTo(200));
        Assert.That(target.Statistics.Sleeps, Is.GreaterThan(0), "the target never slept: the test did not exercise the wake-up");
    }

    [Test, CancelAfter(60_000)]
    public async Task An_idle_shard_answers_every_message_from_an_outside_thread(
        [Values(IdleStrategy.Adaptive, IdleStrategy.Spin, IdleStrategy.Block)] IdleStrategy strategy, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(Options(strategy));
        MinissRuntime runtime = scope.Runtime;

        for (int i = 0; i < 100; i++)
        {
            if (i % 10 == 0)
            {
                await Task.Delay(2, token);
            }

            Assert.That(await runtime.SubmitTo(1, static () => Shard.Current!.Id).Within(token), Is.EqualTo(1));
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task An_idle_shard_fires_every_timer(
        [Values(IdleStrategy.Adaptive, IdleStrategy.Spin, IdleStrategy.Block)] IdleStrategy strategy, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(Options(strategy));

        // Each delay leaves the shard with nothing to do but its timer: it must wake for it, whatever its budget.
        int fired = await scope.Runtime.SubmitTo(1, static async () =>
        {
            int count = 0;
            for (int i = 0; i < 50; i++)
            {
                await Shard.Current!.Delay(TimeSpan.FromMicroseconds(i % 2 == 0 ? 50 : 2_000));
                count++;
            }

            return count;
        }).Within(token);

        Assert.That(fired, Is.EqualTo(50));
    }

    [Test, CancelAfter(60_000)]
    public async Task An_adaptive_shard_with_no_work_comes_to_sleep_at_once(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(Options(IdleStrategy.Adaptive));
        Shard shard = scope.Runtime[1];

        // Wake the shard over and over with nothing to find after each message: its spins keep missing, so the budget
        // falls to zero and the shard sleeps as soon as it is idle.
        for (int i = 0; i < 200; i++)
        {
            await scope.Runtime.SubmitTo(1, static () => 0).Within(token);
            await Task.Delay(1, token);
        }

        long budget = await scope.Runtime.SubmitTo(1, static () => Shard.Current!.SpinBudgetTicks).Within(token);
        Assert.That(budget, Is.Zero);
    }
}

/// <summary>The adaptive spin budget of <see cref="IdleStrategy.Adaptive"/>, step by step.</summary>
[TestFixture]
public sealed class SpinBudgetTests
{
    [Test]
    public void The_budget_starts_at_the_ceiling()
    {
        var budget = new SpinBudget(1600);

        Assert.That(budget.Current, Is.EqualTo(1600));
    }

    [Test]
    public void Spins_that_find_nothing_halve_the_budget_down_to_zero()
    {
        var budget = new SpinBudget(1600);

        budget.FoundNothing();
        Assert.That(budget.Current, Is.EqualTo(800));
        for (int i = 0; i < 4; i++)
        {
            budget.FoundNothing();
        }

        Assert.That(budget.Current, Is.Zero, "below a sixteenth of the ceiling the budget is zero");
    }

    [Test]
    public void Spins_that_find_work_double_the_budget_up_to_the_ceiling()
    {
        var budget = new SpinBudget(1600);
        budget.FoundNothing();
        budget.FoundNothing();

        budget.FoundWork();
        Assert.That(budget.Current, Is.EqualTo(800));
        budget.FoundWork();
        budget.FoundWork();
        Assert.That(budget.Current, Is.EqualTo(1600));
    }

    [Test]
    public void A_short_sleep_restores_the_whole_budget_and_a_long_one_does_not()
    {
        var budget = new SpinBudget(1600);
        for (int i = 0; i < 5; i++)
        {
            budget.FoundNothing();
        }

        Assert.That(budget.Current, Is.Zero);

        budget.Slept(1_000_000);
        Assert.That(budget.Current, Is.Zero, "a long sleep is no sign that spinning would have helped");

        // Within four ceilings: a wake-up that itself took longer than the ceiling still counts as short.
        budget.Slept(6000);
        Assert.That(budget.Current, Is.EqualTo(1600));
    }

    [Test]
    public void A_core_found_shared_stops_spinning_for_longer_each_time()
    {
        var budget = new SpinBudget(1600);

        budget.CoreIsShared();
        Assert.That(SleepsBeforeSpinningAgain(ref budget), Is.EqualTo(9), "8 idle periods paused, then the whole budget");
        budget.CoreIsShared();
        Assert.That(SleepsBeforeSpinningAgain(ref budget), Is.EqualTo(17));

        budget.FoundWork();
        budget.CoreIsShared();
        Assert.That(SleepsBeforeSpinningAgain(ref budget), Is.EqualTo(9), "a spin that found work starts the pauses over");

        static int SleepsBeforeSpinningAgain(ref SpinBudget budget)
        {
            int sleeps = 0;
            while (budget.Current == 0 && sleeps < 10_000)
            {
                budget.Slept(0);
                sleeps++;
            }

            return sleeps;
        }
    }

    [Test]
    public void A_zero_ceiling_never_spins()
    {
        var budget = new SpinBudget(0);
        budget.FoundWork();
        budget.Slept(0);

        Assert.That(budget.Current, Is.Zero);
    }
}
