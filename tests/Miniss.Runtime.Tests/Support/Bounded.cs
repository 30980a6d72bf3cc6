using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests;

/// <summary>Bounds on the waits of a test: awaits of the runtime end with the test's token (CancelAfter), and
/// <see cref="Eventually(Func{bool}, string, CancellationToken)"/> waits for a condition within a generous ceiling.</summary>
internal static class Bounded
{
    /// <summary>How long <see cref="Eventually(Func{bool}, string, CancellationToken)"/> waits: far more than a correct
    /// run needs on a loaded machine, so reaching it means the condition will not hold.</summary>
    public static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="task"/> until it completes or the test's <paramref name="token"/> ends the wait.</summary>
    public static Task<T> Within<T>(this ValueTask<T> task, CancellationToken token) => task.AsTask().WaitAsync(token);

    /// <inheritdoc cref="Within{T}(ValueTask{T}, CancellationToken)"/>
    public static Task Within(this ValueTask task, CancellationToken token) => task.AsTask().WaitAsync(token);

    /// <summary>Awaits <paramref name="task"/> at most <paramref name="seconds"/>; fails the test (TimeoutException) otherwise.</summary>
    public static Task Within(this Task task, double seconds) => task.WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <inheritdoc cref="Within(Task, double)"/>
    public static Task<T> Within<T>(this Task<T> task, double seconds) => task.WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <inheritdoc cref="Within(Task, double)"/>
    public static Task<T> Within<T>(this ValueTask<T> task, double seconds) => task.AsTask().WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <inheritdoc cref="Within(Task, double)"/>
    public static Task Within(this ValueTask task, double seconds) => task.AsTask().WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test, naming <paramref name="what"/> was
    /// awaited, when it has not held within <see cref="Ceiling"/> or the test's <paramref name="token"/> ends first.</summary>
    public static Task Eventually(Func<bool> condition, string what, CancellationToken token) =>
        Eventually(() => Task.FromResult(condition()), what, token);

    /// <summary>Polls an asynchronous <paramref name="condition"/> (one that asks a shard, say) until it holds; fails
    /// the test as <see cref="Eventually(Func{bool}, string, CancellationToken)"/> does.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, CancellationToken token)
    {
        DateTime deadline = DateTime.UtcNow + Ceiling;
        try
        {
            while (!await condition())
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"timed out after {Ceiling.TotalSeconds} s waiting until {what}");
                }

                await Task.Delay(2, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Assert.Fail($"the test's time ran out waiting until {what}");
        }
    }
}
