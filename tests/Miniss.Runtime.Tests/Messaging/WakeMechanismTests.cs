using System;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Messaging;

/// <summary>
/// How a sleeping shard is woken: by another shard through <c>IORING_OP_MSG_RING</c> when
/// <see cref="RuntimeOptions.WakeShardsWithMessageRing"/> is on and the shards run io_uring, through its eventfd
/// otherwise and always from outside threads. Each test pings a shard only once it has fallen asleep again.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class WakeMechanismTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Pings = 50;

    private static RuntimeOptions SleepAtOnce(bool messageRing) =>
        new() { Backend = Backends.Current, ShardCount = 2, SpinBeforeSleep = TimeSpan.Zero, WakeShardsWithMessageRing = messageRing };

    /// <summary>From shard 0, <see cref="Pings"/> calls to shard 1, each sent once shard 1 has slept since the last.</summary>
    private static ValueTask<int> PingSleepingShard(MinissRuntime runtime) => runtime.SubmitTo(0, async () =>
    {
        Shard target = runtime[1];
        int answers = 0;
        long sleeps = 0;
        for (int i = 0; i < Pings; i++)
        {
            while (target.Statistics.Sleeps == sleeps)
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            }

            sleeps = target.Statistics.Sleeps;
            answers += await runtime.SubmitTo(1, static () => 1);
        }

        return answers;
    });

    [Test, CancelAfter(60000)]
    public async Task A_sleeping_shard_woken_by_another_shard_answers_with_message_ring_wake_ups_on(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce(messageRing: true));
        MinissRuntime runtime = scope.Runtime;
        long wakeups = runtime[1].Statistics.Wakeups;

        int answers = await PingSleepingShard(runtime).Within(token);

        Assert.That(answers, Is.EqualTo(Pings));
        Assert.That(runtime[1].Statistics.Wakeups - wakeups, Is.GreaterThan(0), "no ping needed a wake-up");
    }

    [Test, CancelAfter(60000)]
    public async Task Shards_on_io_uring_wake_each_other_through_MSG_RING_when_asked(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce(messageRing: true));
        MinissRuntime runtime = scope.Runtime;

        await PingSleepingShard(runtime).Within(token);

        // A readiness backend has no ring to message: its shards keep the eventfd.
        Assert.That(runtime[0].RingWakeupsSent, Backend == IoBackendKind.IoUring ? Is.GreaterThan(0) : Is.Zero);
    }

    [Test, CancelAfter(60000)]
    public async Task Shards_wake_each_other_through_the_eventfd_by_default(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce(messageRing: false));
        MinissRuntime runtime = scope.Runtime;
        long wakeups = runtime[1].Statistics.Wakeups;

        int answers = await PingSleepingShard(runtime).Within(token);

        Assert.That(answers, Is.EqualTo(Pings));
        Assert.That(runtime[1].Statistics.Wakeups - wakeups, Is.GreaterThan(0), "no ping needed a wake-up");
        Assert.That(runtime[0].RingWakeupsSent, Is.Zero);
    }

    [Test, CancelAfter(60000)]
    public async Task An_outside_thread_wakes_a_sleeping_shard_through_its_eventfd_with_message_ring_wake_ups_on(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(SleepAtOnce(messageRing: true));
        MinissRuntime runtime = scope.Runtime;
        Shard target = runtime[1];
        long wakeups = target.Statistics.Wakeups;

        long sleeps = 0;
        int answers = 0;
        for (int i = 0; i < Pings; i++)
        {
            await Bounded.Eventually(() => target.Statistics.Sleeps != sleeps, "the target shard sleeps again", token);
            sleeps = target.Statistics.Sleeps;
            answers += await runtime.SubmitTo(1, static () => 1).Within(token);
        }

        Assert.That(answers, Is.EqualTo(Pings));
        Assert.That(target.Statistics.Wakeups - wakeups, Is.GreaterThan(0), "no ping needed a wake-up");
        Assert.That(runtime[0].RingWakeupsSent + runtime[1].RingWakeupsSent, Is.Zero, "a thread that is not a shard has no ring to message from");
    }
}
