using System;

namespace Miniss.Scheduling;

/// <summary>A callback and its argument: what a shard's run queue holds. A value, so queuing one allocates nothing.</summary>
internal readonly struct WorkItem(Action<object?> callback, object? state)
{
    public readonly Action<object?> Callback = callback;
    public readonly object? State = state;

    public void Invoke() => Callback(State);
}
