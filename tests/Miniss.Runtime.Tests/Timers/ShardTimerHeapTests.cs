using System;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Timers;

/// <summary>A shard's timers through <see cref="Shard.Delay"/>: cancelled ones do not pile up in its heap.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ShardTimerHeapTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(60000)]
    public async Task Cancelled_delays_behind_a_pending_one_do_not_grow_the_timer_heap(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        int entries = await scope.Runtime.SubmitTo(0, static async () =>
        {
            Shard shard = Shard.Current!;

            // A long delay at the top of the heap: the cancelled ones behind it never come up to be dropped.
            using var first = new CancellationTokenSource();
            ValueTask pending = shard.Delay(TimeSpan.FromMinutes(30), first.Token);
            for (int i = 0; i < 20_000; i++)
            {
                using var cancel = new CancellationTokenSource();
                ValueTask delay = shard.Delay(TimeSpan.FromHours(1), cancel.Token);
                cancel.Cancel();
                try
                {
                    await delay;
                }
                catch (OperationCanceledException)
                {
                }
            }

            int count = shard.TimerHeapCount;
            first.Cancel();
            try
            {
                await pending;
            }
            catch (OperationCanceledException)
            {
            }

            return count;
        }).Within(token);

        Assert.That(entries, Is.LessThanOrEqualTo(1_000), "cancelled delays stayed in the timer heap");
    }
}
