using System;

namespace Miniss.Net;

/// <summary>How a <see cref="ShardServer"/> listens and spreads its connections, and the limits it serves them under.
/// Every property has a documented default.</summary>
public sealed class ShardServerOptions
{
    /// <summary>The listeners' options (backlog, address reuse, sharing the port with other processes,
    /// <c>TCP_NODELAY</c> of accepted connections). Default: <see cref="ListenerOptions"/>'s defaults. With
    /// <see cref="ConnectionDistribution.ReusePort"/>, <c>SO_REUSEPORT</c> is set whatever
    /// <see cref="ListenerOptions.ReusePort"/> says.</summary>
    public ListenerOptions Listener { get; init; } = new();

    /// <summary>How connections are spread over the shards. Default: <see cref="ConnectionDistribution.ReusePort"/>.</summary>
    public ConnectionDistribution Distribution { get; init; } = ConnectionDistribution.ReusePort;

    /// <summary>The shard that accepts every connection with <see cref="ConnectionDistribution.LeastLoaded"/>.
    /// Default: 0.</summary>
    public int AcceptorShard { get; init; }

    /// <summary>How long a shard's accept loop first pauses after a failure that more accepting would only repeat
    /// (the process or the system is out of descriptors or memory: <c>EMFILE</c>, <c>ENFILE</c>, <c>ENOBUFS</c>,
    /// <c>ENOMEM</c>). Each failure in a row doubles the pause, up to <see cref="MaxAcceptRetryDelay"/>; the first
    /// accept that succeeds resets it. Meanwhile the kernel keeps new connections in the listen backlog, and the
    /// connections already served go on. Default: 10 ms.</summary>
    public TimeSpan AcceptRetryDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest pause of an accept loop that keeps failing for lack of descriptors or memory (see
    /// <see cref="AcceptRetryDelay"/>): how late, at worst, a shard notices that descriptors are back. Default: 1 s.</summary>
    public TimeSpan MaxAcceptRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The most connections the server serves at once, over all shards. When it is reached, the shards stop
    /// accepting (new clients wait in the kernel's listen backlog, then are refused by the kernel) until a connection
    /// closes. Default: <see langword="null"/>, which means the process's descriptor budget: <c>RLIMIT_NOFILE</c>
    /// less the descriptors open when the server starts, less a headroom of a sixteenth of the limit (at least 24)
    /// that the process keeps for its own files and for the threads the .NET runtime starts (each takes descriptors;
    /// a process that has none left for them aborts). No limit when <c>RLIMIT_NOFILE</c> is unlimited. The limit in
    /// force is <see cref="ShardServer.ConnectionLimit"/>. Set it lower to keep descriptors for the handlers' own
    /// files and outgoing connections.</summary>
    /// <remarks>A connection counts from its accept to the end of its handler; the server never serves more at once.
    /// A few connections may wait accepted and unserved until there is room: those an io_uring multishot accept took
    /// from the kernel just before the limit was reached, and one per shard that accepted while another shard took the
    /// last place.</remarks>
    public int? MaxConnections { get; init; }

    /// <summary>The most connections one shard serves at once. With <see cref="ConnectionDistribution.ReusePort"/> a
    /// shard at its limit stops accepting (the kernel keeps hashing part of the new clients to its listener, where
    /// they wait); with <see cref="ConnectionDistribution.LeastLoaded"/> the acceptor stops when every shard is at its
    /// limit. <see langword="null"/>: no limit per shard. Default: <see langword="null"/>.</summary>
    public int? MaxConnectionsPerShard { get; init; }

    /// <summary>How long a TCP connection may go without receiving a byte before the server closes it (its handler's
    /// pending operations then fail with <see cref="System.Net.Sockets.SocketError.OperationAborted"/>). Measured by
    /// the kernel (<c>TCP_INFO</c>'s time since the last data received), checked by each shard about four times per
    /// timeout; a connection is closed between one and one and a quarter timeouts after its last byte.
    /// <see langword="null"/>: never. Unix domain connections have no such measure and are not timed out. Default:
    /// <see langword="null"/>: the server does not know its protocol, and many (database pools, pub/sub, WebSocket)
    /// keep connections quiet for long periods on purpose; a protocol layer with a request/response rhythm (HTTP)
    /// sets its own timeouts.</summary>
    public TimeSpan? IdleTimeout { get; init; }
}
