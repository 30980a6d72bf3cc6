using Miniss.Net;

namespace Miniss.AspNetCore;

/// <summary>How Kestrel's connections are taken and served on Miniss shards. Every property has a documented default;
/// the runtime itself (shard count, backend, buffer pool) is configured through <c>RuntimeOptions</c> (the
/// <c>Miniss</c> configuration section, or <c>AddMiniss</c>).</summary>
public sealed class MinissTransportOptions
{
    /// <summary>How connections are spread over the shards: every shard listens with <c>SO_REUSEPORT</c> and serves
    /// what it accepts (<see cref="ConnectionDistribution.ReusePort"/>), or one shard (<see cref="AcceptorShard"/>)
    /// accepts and hands each connection to the shard serving the fewest (<see cref="ConnectionDistribution.LeastLoaded"/>).
    /// Unix domain endpoints always use the latter (they cannot share an address). Default:
    /// <see cref="ConnectionDistribution.ReusePort"/>.</summary>
    public ConnectionDistribution Distribution { get; set; } = ConnectionDistribution.ReusePort;

    /// <summary>The shard that accepts every connection with <see cref="ConnectionDistribution.LeastLoaded"/>. Default: 0.</summary>
    public int AcceptorShard { get; set; }

    /// <summary>Whether Kestrel's continuations (HTTP parsing and the application's code that follows a read or a
    /// flush) run inline on the shard, in the transport's receive or send completion, instead of being queued on the
    /// shard's run queue. Both run on the connection's shard; inline saves a queue hop per read, queued lets the shard
    /// interleave connections more finely. Default: true: on plaintext HTTP/1.1 over loopback (wrk, 32 connections, two
    /// shards on two cores) inline served about 5% more requests per CPU-second than queued, within a run-to-run spread
    /// of that order.</summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>Received bytes Kestrel has not consumed yet at which the connection stops receiving (back pressure:
    /// the peer's sends wait in the kernel); receiving resumes once Kestrel has consumed half of them. In bytes;
    /// positive. Default: 1 MiB (Kestrel's own default for its read buffer).</summary>
    public long MaxBufferedInput { get; set; } = 1 << 20;

    /// <summary>Bytes Kestrel has written and the transport has not sent yet at which Kestrel's flushes wait; they
    /// resume once half of them are sent. In bytes; positive. Default: 64 KiB (Kestrel's own default for its write
    /// buffer).</summary>
    public long MaxBufferedOutput { get; set; } = 64 * 1024;

    /// <summary>The size of the blocks of each shard's memory pool, which the connections' pipes are made of, in bytes;
    /// also the largest buffer the pool hands out (larger requests are served by the pipe from the GC heap). At least
    /// 1024. Default: 4096.</summary>
    public int MemoryBlockSize { get; set; } = 4096;

    /// <summary>How many free blocks each shard's memory pool keeps for reuse; blocks returned beyond it go back to the
    /// GC. Default: 4096 (16 MiB per shard with the default block size).</summary>
    public int MaxRetainedBlocks { get; set; } = 4096;

    /// <summary>Whether accepted TCP connections set <c>TCP_NODELAY</c> (Nagle's algorithm off), as a server that
    /// writes whole responses wants. Ignored for Unix domain endpoints. Default: true.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>The listen backlog of each listener (the kernel caps it at <c>net.core.somaxconn</c>). Default: 511.</summary>
    public int Backlog { get; set; } = 511;

    /// <summary>Whether a TCP port another process already listens on may be shared with it (both processes then take
    /// turns at the port's connections through <c>SO_REUSEPORT</c>, as several copies of one server behind one port do).
    /// Default: false: a port in use fails the bind with <see cref="Microsoft.AspNetCore.Connections.AddressInUseException"/>,
    /// as Kestrel's own transport does.</summary>
    public bool ShareAcrossProcesses { get; set; }

    /// <summary>The most connections a listener serves at once, over all shards; when it is reached the shards stop
    /// accepting until a connection ends (new clients wait in the kernel's backlog). <see langword="null"/>: the
    /// process's descriptor budget (see <c>ShardServerOptions.MaxConnections</c>). Kestrel's own
    /// <c>Limits.MaxConcurrentConnections</c> applies on top. Default: <see langword="null"/>.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>The most connections one shard serves at once for a listener; <see langword="null"/>: no limit per
    /// shard. Default: <see langword="null"/>.</summary>
    public int? MaxConnectionsPerShard { get; set; }
}
