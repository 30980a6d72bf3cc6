using System;

namespace Miniss.Net;

/// <summary>How a <see cref="ShardServer"/> listens and spreads its connections. Every property has a documented
/// default.</summary>
public sealed class ShardServerOptions
{
    /// <summary>The listeners' options (backlog, address reuse, <c>TCP_NODELAY</c> of accepted connections). Default:
    /// <see cref="ListenerOptions"/>'s defaults. With <see cref="ConnectionDistribution.ReusePort"/>,
    /// <c>SO_REUSEPORT</c> is set whatever <see cref="ListenerOptions.ReusePort"/> says.</summary>
    public ListenerOptions Listener { get; init; } = new();

    /// <summary>How connections are spread over the shards. Default: <see cref="ConnectionDistribution.ReusePort"/>.</summary>
    public ConnectionDistribution Distribution { get; init; } = ConnectionDistribution.ReusePort;

    /// <summary>The shard that accepts every connection with <see cref="ConnectionDistribution.LeastLoaded"/>.
    /// Default: 0.</summary>
    public int AcceptorShard { get; init; }

    /// <summary>How long the accept loop pauses after a failure that more accepting would only repeat (the process is
    /// out of descriptors or memory). Default: 10 ms.</summary>
    public TimeSpan AcceptRetryDelay { get; init; } = TimeSpan.FromMilliseconds(10);
}
