using System;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>Bounds on waits of the buffer tests: the test's token (CancelAfter) ends them.</summary>
internal static class Bounded
{
    public static Task<T> Within<T>(this ValueTask<T> task, CancellationToken token) => task.AsTask().WaitAsync(token);

    public static Task Within(this ValueTask task, CancellationToken token) => task.AsTask().WaitAsync(token);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken token)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!await condition())
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
