namespace Miniss.Net;

/// <summary>How a <see cref="ShardServer"/> spreads incoming connections over the shards.</summary>
public enum ConnectionDistribution
{
    /// <summary>Every shard listens on the address with <c>SO_REUSEPORT</c>; the kernel hashes each connection to one of
    /// the listeners, and the shard that accepts it serves it. No cross-shard traffic; the spread is statistical. The
    /// default. (Unix domain endpoints cannot share an address and use <see cref="LeastLoaded"/>.)</summary>
    ReusePort,

    /// <summary>One shard (<see cref="ShardServerOptions.AcceptorShard"/>) accepts every connection and hands it to the
    /// shard serving the fewest connections at that moment: an even spread of long-lived connections, for one message
    /// between shards per connection.</summary>
    LeastLoaded,
}
