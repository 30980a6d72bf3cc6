using System;
using System.IO.Pipelines;

namespace Miniss.AspNetCore.Internal;

/// <summary>Runs a pipe's continuations on one shard's run queue, whichever thread completes them. Queuing allocates
/// nothing.</summary>
internal sealed class ShardScheduler(Shard shard) : PipeScheduler
{
    public Shard Shard => shard;

    public override void Schedule(Action<object?> action, object? state) => shard.Post(action, state);
}
