using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Miniss.IO;
using Miniss.Messaging;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>
/// A failure of a shard's loop (an exception escaping the runtime's own code, not user work) faults the runtime in a
/// defined way: logged, raised, awaitable, the shard refuses work instead of swallowing it, and the runtime still stops.
/// The failure is injected by a cross-shard message whose execution throws: messages run outside the per-task guard.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class LoopFailureTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(30);

    /// <summary>A message whose execution fails inside the loop.</summary>
    private sealed class FailingMessage(Exception error) : ShardMessage
    {
        public override void Execute(Shard shard) => throw error;

        public override void Reject(Shard shard, Exception error)
        {
        }
    }

    private static ValueTask InjectLoopFailure(MinissRuntime runtime, int shard, Exception error)
    {
        int from = shard == 0 ? 1 : 0;
        return runtime.SubmitTo(from, () => Shard.Current!.Send(shard, new FailingMessage(error)));
    }

    private static RuntimeOptions Options(ILogger? logger = null) =>
        new() { Backend = Backends.Current, ShardCount = 2, LoggerFactory = logger is null ? null : new Support.OneLoggerFactory(logger) };

    [Test, CancelAfter(60000)]
    public async Task A_loop_failure_is_logged_raised_and_faults_the_runtime(CancellationToken token)
    {
        var logger = new CollectingLogger();
        MinissRuntime runtime = MinissRuntime.Start(Options(logger));
        var faulted = new ConcurrentQueue<(int Shard, Exception Error, string? Thread)>();
        runtime.ShardFaulted += (_, e) => faulted.Enqueue((e.ShardId, e.Exception, Thread.CurrentThread.Name));
        var injected = new InvalidOperationException("injected loop failure");

        Assert.That(runtime.IsFaulted, Is.False);
        await InjectLoopFailure(runtime, 1, injected).Within(token);
        ShardFaultedException fault = await runtime.Faulted.WaitAsync(Ceiling, token);

        Assert.That(fault.ShardId, Is.EqualTo(1));
        Assert.That(fault.InnerException, Is.SameAs(injected));
        Assert.That(runtime.IsFaulted, Is.True);
        Assert.That(runtime.Fault, Is.SameAs(fault));
        Assert.That(runtime[1].IsFaulted, Is.True);
        Assert.That(runtime[0].IsFaulted, Is.False);
        Assert.That(faulted, Has.Count.EqualTo(1));
        Assert.That(faulted.TryPeek(out var raised) ? raised : default, Is.EqualTo((1, (Exception)injected, (string?)"miniss-shard-1")));
        Assert.That(logger.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(
            entry => entry.Level == LogLevel.Critical && entry.Message.Contains("shard 1", StringComparison.Ordinal)));

        Assert.ThrowsAsync<ShardFaultedException>(async () => await runtime.StopAsync().AsTask().WaitAsync(Ceiling, token));
    }

    [Test, CancelAfter(60000)]
    public async Task A_failed_shard_refuses_work_and_the_others_keep_serving(CancellationToken token)
    {
        MinissRuntime runtime = MinissRuntime.Start(Options());
        try
        {
            await InjectLoopFailure(runtime, 1, new InvalidOperationException("injected")).Within(token);
            await runtime.Faulted.WaitAsync(Ceiling, token);

            // From outside the runtime, and from the healthy shard: refused, never left waiting.
            var outside = Assert.ThrowsAsync<ObjectDisposedException>(async () => await runtime.SubmitTo(1, () => 1).AsTask().WaitAsync(Ceiling, token));
            Assert.That(outside!.Message, Does.Contain("shard 1 failed"));
            int fromShard0 = await runtime.SubmitTo(0, async () =>
            {
                try
                {
                    await runtime.SubmitTo(1, () => 1);
                    return 1;
                }
                catch (ObjectDisposedException)
                {
                    return -1;
                }
            }).AsTask().WaitAsync(Ceiling, token);
            Assert.That(fromShard0, Is.EqualTo(-1), "a call from shard 0 to the failed shard is refused");

            Assert.That(await runtime.SubmitTo(0, async () =>
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                return Shard.Current!.Id;
            }).AsTask().WaitAsync(Ceiling, token), Is.Zero, "shard 0 keeps serving");
        }
        finally
        {
            Assert.ThrowsAsync<ShardFaultedException>(async () => await runtime.StopAsync().AsTask().WaitAsync(Ceiling, token));
        }
    }

    [Test, CancelAfter(60000)]
    public async Task Work_waiting_on_the_failed_shard_completes_instead_of_hanging(CancellationToken token)
    {
        MinissRuntime runtime = MinissRuntime.Start(Options());
        var sleeping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<int> waiting = runtime.SubmitTo(1, async () =>
        {
            sleeping.SetResult();
            await Shard.Current!.Delay(TimeSpan.FromHours(1));
            return 1;
        });
        await sleeping.Task.WaitAsync(Ceiling, token);

        await InjectLoopFailure(runtime, 1, new InvalidOperationException("injected")).Within(token);

        Assert.ThrowsAsync(Is.InstanceOf<OperationCanceledException>(), async () => await waiting.AsTask().WaitAsync(Ceiling, token));
        Assert.ThrowsAsync<ShardFaultedException>(async () => await runtime.StopAsync().AsTask().WaitAsync(Ceiling, token));
    }

    [Test, CancelAfter(60000)]
    public async Task A_runtime_stopped_after_a_loop_failure_completes_its_stop_with_the_fault(CancellationToken token)
    {
        MinissRuntime runtime = MinissRuntime.Start(Options());
        await InjectLoopFailure(runtime, 0, new InvalidOperationException("injected")).Within(token);
        await runtime.Faulted.WaitAsync(Ceiling, token);

        ShardFaultedException? thrown = Assert.ThrowsAsync<ShardFaultedException>(async () => await runtime.StopAsync().AsTask().WaitAsync(Ceiling, token));
        Assert.That(thrown!.ShardId, Is.Zero);
        Assert.That(runtime[0].IsFaulted && !runtime[1].IsFaulted, Is.True);

        // Dispose after the stop reports the same fault and does not hang.
        Assert.Throws<ShardFaultedException>(runtime.Dispose);
    }

    [Test, CancelAfter(60000)]
    public async Task A_throwing_event_handler_does_not_take_the_shard_down(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        runtime.UnhandledException += (_, _) => throw new InvalidOperationException("a handler that throws");

        runtime[1].SynchronizationContext.Post(_ => throw new FormatException("user work"), null);

        await Bounded.Eventually(() => runtime[1].Statistics.UnhandledExceptions == 1, "shard 1 counts one unhandled exception", token);
        Assert.That(await runtime.SubmitTo(1, () => Shard.Current!.Id).Within(token), Is.EqualTo(1));
        Assert.That(runtime.IsFaulted, Is.False);
    }

    /// <summary>Keeps every entry logged, with its level.</summary>
    private sealed class CollectingLogger : ILogger
    {
        private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

        public IReadOnlyCollection<(LogLevel Level, string Message)> Entries => _entries.ToArray();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
