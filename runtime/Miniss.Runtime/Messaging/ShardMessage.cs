namespace Miniss.Messaging;

/// <summary>Something one shard asks another to do, carried by a <see cref="CrossShardQueue"/>.</summary>
internal abstract class ShardMessage
{
    /// <summary>Runs the message on the shard that received it (its own thread).</summary>
    public abstract void Execute(Shard shard);

    /// <summary>The receiving shard is stopping or stopped: complete the message with <paramref name="error"/> instead.</summary>
    public abstract void Reject(Shard shard, System.Exception error);
}
