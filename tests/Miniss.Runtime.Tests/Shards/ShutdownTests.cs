using Miniss.IO;
using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class ShutdownTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="pending"/> and returns the exception it ended with (null when it succeeded).</summary>
    private static async Task<Exception?> Outcome(Task pending, CancellationToken token)
    {
        try
        {
            await pending.WaitAsync(token);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            return e;
        }
    }

    private static async Task StartedOnShard(TaskCompletionSource started, CancellationToken token) => await started.Task.WaitAsync(token);

    [Test, CancelAfter(15000)]
    public async Task Stopping_cancels_pending_long_delays(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        Task waits = runtime.InvokeOnAll(async () =>
        {
            ValueTask first = Shard.Current!.Delay(Long);
            ValueTask second = Shard.Current.Delay(Long * 2);
            if (Interlocked.Increment(ref count) == runtime.ShardCount)
            {
                armed.SetResult();
            }

            try
            {
                await first;
            }
            finally
            {
                await second;
            }
        }).AsTask();
        await StartedOnShard(armed, token);

        await runtime.StopAsync().Within(token);

        Exception? error = await Outcome(waits, token);
        Assert.That(error, Is.TypeOf<AggregateException>());
        Assert.That(((AggregateException)error!).InnerExceptions, Has.Count.EqualTo(runtime.ShardCount).And.All.InstanceOf<OperationCanceledException>());
    }

    [Test, CancelAfter(15000)]
    public async Task Stopping_completes_a_pending_cross_shard_call_whose_work_awaits_a_long_delay(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var remoteStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> caller = runtime.SubmitTo(0, async () =>
        {
            try
            {
                await runtime.SubmitTo(1, async () =>
                {
                    remoteStarted.SetResult();
                    await Shard.Current!.Delay(Long);
                    return 1;
                });
                return "completed";
            }
            catch (Exception e)
            {
                return e.GetType().Name + " on shard " + Shard.Current!.Id;
            }
        }).AsTask();
        await StartedOnShard(remoteStarted, token);

        await runtime.StopAsync().Within(token);

        Assert.That(await caller.WaitAsync(token), Is.AnyOf(
            nameof(OperationCanceledException) + " on shard 0",
            nameof(ObjectDisposedException) + " on shard 0"));
    }

    [Test, CancelAfter(15000)]
    public async Task Stopping_completes_a_pending_outside_call_whose_work_awaits_a_long_delay(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var remoteStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> pending = runtime.SubmitTo(1, async () =>
        {
            remoteStarted.SetResult();
            await Shard.Current!.Delay(Long);
            return 1;
        }).AsTask();
        await StartedOnShard(remoteStarted, token);

        await runtime.StopAsync().Within(token);

        Assert.That(await Outcome(pending, token), Is.InstanceOf<OperationCanceledException>().Or.InstanceOf<ObjectDisposedException>());
    }

    [Test, CancelAfter(15000)]
    public async Task Stopping_completes_a_pending_cancellable_delay(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        using var cancel = new CancellationTokenSource();
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool> pending = runtime.SubmitTo(0, async () =>
        {
            ValueTask delay = Shard.Current!.Delay(Long, cancel.Token);
            armed.SetResult();
            await delay;
            return true;
        }).AsTask();
        await StartedOnShard(armed, token);

        await runtime.StopAsync().Within(token);

        Assert.That(await Outcome(pending, token), Is.InstanceOf<OperationCanceledException>());
        await cancel.CancelAsync();
    }

    [Test, CancelAfter(15000)]
    public async Task Stop_is_idempotent(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        ValueTask first = runtime.StopAsync();
        ValueTask second = runtime.StopAsync();
        await first.Within(token);
        await second.Within(token);
        await runtime.StopAsync().Within(token);

        Assert.That(runtime.IsStopping, Is.True);
    }

    [Test, CancelAfter(15000)]
    public async Task Stop_called_from_a_shard_completes(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var stop = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);

        await runtime.SubmitTo(1, () => stop.SetResult(runtime.StopAsync().AsTask())).Within(token);

        await (await stop.Task.WaitAsync(token)).WaitAsync(token);
        Assert.That(runtime.IsStopping, Is.True);
    }

    [Test, CancelAfter(15000)]
    public async Task After_stop_calls_from_outside_fail_with_ObjectDisposedException(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        await runtime.StopAsync().Within(token);

        Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.SubmitTo(1, () => 1).Within(token));
        Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.SubmitTo(0, async () => await Task.Yield()).Within(token));
        Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.SubmitTo(0, () => { }).Within(token));
        Assert.ThrowsAsync<AggregateException>(() => runtime.InvokeOnAll(() => 1).Within(token));
    }

    [Test, CancelAfter(15000)]
    public async Task During_stop_calls_from_a_shard_fail_with_ObjectDisposedException(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<Exception?> afterStop = runtime.SubmitTo(0, async () =>
        {
            try
            {
                ValueTask delay = Shard.Current!.Delay(Long);
                armed.SetResult();
                await delay;
            }
            catch (OperationCanceledException)
            {
                // The stop has reached this shard.
            }

            try
            {
                await runtime.SubmitTo(1, () => 1);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).AsTask();
        await StartedOnShard(armed, token);

        await runtime.StopAsync().Within(token);

        Assert.That(await afterStop.WaitAsync(token), Is.TypeOf<ObjectDisposedException>());
    }

    [Test, CancelAfter(15000)]
    public async Task Dispose_from_an_outside_thread_stops_the_runtime(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        await Task.Run(runtime.Dispose, token).WaitAsync(token);

        Assert.That(runtime.IsStopping, Is.True);
        Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.SubmitTo(0, () => 1).Within(token));
    }

    [Test, CancelAfter(15000)]
    public async Task Dispose_on_a_shard_throws_InvalidOperationException(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () =>
        {
            try
            {
                runtime.Dispose();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        Assert.That(error, Is.TypeOf<InvalidOperationException>());
        Assert.That(runtime.IsStopping, Is.False, "the refused Dispose must not have begun a stop");
        Assert.That(await runtime.SubmitTo(0, () => 5).Within(token), Is.EqualTo(5));
    }

    [Test, CancelAfter(30000)]
    public async Task Starting_and_stopping_runtimes_leaves_no_file_descriptor_open(CancellationToken token)
    {
        static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

        // A first start and stop loads what the process keeps for good.
        await using (var warm = RuntimeScope.Start())
        {
            await warm.Runtime.InvokeOnAll(async () => await Shard.Current!.NopAsync()).Within(token);
        }

        int before = OpenDescriptors();
        for (int i = 0; i < 3; i++)
        {
            await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 3 });
            await scope.Runtime.InvokeOnAll(async () =>
            {
                await Shard.Current!.NopAsync();
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            }).Within(token);
            Assert.That(OpenDescriptors(), Is.GreaterThan(before), "a running runtime holds rings and eventfds");
        }

        // Other threads of the process (a new thread-pool thread, say) may hold a descriptor for a moment.
        await Bounded.Eventually(() => OpenDescriptors() <= before, $"at most the {before} descriptors open before the runtimes are open", token);
    }

    [Test, CancelAfter(15000)]
    public async Task After_stop_the_shard_threads_have_ended(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        Thread[] threads = await runtime.InvokeOnAll(() => Thread.CurrentThread).Within(token);

        await runtime.StopAsync().Within(token);

        await Bounded.Eventually(() => threads.All(t => !t.IsAlive), "every shard thread has ended", token);
    }

    [Test, CancelAfter(15000)]
    public async Task A_post_to_a_stopped_shard_still_runs(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        await runtime.StopAsync().Within(token);
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        runtime[0].SynchronizationContext.Post(_ => ran.SetResult(Shard.Current is null), null);

        Assert.That(await ran.Task.WaitAsync(token), Is.True);
    }
}
