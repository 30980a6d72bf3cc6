using Miniss.IO;
using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>An exception escaping work on a shard is reported with the shard's id; the shard keeps serving.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class UnhandledExceptionTests(IoBackendKind backend) : BackendFixture(backend)
{
    private sealed class Reports
    {
        private readonly TaskCompletionSource<(int Shard, Exception Error, string? Thread)> _first =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<(int Shard, Exception Error)> All { get; } = new();

        public Task<(int Shard, Exception Error, string? Thread)> First => _first.Task;

        public void Handler(object? sender, ShardExceptionEventArgs e)
        {
            All.Enqueue((e.ShardId, e.Exception));
            _first.TrySetResult((e.ShardId, e.Exception, Thread.CurrentThread.Name));
        }
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_thrown_by_a_posted_callback_is_reported_with_the_shard_id(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var reports = new Reports();
        runtime.UnhandledException += reports.Handler;

        runtime[1].SynchronizationContext.Post(_ => throw new InvalidOperationException("escaped"), null);

        (int shard, Exception error, string? thread) = await reports.First.WaitAsync(token);
        Assert.That(shard, Is.EqualTo(1));
        Assert.That(error, Is.TypeOf<InvalidOperationException>().With.Message.EqualTo("escaped"));
        Assert.That(thread, Is.EqualTo("miniss-shard-1"), "the event is raised on the shard");
        await Bounded.Eventually(() => runtime[1].Statistics.UnhandledExceptions == 1, "shard 1 counts one unhandled exception", token);
    }

    [Test, CancelAfter(10000)]
    public async Task A_shard_keeps_serving_after_an_exception_escaped(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var reports = new Reports();
        runtime.UnhandledException += reports.Handler;

        runtime[1].SynchronizationContext.Post(_ => throw new InvalidOperationException("escaped"), null);
        await reports.First.WaitAsync(token);

        Assert.That(await runtime.SubmitTo(1, () => Shard.Current!.Id).Within(token), Is.EqualTo(1));
        Assert.That(await runtime.SubmitTo(1, async () =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            return await runtime.SubmitTo(0, () => Shard.Current!.Id + 10);
        }).Within(token), Is.EqualTo(10));
        Assert.That(await runtime.SubmitTo(0, () => Shard.Current!.Id).Within(token), Is.Zero);
        Assert.That(reports.All, Has.Count.EqualTo(1));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_posted_from_the_shard_itself_is_reported(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var reports = new Reports();
        runtime.UnhandledException += reports.Handler;

        await runtime.SubmitTo(0, () =>
            SynchronizationContext.Current!.Post(_ => throw new FormatException("from the shard"), null)).Within(token);

        (int shard, Exception error, _) = await reports.First.WaitAsync(token);
        Assert.That(shard, Is.Zero);
        Assert.That(error, Is.TypeOf<FormatException>());
        Assert.That(await runtime.SubmitTo(0, () => 3).Within(token), Is.EqualTo(3));
    }

    [Test, CancelAfter(10000)]
    public async Task An_exception_escaping_an_async_void_method_on_a_shard_is_reported(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        var reports = new Reports();
        runtime.UnhandledException += reports.Handler;

        await runtime.SubmitTo(1, FireAndForget).Within(token);

        (int shard, Exception error, _) = await reports.First.WaitAsync(token);
        Assert.That(shard, Is.EqualTo(1));
        Assert.That(error, Is.TypeOf<ArithmeticException>());
        Assert.That(await runtime.SubmitTo(1, () => 4).Within(token), Is.EqualTo(4));

        static void FireAndForget() => Throws();

        // async void on purpose: its exception goes to the shard's synchronization context.
        static async void Throws()
        {
            await Shard.Current!.NopAsync();
            throw new ArithmeticException("async void");
        }
    }
}
