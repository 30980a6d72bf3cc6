using System.Collections.Generic;
using System.Threading.Tasks;

namespace Miniss.Scheduling;

/// <summary>
/// A <see cref="TaskScheduler"/> that runs tasks on one shard: <c>Task.Factory.StartNew(work, ..., shard.TaskScheduler)</c>
/// runs <c>work</c> there, and so does every task started from inside it with the default scheduler.
/// </summary>
public sealed class ShardTaskScheduler : TaskScheduler
{
    private readonly Shard _shard;

    private readonly System.Action<object?> _execute;

    internal ShardTaskScheduler(Shard shard)
    {
        _shard = shard;
        _execute = task => TryExecuteTask((Task)task!);
    }

    /// <summary>Always 1: a shard runs one thing at a time.</summary>
    public override int MaximumConcurrencyLevel => 1;

    /// <inheritdoc/>
    protected override void QueueTask(Task task) => _shard.Post(new WorkItem(_execute, task));

    /// <inheritdoc/>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Shard.Current == _shard && TryExecuteTask(task);

    /// <summary>Not tracked: the shard's queue holds callbacks, not tasks.</summary>
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
