using System;
using System.Runtime.CompilerServices;

namespace Miniss.AspNetCore.Internal;

/// <summary>An awaitable that continues on <paramref name="shard"/>: at once when the caller already runs there,
/// otherwise through the shard's run queue (after the runtime has stopped, on the thread pool).</summary>
internal readonly struct ShardSwitch(Shard shard) : ICriticalNotifyCompletion
{
    private static readonly Action<object?> s_run = static continuation => ((Action)continuation!)();

    public bool IsCompleted => Shard.Current == shard;

    public ShardSwitch GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => shard.Post(s_run, continuation);

    public void UnsafeOnCompleted(Action continuation) => shard.Post(s_run, continuation);
}
