using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Miniss.Scheduling;

/// <summary>
/// A callback and its argument: what a shard's run queue holds. The callback is an <see cref="Action{T}"/> of object
/// (the runtime's own and await continuations) or a <see cref="SendOrPostCallback"/> (posts to the shard's
/// synchronization context); keeping both avoids wrapping one in the other. A value: queuing one allocates nothing.
/// </summary>
internal readonly struct WorkItem
{
    public readonly Delegate Callback;
    public readonly object? State;

    public WorkItem(Action<object?> callback, object? state)
    {
        Callback = callback;
        State = state;
    }

    public WorkItem(SendOrPostCallback callback, object? state)
    {
        Callback = callback;
        State = state;
    }

    public void Invoke()
    {
        if (Callback is Action<object?> action)
        {
            action(State);
        }
        else
        {
            Unsafe.As<SendOrPostCallback>(Callback)(State);
        }
    }
}
