using System;
using System.Threading;

namespace Miniss.Scheduling;

/// <summary>
/// Current on every shard thread: an <c>await</c> that captures it resumes on the same shard. Posts from the shard
/// itself go to its run queue; posts from other threads go through the shard's external queue and wake it.
/// </summary>
public sealed class ShardSynchronizationContext : SynchronizationContext
{
    private readonly Shard _shard;

    internal ShardSynchronizationContext(Shard shard) => _shard = shard;

    /// <summary>The shard this context runs work on.</summary>
    public Shard Shard => _shard;

    /// <summary>Queues <paramref name="d"/> to run on the shard. After the runtime stops, runs it on the thread pool.</summary>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        _shard.Post(new WorkItem(d, state));
    }

    /// <summary>Runs <paramref name="d"/> on the shard and waits for it; inline when called on the shard itself.</summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Shard.Current == _shard)
        {
            d(state);
            return;
        }

        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Post(new SendOrPostCallback(_ =>
        {
            try
            {
                d(state);
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                done.Set();
            }
        }), null);
        done.Wait();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    /// <summary>Returns this context: a shard's context is not copied.</summary>
    public override SynchronizationContext CreateCopy() => this;
}
