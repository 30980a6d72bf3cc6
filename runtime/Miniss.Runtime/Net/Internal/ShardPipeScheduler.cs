using System;
using System.IO.Pipelines;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>Runs a pipe's continuations on one shard's run queue, so the awaits of a <see cref="ConnectionPipe"/> resume
/// on the connection's shard whoever completes them. Queuing allocates nothing.</summary>
internal sealed class ShardPipeScheduler(Shard shard) : PipeScheduler
{
    public override void Schedule(Action<object?> action, object? state) => shard.Post(new WorkItem(action, state));
}
