using Miniss.IO;
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Runtime.Tests.Shards;

/// <summary>
/// A runtime started for one test and stopped by <c>await using</c>, with a bound on the stop: a runtime that fails
/// to stop fails the test (<see cref="TimeoutException"/>) instead of hanging the run.
/// </summary>
internal sealed class TestRuntime : IAsyncDisposable
{
    /// <summary>How long a stop may take before the test fails.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private TestRuntime(MinissRuntime runtime) => Runtime = runtime;

    public MinissRuntime Runtime { get; }

    /// <summary>Starts a runtime; two shards unless <paramref name="options"/> says otherwise.</summary>
    public static TestRuntime Start(RuntimeOptions? options = null) =>
        new(MinissRuntime.Start(options ?? new RuntimeOptions { Backend = Backends.Current, ShardCount = 2 }));

    public async ValueTask DisposeAsync() => await Runtime.StopAsync().AsTask().WaitAsync(StopTimeout);
}

/// <summary>Bounds on awaits of the runtime from the test thread: the test's token (CancelAfter) ends them.</summary>
internal static class Bounded
{
    public static Task<T> Within<T>(this ValueTask<T> task, CancellationToken token) => task.AsTask().WaitAsync(token);

    public static Task Within(this ValueTask task, CancellationToken token) => task.AsTask().WaitAsync(token);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> Eventually(Func<bool> condition, TimeSpan timeout, CancellationToken token)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(1, token);
        }

        return true;
    }
}
