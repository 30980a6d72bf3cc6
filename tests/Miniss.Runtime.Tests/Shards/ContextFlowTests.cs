using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Diagnostics;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>The caller's execution context (AsyncLocal values, Activity.Current) reaches work sent to a shard when
/// <see cref="RuntimeOptions.FlowExecutionContext"/> is on and not when it is off; cross-shard calls are traced as
/// activities of the Miniss source when it is listened to; a token cancels work that has not started.</summary>
[NonParallelizable] // Activity listeners and Activity.Current are process-wide.
public sealed class ContextFlowTests
{
    private static readonly AsyncLocal<string?> s_ambient = new();

    private static RuntimeScope Start(bool flow) =>
        RuntimeScope.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, FlowExecutionContext = flow });

    [Test, CancelAfter(30_000)]
    public async Task An_AsyncLocal_reaches_the_shard_when_flow_is_on(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: true);
        s_ambient.Value = "from the caller";
        try
        {
            string? sync = await scope.Runtime.SubmitTo(1, () => s_ambient.Value, token).Within(token);
            string? afterAwait = await scope.Runtime.SubmitTo(1, async () =>
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                return s_ambient.Value;
            }, token).Within(token);
            string?[] everywhere = await scope.Runtime.InvokeOnAll(() => s_ambient.Value, token).Within(token);

            Assert.That(sync, Is.EqualTo("from the caller"));
            Assert.That(afterAwait, Is.EqualTo("from the caller"));
            Assert.That(everywhere, Is.EqualTo(new[] { "from the caller", "from the caller" }));
        }
        finally
        {
            s_ambient.Value = null;
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task An_AsyncLocal_set_on_one_shard_reaches_the_shard_it_calls_when_flow_is_on(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: true);
        string? seen = await scope.Runtime.SubmitTo(0, async () =>
        {
            s_ambient.Value = "from shard 0";
            return await scope.Runtime.SubmitTo(1, () => s_ambient.Value);
        }, token).Within(token);

        // And it was not left behind on shard 0's thread for the next work item.
        string? leftOver = await scope.Runtime.SubmitTo(0, () => s_ambient.Value, token).Within(token);
        Assert.That(seen, Is.EqualTo("from shard 0"));
        Assert.That(leftOver, Is.Null);
    }

    [Test, CancelAfter(30_000)]
    public async Task Nothing_of_the_callers_context_reaches_the_shard_when_flow_is_off(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: false);
        s_ambient.Value = "from the caller";
        using var activity = new Activity("caller");
        activity.Start();
        try
        {
            (string? value, string? activityName) = await scope.Runtime.SubmitTo(1, () => (s_ambient.Value, Activity.Current?.OperationName), token).Within(token);
            Assert.That(value, Is.Null);
            Assert.That(activityName, Is.Null);
        }
        finally
        {
            s_ambient.Value = null;
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task Activity_Current_reaches_the_shard_when_flow_is_on(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: true);
        using var activity = new Activity("caller");
        activity.Start();
        ActivityTraceId? trace = await scope.Runtime.SubmitTo(1, () => Activity.Current?.TraceId, token).Within(token);
        Assert.That(trace, Is.EqualTo(activity.TraceId));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_listened_source_traces_each_cross_shard_call_as_a_child_of_the_callers_activity(CancellationToken token)
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MinissTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using RuntimeScope scope = Start(flow: false);
        using var caller = new ActivitySource("Miniss.Tests.Caller");
        using var parentListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Miniss.Tests.Caller",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(parentListener);

        Activity? parent = caller.StartActivity("request");
        Assert.That(parent, Is.Not.Null);
        (string? inside, int shard) = await scope.Runtime.SubmitTo(1, async () =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            return (Activity.Current?.OperationName, Shard.Current!.Id);
        }, token).Within(token);
        parent!.Stop();

        // The shard's thread does not keep the activity: the next call there (traced too, from a caller without an
        // activity) has no parent.
        string? after = await scope.Runtime.SubmitTo(1, () => Activity.Current?.Parent?.OperationName ?? Activity.Current?.ParentId, token).Within(token);

        Assert.That(inside, Is.EqualTo(MinissTracing.SubmitActivityName));
        Assert.That(after, Is.Null);
        Activity? submit = null;
        await Bounded.Eventually(
            () =>
            {
                foreach (Activity a in stopped)
                {
                    if (a.ParentSpanId == parent.SpanId)
                    {
                        submit = a;
                        return true;
                    }
                }

                return false;
            },
            "a miniss.submit activity stops under the caller's",
            token);
        Assert.That(submit!.TraceId, Is.EqualTo(parent.TraceId));
        Assert.That(submit.GetTagItem("miniss.shard"), Is.EqualTo(shard));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_token_cancelled_before_the_call_fails_it_with_that_token_and_runs_nothing(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: false);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        int ran = 0;
        OperationCanceledException? error = Assert.CatchAsync<OperationCanceledException>(
            async () => await scope.Runtime.SubmitTo(1, () => Interlocked.Increment(ref ran), cancel.Token));
        Assert.That(error!.CancellationToken, Is.EqualTo(cancel.Token));
        Assert.That(ran, Is.Zero);
        Assert.That(await scope.Runtime.SubmitTo(1, () => 5, token).Within(token), Is.EqualTo(5));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_token_cancelled_while_the_work_waits_for_its_shard_fails_it_with_that_token_and_runs_nothing(CancellationToken token)
    {
        await using RuntimeScope scope = Start(flow: false);
        using var gate = new ManualResetEventSlim();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task busy = scope.Runtime.SubmitTo(1, () =>
        {
            blocking.SetResult();
            gate.Wait(TimeSpan.FromSeconds(20));
        }, token).AsTask();
        await blocking.Task.WaitAsync(token);

        using var cancel = new CancellationTokenSource();
        int ran = 0;
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<Exception?> queued = scope.Runtime.SubmitTo(0, async () =>
        {
            ValueTask<int> call = scope.Runtime.SubmitTo(1, () => Interlocked.Increment(ref ran), cancel.Token);
            sent.SetResult();
            try
            {
                await call;
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }, token).AsTask();
        Task<int> fromOutside = scope.Runtime.SubmitTo(1, () => Interlocked.Increment(ref ran), cancel.Token).AsTask();
        await sent.Task.WaitAsync(token);
        cancel.Cancel();
        gate.Set();
        await busy.WaitAsync(token);

        Exception? fromShard = await queued.WaitAsync(token);
        OperationCanceledException? outside = Assert.CatchAsync<OperationCanceledException>(async () => await fromOutside.WaitAsync(token));
        Assert.That(fromShard, Is.InstanceOf<OperationCanceledException>());
        Assert.That(((OperationCanceledException)fromShard!).CancellationToken, Is.EqualTo(cancel.Token));
        Assert.That(outside!.CancellationToken, Is.EqualTo(cancel.Token));
        Assert.That(ran, Is.Zero);
    }

    [Test, CancelAfter(60_000)]
    public async Task A_stop_whose_token_expires_reports_the_blocked_shard_and_throws_with_that_token(CancellationToken token)
    {
        var runtime = MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2 });
        using var gate = new ManualResetEventSlim();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = runtime.SubmitTo(1, () =>
        {
            blocking.SetResult();
            gate.Wait(TimeSpan.FromSeconds(50));
        }, token).AsTask();
        await blocking.Task.WaitAsync(token);

        using var expiry = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        OperationCanceledException? error = Assert.CatchAsync<OperationCanceledException>(async () => await runtime.StopAsync(expiry.Token));
        Assert.That(error!.CancellationToken, Is.EqualTo(expiry.Token));
        Assert.That(error.Message, Does.Contain("shard 1: one task running"));

        gate.Set();
        await runtime.StopAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20), token);
    }
}
