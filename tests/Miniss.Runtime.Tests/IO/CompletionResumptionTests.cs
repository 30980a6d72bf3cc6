using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

/// <summary>
/// How an awaited ring operation resumes: inside the loop's reap of its completion, without a second trip through the
/// run queue, and still as a task the stall detector watches; the promise it resumes from may start its next operation
/// at once.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class CompletionResumptionTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(30_000)]
    public async Task An_awaited_operation_resumes_in_the_reap_before_work_queued_earlier(CancellationToken token)
    {
        // A quota of one tick: the spinning task uses it up, the next task runs, and the last one waits for the next
        // tick, whose reap then finds the NOP's completion.
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 1, TaskQuota = TimeSpan.FromTicks(1) });
        MinissRuntime runtime = scope.Runtime;

        List<string> order = await runtime.SubmitTo(0, async () =>
        {
            Shard shard = Shard.Current!;
            var seen = new List<string>();
            ValueTask<int> nop = shard.NopAsync();
            shard.Post(static _ => SpinFor(TimeSpan.FromMilliseconds(2)), null);
            shard.Post(static _ => SpinFor(TimeSpan.FromMilliseconds(2)), null);
            shard.Post(static s => ((List<string>)s!).Add("queued"), seen);
            await nop;
            seen.Add("resumed");

            // Let the queued work run before reporting.
            await Task.Yield();
            return seen;
        }).Within(token);

        Assert.That(order, Is.EqualTo(new[] { "resumed", "queued" }));
    }

    [Test, CancelAfter(30_000)]
    public async Task An_operation_started_inside_the_resumption_keeps_its_own_cancellation(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 1 });
        MinissRuntime runtime = scope.Runtime;
        (FileDescriptorHandle read, FileDescriptorHandle write) = Storage.StorageTestSupport.CreatePipe();
        using var _ = read;
        using var __ = write;

        Exception? error = await runtime.SubmitTo(0, async () =>
        {
            Shard shard = Shard.Current!;
            await shard.NopAsync();

            // Resumed inside the reap: the NOP's promise is back in the pool and carries this read, which only its
            // token can end (the pipe stays empty).
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = IoOperations.ReadAsync(read, new byte[8], 0, cts.Token);
            await shard.NopAsync();
            cts.Cancel();
            try
            {
                await pending;
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(((OperationCanceledException)error!).CancellationToken.IsCancellationRequested, Is.True);
    }

    [Test, CancelAfter(30_000)]
    public async Task A_resumption_that_blocks_the_shard_is_reported_as_a_stall(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 1, StallThreshold = TimeSpan.FromMilliseconds(20) });
        MinissRuntime runtime = scope.Runtime;
        int blocking = 0;
        int reportedWhileBlocking = 0;
        runtime.StallDetected += (_, _) =>
        {
            if (Volatile.Read(ref blocking) == 1)
            {
                Interlocked.Increment(ref reportedWhileBlocking);
            }
        };

        await runtime.SubmitTo(0, async () =>
        {
            await Shard.Current!.NopAsync();
            Volatile.Write(ref blocking, 1);
            Thread.Sleep(200);
            Volatile.Write(ref blocking, 0);
            return 0;
        }).Within(token);

        Assert.That(Volatile.Read(ref reportedWhileBlocking), Is.GreaterThanOrEqualTo(1));
    }

    private static void SpinFor(TimeSpan duration)
    {
        long until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }
}
